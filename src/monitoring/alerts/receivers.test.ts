import { describe, expect, it } from "vitest";
import { logReceiver, slackMessage, webhookPayload, webhookReceiver } from "./receivers.js";
import type { Notification } from "./types.js";

const NOTIFICATION: Notification = {
  receiver: "webhook",
  groupKey: '{}:{alertname="DiskHigh"}',
  groupLabels: { alertname: "DiskHigh" },
  status: "firing",
  alerts: [
    {
      status: "firing",
      fingerprint: "0123456789abcdef",
      labels: { alertname: "DiskHigh", severity: "critical", path: "/data", instance: "a:1" },
      annotations: { summary: "Disk /data full", description: "delete runs" },
      startsAtMs: Date.parse("2026-01-01T00:00:00Z"),
    },
    {
      status: "resolved",
      fingerprint: "fedcba9876543210",
      labels: { alertname: "DiskHigh", severity: "warning", path: "/runs", instance: "a:1" },
      annotations: { summary: "Disk /runs full", description: "delete runs" },
      startsAtMs: Date.parse("2026-01-01T00:00:00Z"),
      endsAtMs: Date.parse("2026-01-01T01:00:00Z"),
    },
  ],
};

/** A fetch that answers with the given statuses in turn (a thrown Error for "down") and records calls. */
function scriptedFetch(statuses: (number | "down")[]) {
  const calls: { url: string; body: unknown }[] = [];
  const doFetch = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), body: JSON.parse(String(init?.body)) });
    const status = statuses.shift() ?? 200;
    if (status === "down") throw new TypeError("fetch failed");
    return new Response("", { status });
  }) as typeof fetch;
  return { calls, doFetch };
}

describe("receivers", () => {
  it("builds Alertmanager v4 payloads with common labels and annotations", () => {
    const payload = webhookPayload(NOTIFICATION, "http://127.0.0.1:9465");
    expect(payload).toMatchObject({
      version: "4",
      groupKey: '{}:{alertname="DiskHigh"}',
      truncatedAlerts: 0,
      status: "firing",
      receiver: "webhook",
      commonLabels: { alertname: "DiskHigh", instance: "a:1" },
      commonAnnotations: { description: "delete runs" },
      externalURL: "http://127.0.0.1:9465",
    });
    expect(payload.alerts[0]).toEqual({
      status: "firing",
      labels: NOTIFICATION.alerts[0]?.labels,
      annotations: NOTIFICATION.alerts[0]?.annotations,
      startsAt: "2026-01-01T00:00:00.000Z",
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: "http://127.0.0.1:9465/api/alerts?fingerprint=0123456789abcdef",
      fingerprint: "0123456789abcdef",
    });
    expect(payload.alerts[1]?.endsAt).toBe("2026-01-01T01:00:00.000Z");
  });

  it("Slack messages colour each alert by severity, resolved in green", () => {
    const message = slackMessage(NOTIFICATION);
    expect(message.text).toBe("[FIRING:2] DiskHigh");
    expect(message.attachments.map((a) => a.color)).toEqual(["#d00000", "#2eb886"]);
    expect(message.attachments[0]?.title).toBe("[firing critical] Disk /data full");
  });

  it("retries 5xx and network errors with doubling backoff, then succeeds", async () => {
    const { calls, doFetch } = scriptedFetch([503, "down", 200]);
    const waits: number[] = [];
    const receiver = webhookReceiver("webhook", "http://hook/x", "http://me", {
      fetch: doFetch,
      sleep: async (ms) => {
        waits.push(ms);
      },
      backoffMs: 100,
    });
    await receiver.send(NOTIFICATION);
    expect(calls).toHaveLength(3);
    expect(waits).toEqual([100, 200]);
    expect(calls[0]?.body).toMatchObject({ version: "4" });
  });

  it("gives up after the retries, and at once on a 4xx, with an error naming receiver and URL", async () => {
    const sleep = async () => {};
    const failing = scriptedFetch([500, 500, 500]);
    await expect(
      webhookReceiver("webhook", "http://hook/x", "http://me", {
        fetch: failing.doFetch,
        sleep,
        retries: 2,
      }).send(NOTIFICATION),
    ).rejects.toThrow("receiver webhook: POST http://hook/x failed (HTTP 500)");
    expect(failing.calls).toHaveLength(3);
    const rejected = scriptedFetch([400]);
    await expect(
      webhookReceiver("webhook", "http://hook/x", "http://me", { fetch: rejected.doFetch, sleep }).send(
        NOTIFICATION,
      ),
    ).rejects.toThrow("(HTTP 400)");
    expect(rejected.calls).toHaveLength(1);
  });

  it("the log receiver writes a line per alert", async () => {
    const lines: string[] = [];
    await logReceiver((l) => lines.push(l)).send(NOTIFICATION);
    expect(lines).toEqual([
      "[firing] DiskHigh critical 0123456789abcdef path=/data instance=a:1: Disk /data full",
      "[resolved] DiskHigh warning fedcba9876543210 path=/runs instance=a:1: Disk /runs full",
    ]);
  });
});
