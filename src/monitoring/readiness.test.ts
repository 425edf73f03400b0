import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { heartbeatCheck, redisCheck, trackingStoreCheck } from "./readiness.js";

/** A local port that nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

describe("heartbeatCheck", () => {
  it("passes while the last step is fresh and fails with its age once stale", async () => {
    let now = 100_000;
    let beat: number | undefined;
    const check = heartbeatCheck(
      "training_heartbeat",
      () => beat,
      60_000,
      () => now,
    );
    expect(check.name).toBe("training_heartbeat");
    expect(await check.check()).toEqual({ ok: false, detail: "no training step yet, limit 60 s" });
    beat = 95_000;
    expect(await check.check()).toEqual({ ok: true, detail: "last step 5 s ago, limit 60 s" });
    now = 95_000 + 95_000;
    expect(await check.check()).toEqual({ ok: false, detail: "no step for 95 s, limit 60 s" });
    now = 95_000 + 60_000;
    expect((await check.check()).ok).toBe(true);
  });
});

describe("redisCheck", () => {
  it("passes against the Redis at 127.0.0.1:6379", async () => {
    const result = await redisCheck("redis://127.0.0.1:6379").check();
    expect(result).toEqual({ ok: true, detail: "redis://127.0.0.1:6379 answered PONG" });
  });

  it("fails against a closed port (no retries), naming the URL without its password", async () => {
    const port = await closedPort();
    const result = await redisCheck(`redis://:hunter2@127.0.0.1:${port}`, 1000).check();
    expect(result.ok).toBe(false);
    expect(result.detail).toContain(`redis://:***@127.0.0.1:${port} did not answer PING`);
    expect(result.detail).not.toContain("hunter2");
  });
});

describe("trackingStoreCheck", () => {
  it("passes when the probe resolves and reports its error when it rejects", async () => {
    expect(await trackingStoreCheck(async () => {}).check()).toEqual({
      ok: true,
      detail: "the tracking store answered",
    });
    const failing = trackingStoreCheck(async () => {
      throw new Error("SQLITE_BUSY: database is locked");
    }, "store");
    expect(failing.name).toBe("store");
    expect(await failing.check()).toEqual({
      ok: false,
      detail: "the tracking store failed: SQLITE_BUSY: database is locked",
    });
  });
});
