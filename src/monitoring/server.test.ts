import { afterEach, describe, expect, it } from "vitest";
import { CryptomlError } from "../core/errors.js";
import { METRICS } from "./catalog.js";
import type { ReadinessCheck, Route } from "./http-types.js";
import { type CryptomlMetrics, createMetricsRegistry } from "./registry.js";
import { type MetricsServer, startMetricsServer } from "./server.js";

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(
  extra: Partial<Parameters<typeof startMetricsServer>[0]> = {},
): Promise<{ server: MetricsServer; metrics: CryptomlMetrics }> {
  const metrics = extra.registry ?? createMetricsRegistry({ command: "test", version: "9.9.9" });
  const server = await startMetricsServer({ port: 0, registry: metrics, ...extra });
  servers.push(server);
  return { server, metrics };
}

const check = (name: string, ok: boolean, detail: string): ReadinessCheck => ({
  name,
  check: async () => ({ ok, detail }),
});

/** Metric family names in a text exposition: HELP lines plus sample names. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const help = /^# HELP (\S+)/.exec(line);
    if (help?.[1] !== undefined) names.add(help[1]);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{|\s)/.exec(line);
    if (sample?.[1] !== undefined) names.add(sample[1]);
  }
  return names;
}

function setOneSeries(metrics: CryptomlMetrics): void {
  for (const spec of METRICS) {
    const labels = Object.fromEntries(spec.labels.map((l) => [l, "x"]));
    if (spec.type === "counter") metrics.counter(spec.name as never).inc(labels as never);
    else if (spec.type === "gauge") metrics.gauge(spec.name as never).set(labels as never, 1);
    else metrics.histogram(spec.name as never).observe(labels as never, 0.01);
  }
}

describe("startMetricsServer", () => {
  it("binds 127.0.0.1 on an ephemeral port by default", async () => {
    const { server } = await start();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
  });

  it("serves text 0.0.4 by default and OpenMetrics when the Accept header asks for it", async () => {
    const { server, metrics } = await start();
    metrics.counter("cryptoml_training_steps_total").inc({ symbol: "BTCUSDT", model: "lstm" }, 3);
    const text = await fetch(`${server.url}/metrics`);
    expect(text.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const body = await text.text();
    expect(body).toContain("# TYPE cryptoml_training_steps_total counter");
    expect(body).toContain('cryptoml_training_steps_total{symbol="BTCUSDT",model="lstm"} 3');
    expect(body).toContain('cryptoml_build_info{version="9.9.9",command="test"} 1');

    const open = await fetch(`${server.url}/metrics`, {
      headers: { accept: "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5" },
    });
    expect(open.headers.get("content-type")).toBe(
      "application/openmetrics-text; version=1.0.0; charset=utf-8",
    );
    const openBody = await open.text();
    expect(openBody).toContain("# TYPE cryptoml_training_steps counter");
    expect(openBody).toContain('cryptoml_training_steps_total{symbol="BTCUSDT",model="lstm"} 3');
    expect(openBody.endsWith("# EOF\n")).toBe(true);

    // An OpenMetrics scrape must not rename the shared counters for later text scrapes.
    const again = await (await fetch(`${server.url}/metrics`)).text();
    expect(again).toContain("# TYPE cryptoml_training_steps_total counter");
  });

  it("exposes every catalog metric: unlabelled ones at once, labelled ones once set", async () => {
    const { server, metrics } = await start();
    const unlabelled = METRICS.filter((m) => m.labels.length === 0).map((m) => m.name);
    const first = exposedNames(await (await fetch(`${server.url}/metrics`)).text());
    for (const name of unlabelled) expect(first, name).toContain(name);
    expect(first).toContain("process_cpu_seconds_total");
    expect(first).toContain("nodejs_eventloop_lag_seconds");

    setOneSeries(metrics);
    const all = exposedNames(await (await fetch(`${server.url}/metrics`)).text());
    for (const spec of METRICS) {
      expect(all, spec.name).toContain(spec.name);
      if (spec.type === "histogram") expect(all).toContain(`${spec.name}_bucket`);
    }
  });

  it("answers /health with uptime from the injected clock", async () => {
    let now = 1_000;
    const { server } = await start({ clock: () => now });
    now = 3_500;
    const response = await fetch(`${server.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", uptime_s: 2.5 });
  });

  it("answers /ready 200 when every check passes and 503 with details otherwise", async () => {
    const good = await start({ checks: [check("store", true, "answered")] });
    const ok = await fetch(`${good.server.url}/ready`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      status: "ready",
      checks: [{ name: "store", ok: true, detail: "answered" }],
    });

    const hanging: ReadinessCheck = { name: "slow", check: () => new Promise(() => {}) };
    const throwing: ReadinessCheck = {
      name: "boom",
      check: async () => {
        throw new Error("disk on fire");
      },
    };
    const bad = await start({
      checks: [
        check("store", true, "answered"),
        check("heartbeat", false, "no step for 95 s, limit 60 s"),
        hanging,
        throwing,
      ],
      checkTimeoutMs: 50,
    });
    const notReady = await fetch(`${bad.server.url}/ready`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({
      status: "not ready",
      checks: [
        { name: "store", ok: true, detail: "answered" },
        { name: "heartbeat", ok: false, detail: "no step for 95 s, limit 60 s" },
        { name: "slow", ok: false, detail: "no answer within 50 ms" },
        { name: "boom", ok: false, detail: "check failed: disk on fire" },
      ],
    });
  });

  describe("routes and tokens", () => {
    const seen: string[] = [];
    const ack: Route = {
      method: "POST",
      path: "/api/alerts/ack",
      requiresToken: true,
      handle: async ({ body }) => {
        seen.push(body);
        return { status: 200, body: JSON.stringify({ acknowledged: true }) };
      },
    };
    const list: Route = {
      method: "GET",
      path: "/api/alerts",
      requiresToken: false,
      handle: async ({ url }) => ({
        status: 200,
        contentType: "text/plain",
        body: `alerts ${url.searchParams.get("q")}`,
      }),
    };

    it("passes requests with the right bearer token and refuses others with 401", async () => {
      const { server } = await start({ routes: [ack, list], token: "s3cret" });
      const post = (headers: Record<string, string>) =>
        fetch(`${server.url}/api/alerts/ack`, { method: "POST", body: '{"id":"a1"}', headers });
      expect((await post({})).status).toBe(401);
      const wrong = await post({ authorization: "Bearer nope" });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get("www-authenticate")).toContain("Bearer");
      const right = await post({ authorization: "Bearer s3cret" });
      expect(right.status).toBe(200);
      expect(await right.json()).toEqual({ acknowledged: true });
      expect(seen).toEqual(['{"id":"a1"}']);
      const open = await fetch(`${server.url}/api/alerts?q=firing`);
      expect(await open.text()).toBe("alerts firing");
    });

    it("answers 403 naming CRYPTOML_MONITOR_TOKEN when no token is configured", async () => {
      const { server } = await start({ routes: [ack] });
      const response = await fetch(`${server.url}/api/alerts/ack`, {
        method: "POST",
        headers: { authorization: "Bearer anything" },
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: string }).error).toContain("CRYPTOML_MONITOR_TOKEN");
    });

    it("answers 404 for unknown paths and 405 with Allow for wrong methods", async () => {
      const { server } = await start({ routes: [ack] });
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
      const getAck = await fetch(`${server.url}/api/alerts/ack`);
      expect(getAck.status).toBe(405);
      expect(getAck.headers.get("allow")).toBe("POST");
      const postMetrics = await fetch(`${server.url}/metrics`, { method: "POST" });
      expect(postMetrics.status).toBe(405);
      expect(postMetrics.headers.get("allow")).toBe("GET, HEAD");
    });

    it("refuses bodies over the limit with 413", async () => {
      const { server } = await start({ routes: [ack], token: "t", maxBodyBytes: 16 });
      const response = await fetch(`${server.url}/api/alerts/ack`, {
        method: "POST",
        headers: { authorization: "Bearer t" },
        body: "x".repeat(1000),
      });
      expect(response.status).toBe(413);
    });
  });

  it("turns a handler's error into a 500, counts it, and keeps serving", async () => {
    const lines: string[] = [];
    const failing: Route = {
      method: "GET",
      path: "/fail",
      requiresToken: false,
      handle: async () => {
        throw new Error("handler broke");
      },
    };
    const { server } = await start({ routes: [failing], log: (l) => lines.push(l) });
    const response = await fetch(`${server.url}/fail`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "handler broke" });
    expect(lines.join("\n")).toContain("handler broke");
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('cryptoml_errors_total{component="monitoring"} 1');
  });

  it("reports a taken port as a CryptomlError that says how to choose another", async () => {
    const { server } = await start();
    const error = await startMetricsServer({
      port: server.port,
      registry: createMetricsRegistry({ command: "test", version: "0" }),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CryptomlError);
    expect((error as CryptomlError).message).toContain(`port ${server.port} on 127.0.0.1 is already in use`);
    expect((error as CryptomlError).hint).toContain("--metrics-port");
    expect((error as CryptomlError).hint).toContain("monitoring.port");
  });
});
