/**
 * `cryptoml monitor`'s escalation end to end with a controllable clock: a local /metrics server with a
 * NaN loss, a local webhook receiver, the monitor's API served by the real metrics server. A NaN loss
 * fires within one evaluation, climbs warning → critical → page while unacknowledged, stops after an
 * acknowledgement through the API (bearer token), and resolves with one resolved notification.
 */
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { alertingSchema } from "../../src/config/schema/alerting.js";
import { createMonitor } from "../../src/monitoring/alerts/from-config.js";
import type { WebhookPayloadV4 } from "../../src/monitoring/alerts/receivers.js";
import { createMetricsRegistry } from "../../src/monitoring/registry.js";
import { startMetricsServer } from "../../src/monitoring/server.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const MIN = 60_000;
const T0 = Date.parse("2026-01-01T03:00:00Z");
const TOKEN = "s3cret-token";
const NAN_LOSS =
  '# TYPE cryptoml_training_step_loss gauge\ncryptoml_training_step_loss{symbol="BTCUSDT",model="lstm"} NaN\n';
const FINE_LOSS =
  '# TYPE cryptoml_training_step_loss gauge\ncryptoml_training_step_loss{symbol="BTCUSDT",model="lstm"} 0.42\n';

const tempDir = useTempDirs();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A /metrics endpoint serving whatever `metrics.text` holds. */
async function metricsTarget(): Promise<{ url: string; text: string }> {
  const state = { url: "", text: NAN_LOSS };
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(state.text);
  });
  state.url = `${await listen(server)}/metrics`;
  return state;
}

/** A webhook receiver that keeps every JSON body POSTed to it. */
async function webhookSink(): Promise<{ url: string; payloads: WebhookPayloadV4[] }> {
  const payloads: WebhookPayloadV4[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      payloads.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.writeHead(200).end();
    });
  });
  return { url: `${await listen(server)}/hook`, payloads };
}

/** The real TrainingLossNotFinite rule, its levels routed to the webhook too through a rules file. */
function rulesFile(): string {
  const path = join(tempDir(), "rules.yaml");
  writeFileSync(
    path,
    [
      "rules:",
      "  - name: TrainingLossNotFinite",
      "    levels:",
      "      - { severity: warning, after: 0s, receivers: [log, webhook], repeat: 10m }",
      "      - { severity: critical, after: 15m, receivers: [log, webhook], repeat: 10m }",
      "      - { severity: page, after: 30m, receivers: [log, webhook], repeat: 5m }",
    ].join("\n"),
  );
  return path;
}

async function startMonitor() {
  const target = await metricsTarget();
  const hook = await webhookSink();
  const clock = { now: T0 };
  const logLines: string[] = [];
  const config = alertingSchema.parse({
    targets: [target.url],
    rules_file: rulesFile(),
    receivers: { webhook: { url: hook.url, retries: 0 } },
  });
  const monitor = await createMonitor(config, { log: (l) => logLines.push(l), clock: () => clock.now });
  const server = await startMetricsServer({
    port: 0,
    registry: createMetricsRegistry({ command: "monitor", version: "test", defaultMetrics: false }),
    routes: monitor.routes,
    token: TOKEN,
  });
  closers.push(() => server.close());
  const api = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
  /** Moves the clock to `minutes` after T0 and runs one evaluation. */
  const at = async (minutes: number) => {
    clock.now = T0 + minutes * MIN;
    return monitor.service.evaluate();
  };
  return { target, hook, logLines, api, at, monitor };
}

const severities = (payloads: readonly WebhookPayloadV4[]) =>
  payloads.map((p) => `${p.status}:${p.alerts.map((a) => a.labels.severity).join(",")}`);

