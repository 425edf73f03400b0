/**
 * Readiness checks for /ready: a fresh training heartbeat, a Redis that answers PING, and any async
 * probe of a store. Each says what it checked and, when failing, what is wrong.
 */
import { Redis } from "ioredis";
import type { CheckResult, ReadinessCheck } from "./http-types.js";

/**
 * Ok while the last training step is at most `maxAgeMs` old, e.g. failing with "no step for 95 s,
 * limit 60 s". `lastBeatMs` returns epoch milliseconds of the last step, undefined before the first.
 * `clock` defaults to Date.now.
 */
export function heartbeatCheck(
  name: string,
  lastBeatMs: () => number | undefined,
  maxAgeMs: number,
  clock: () => number = Date.now,
): ReadinessCheck {
  const limit = formatSeconds(maxAgeMs);
  return {
    name,
    async check(): Promise<CheckResult> {
      const beat = lastBeatMs();
      if (beat === undefined) return { ok: false, detail: `no training step yet, limit ${limit}` };
      const age = Math.max(0, clock() - beat);
      return age <= maxAgeMs
        ? { ok: true, detail: `last step ${formatSeconds(age)} ago, limit ${limit}` }
        : { ok: false, detail: `no step for ${formatSeconds(age)}, limit ${limit}` };
    },
  };
}

/**
 * PINGs the Redis at `url` on a fresh connection (no retries, no offline queue) and always disconnects,
 * so a dead Redis fails the check within `timeoutMs` (default 2000) instead of hanging /ready.
 */
export function redisCheck(url: string, timeoutMs = 2000, name = "redis"): ReadinessCheck {
  const where = redactUrl(url);
  return {
    name,
    async check(): Promise<CheckResult> {
      const client = new Redis(url, {
        lazyConnect: true,
        connectTimeout: timeoutMs,
        commandTimeout: timeoutMs,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      // Without a listener ioredis reports connection errors as unhandled 'error' events.
      client.on("error", () => {});
      try {
        await client.connect();
        const answer = await client.ping();
        return { ok: answer === "PONG", detail: `${where} answered ${answer}` };
      } catch (error) {
        return {
          ok: false,
          detail: `${where} did not answer PING: ${messageOf(error)}; is Redis running and the URL right?`,
        };
      } finally {
        client.disconnect();
      }
    },
  };
}

/** Wraps an async probe of a store (list one experiment, SELECT 1): ok when it resolves. */
export function trackingStoreCheck(probe: () => Promise<void>, name = "tracking_store"): ReadinessCheck {
  return {
    name,
    async check(): Promise<CheckResult> {
      try {
        await probe();
        return { ok: true, detail: "the tracking store answered" };
      } catch (error) {
        return { ok: false, detail: `the tracking store failed: ${messageOf(error)}` };
      }
    },
  };
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) || s >= 10 ? Math.round(s) : s.toFixed(1)} s`;
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return "redis";
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
