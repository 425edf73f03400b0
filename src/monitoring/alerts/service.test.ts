import { describe, expect, it } from "vitest";
import type { AlertRule } from "../rules/types.js";
import { alertRoutes } from "./api.js";
import { MonitorService } from "./service.js";
import type { Receiver } from "./types.js";

const RULE: AlertRule = {
  name: "LossNotFinite",
  condition: { kind: "not_finite", metric: "loss" },
  forMs: 0,
  summary: "s",
  description: "d",
  levels: [{ severity: "critical", afterMs: 0, receivers: ["broken"], repeatMs: 60_000 }],
};

const metricsFetch = (async () => new Response('loss{symbol="BTCUSDT"} NaN\n')) as unknown as typeof fetch;
const broken: Receiver = {
  name: "broken",
  send: async () => {
    throw new Error("boom");
  },
};

function service(log: string[] = []) {
  const now = { ms: 0 };
  const s = new MonitorService({
    targets: ["http://t:1/metrics"],
    rules: [RULE],
    receivers: [broken],
    fetch: metricsFetch,
    clock: () => now.ms,
    log: (l) => log.push(l),
    newSilenceId: () => "sil-1",
  });
  return { s, now, routes: alertRoutes(s, () => now.ms) };
}

const call = (routes: ReturnType<typeof service>["routes"], method: string, path: string, body = "") => {
  const url = new URL(`http://x${path}`);
  const route = routes.find((r) => r.method === method && r.path === url.pathname);
  if (!route) throw new Error(`no route ${method} ${path}`);
  return route.handle({ url, body, raw: undefined as never });
};

describe("MonitorService", () => {
  it("a failing receiver is logged and counted, never thrown", async () => {
    const log: string[] = [];
    const { s } = service(log);
    const round = await s.evaluate();
    expect(round).toMatchObject({ firing: 1, failedDeliveries: 1 });
    expect(s.failures.get("broken")).toBe(1);
    expect(log).toContain("notification to broken failed: boom");
  });

  it("refuses rules whose levels name a receiver that is not configured", () => {
    expect(() => new MonitorService({ targets: [], rules: [RULE], receivers: [] })).toThrow(
      'alert rule LossNotFinite, level critical: receiver "broken" is not configured',
    );
  });
});

describe("alertRoutes", () => {
  it("marks the state-changing routes as needing the token", () => {
    const { routes } = service();
    expect(routes.filter((r) => r.requiresToken).map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /api/alerts/ack",
      "POST /api/silences",
      "DELETE /api/silences",
    ]);
  });

  it("answers bad requests with 400 and what to send, unknown alerts with 404", async () => {
    const { s, routes } = service();
    await s.evaluate();
    const notJson = await call(routes, "POST", "/api/alerts/ack", "{");
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body)).toMatchObject({ error: "the request body is not JSON" });
    const badFp = await call(routes, "POST", "/api/alerts/ack", JSON.stringify({ fingerprint: "xyz" }));
    expect(badFp.status).toBe(400);
    expect(JSON.parse(badFp.body).error).toContain("fingerprint: must be 16 hex digits");
    const unknown = await call(
      routes,
      "POST",
      "/api/alerts/ack",
      JSON.stringify({ fingerprint: "0123456789abcdef" }),
    );
    expect(unknown.status).toBe(404);
    const noEnd = await call(routes, "POST", "/api/silences", JSON.stringify({ matchers: { a: "b" } }));
    expect(noEnd.status).toBe(400);
    expect(JSON.parse(noEnd.body).error).toContain("either duration or endsAt");
    const empty = await call(
      routes,
      "POST",
      "/api/silences",
      JSON.stringify({ matchers: {}, duration: "1h" }),
    );
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.body).error).toContain("at least one matcher");
    // An empty matcher set would acknowledge every firing alert at once.
    const emptyAck = await call(routes, "POST", "/api/alerts/ack", JSON.stringify({ matchers: {} }));
    expect(emptyAck.status).toBe(400);
    expect(JSON.parse(emptyAck.body)).toMatchObject({
      error: expect.stringContaining("matchers: must have at least one matcher"),
      hint: expect.stringContaining("send e.g."),
    });
    expect((await call(routes, "DELETE", "/api/silences")).status).toBe(400);
  });

  it("creates, lists and expires silences; GET /api/alerts filters by fingerprint", async () => {
    const { s, routes, now } = service();
    await s.evaluate();
    const created = await call(
      routes,
      "POST",
      "/api/silences",
      JSON.stringify({ matchers: { symbol: "BTCUSDT" }, duration: "30m" }),
    );
    expect(JSON.parse(created.body).silence).toMatchObject({
      id: "sil-1",
      startsAtMs: 0,
      endsAtMs: 1_800_000,
    });
    const alerts = JSON.parse((await call(routes, "GET", "/api/alerts")).body).alerts;
    expect(alerts[0].silencedBy).toEqual(["sil-1"]);
    const fp = alerts[0].fingerprint as string;
    expect(JSON.parse((await call(routes, "GET", `/api/alerts?fingerprint=${fp}`)).body).alerts).toHaveLength(
      1,
    );
    expect(
      JSON.parse((await call(routes, "GET", "/api/alerts?fingerprint=0000000000000000")).body).alerts,
    ).toHaveLength(0);
    now.ms = 60_000;
    expect((await call(routes, "DELETE", "/api/silences?id=sil-1")).status).toBe(200);
    expect(JSON.parse((await call(routes, "GET", "/api/silences")).body).silences).toEqual([]);
  });
});