describe("cryptoml monitor escalation", () => {
  it("fires on a NaN loss within one evaluation, escalates, stops when acknowledged, resolves once", async () => {
    const { hook, logLines, api, at, target } = await startMonitor();
    const first = await at(0);
    expect(first.firing).toBe(1);
    expect(hook.payloads).toHaveLength(1);
    const payload = hook.payloads[0] as WebhookPayloadV4;
    expect(payload).toMatchObject({
      version: "4",
      status: "firing",
      receiver: "webhook",
      truncatedAlerts: 0,
      groupKey: '{}:{alertname="TrainingLossNotFinite"}',
      groupLabels: { alertname: "TrainingLossNotFinite" },
      commonLabels: {
        alertname: "TrainingLossNotFinite",
        severity: "warning",
        symbol: "BTCUSDT",
        model: "lstm",
      },
    });
    expect(Object.keys(payload).sort()).toEqual(
      [
        "alerts",
        "commonAnnotations",
        "commonLabels",
        "externalURL",
        "groupKey",
        "groupLabels",
        "receiver",
        "status",
        "truncatedAlerts",
        "version",
      ].sort(),
    );
    const alert = payload.alerts[0];
    expect(Object.keys(alert ?? {}).sort()).toEqual(
      ["annotations", "endsAt", "fingerprint", "generatorURL", "labels", "startsAt", "status"].sort(),
    );
    expect(alert).toMatchObject({
      status: "firing",
      startsAt: new Date(T0).toISOString(),
      endsAt: "0001-01-01T00:00:00Z",
      annotations: { summary: "Training loss of BTCUSDT/lstm is not finite" },
    });
    expect(alert?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(alert?.labels.instance).toBe(new URL(target.url).host);
    expect(logLines.some((l) => l.startsWith("[firing] TrainingLossNotFinite warning"))).toBe(true);

    await at(5); // nothing new
    await at(10); // repeat at warning
    await at(15); // critical
    await at(30); // page
    expect(severities(hook.payloads)).toEqual([
      "firing:warning",
      "firing:warning",
      "firing:critical",
      "firing:page",
    ]);

    const listed = (await (await api("/api/alerts", {}, null)).json()) as {
      alerts: { fingerprint: string; severity: string; acknowledged: unknown }[];
    };
    expect(listed.alerts).toMatchObject([
      { fingerprint: alert?.fingerprint, severity: "page", acknowledged: null },
    ]);

    const ackBody = JSON.stringify({
      fingerprint: alert?.fingerprint,
      by: "ana",
      comment: "lowering the LR",
    });
    expect((await api("/api/alerts/ack", { method: "POST", body: ackBody }, null)).status).toBe(401);
    expect((await api("/api/alerts/ack", { method: "POST", body: ackBody }, "wrong")).status).toBe(401);
    const acked = await api("/api/alerts/ack", { method: "POST", body: ackBody });
    expect(acked.status).toBe(200);
    expect(await acked.json()).toMatchObject({
      acknowledged: [{ acknowledged: { by: "ana", comment: "lowering the LR" } }],
    });

    for (const m of [35, 40, 60, 120]) await at(m);
    expect(hook.payloads).toHaveLength(4); // no repeats, no escalation after the acknowledgement

    target.text = FINE_LOSS;
    const resolved = await at(121);
    expect(resolved.firing).toBe(0);
    expect(hook.payloads).toHaveLength(5);
    expect(hook.payloads[4]).toMatchObject({
      status: "resolved",
      alerts: [
        {
          status: "resolved",
          fingerprint: alert?.fingerprint,
          endsAt: new Date(T0 + 121 * MIN).toISOString(),
        },
      ],
    });
    await at(130);
    expect(hook.payloads).toHaveLength(5);
  });

  it("a silence mutes the alert but keeps it visible; expiring it lets notifications through", async () => {
    const { hook, api, at } = await startMonitor();
    const body = JSON.stringify({ matchers: { symbol: "BTCUSDT" }, duration: "1h", comment: "maintenance" });
    expect((await api("/api/silences", { method: "POST", body }, null)).status).toBe(401);
    const created = await api("/api/silences", { method: "POST", body });
    expect(created.status).toBe(201);
    const { silence } = (await created.json()) as { silence: { id: string; endsAtMs: number } };
    expect(silence.endsAtMs).toBe(T0 + 60 * MIN);

    await at(0);
    await at(16);
    expect(hook.payloads).toHaveLength(0);
    const listed = (await (await api("/api/alerts")).json()) as {
      alerts: { silencedBy: string[]; severity: string }[];
    };
    expect(listed.alerts).toMatchObject([{ silencedBy: [silence.id], severity: "critical" }]);
    expect(((await (await api("/api/silences")).json()) as { silences: unknown[] }).silences).toHaveLength(1);

    expect((await api(`/api/silences?id=${silence.id}`, { method: "DELETE" }, null)).status).toBe(401);
    expect((await api(`/api/silences?id=${silence.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await api("/api/silences?id=nope", { method: "DELETE" })).status).toBe(404);
    await at(17);
    expect(severities(hook.payloads)).toEqual(["firing:critical"]);
  });

  it("a target that cannot be scraped is reported in the API, not fatal", async () => {
    const { api, at, monitor, logLines } = await startMonitor();
    const broken = alertingSchema.parse({ targets: ["http://127.0.0.1:1/metrics"] });
    const lonely = await createMonitor(broken, { log: (l) => logLines.push(l) });
    const round = await lonely.service.evaluate();
    expect(round).toMatchObject({ targetsUp: 0, targetsDown: 1 });
    expect(lonely.service.targets()[0]).toMatchObject({ up: false, target: "http://127.0.0.1:1/metrics" });
    expect(logLines.some((l) => l.startsWith("target http://127.0.0.1:1/metrics is down"))).toBe(true);
    await at(0);
    const listed = (await (await api("/api/alerts")).json()) as { targets: { up: boolean }[] };
    expect(listed.targets).toMatchObject([{ up: true }]);
    expect(monitor.service.failures.size).toBe(0);
  });
});
