import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AsyncRunLogger, replaySpools } from "./async-logger.js";
import { chunkBatch, configHash, TrackingClient } from "./client.js";
import { TrackingError } from "./errors.js";
import { openTrackingStore } from "./open.js";
import type { TrackingStore } from "./store.js";

let dir: string;
let client: TrackingClient;
let experimentId: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cryptoml-tracking-"));
  client = new TrackingClient(await openTrackingStore(`file:${join(dir, "mlruns")}`));
  experimentId = (await client.experiment("unit")).experimentId;
});

afterEach(async () => {
  await client.close();
  await rm(dir, { recursive: true, force: true });
});

/** A store whose calls fail as an unreachable server's would while `down` is set. */
function flaky(store: TrackingStore): TrackingStore & { down: boolean; calls: number } {
  const state = { down: false, calls: 0 };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "down" || prop === "calls") return state[prop];
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        state.calls += 1;
        if (state.down && prop === "logBatch") {
          return Promise.reject(new TrackingError("TEMPORARILY_UNAVAILABLE", "connection refused"));
        }
        return value.apply(target, args);
      };
    },
    set(_target, prop, value) {
      if (prop === "down") state.down = value as boolean;
      return true;
    },
  }) as TrackingStore & { down: boolean; calls: number };
}

describe("TrackingClient", () => {
  it("starts runs with MLflow's system tags and cryptoml's", async () => {
    const run = await client.startRun(experimentId, {
      runName: "r1",
      config: { a: 1 },
      command: ["cryptoml", "train"],
    });
    const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
    expect(tags["mlflow.runName"]).toBe("r1");
    expect(tags["mlflow.user"]).toBeTruthy();
    expect(tags["mlflow.source.name"]).toBe("cryptoml");
    expect(tags["cryptoml.command"]).toBe("cryptoml train");
    expect(tags["cryptoml.config_hash"]).toBe(configHash({ a: 1 }));
    expect(tags["cryptoml.host"]).toBeTruthy();
    expect(run.info.status).toBe("RUNNING");
  });

  it("gives MLflow's error codes for invalid names, non-finite values, param overwrites and unknown runs", async () => {
    const { runId } = (await client.startRun(experimentId)).info;
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: TrackingError) => (e.mlflowCode === undefined ? `not a TrackingError: ${e}` : e.message),
      );
    expect(await code(client.logMetric(runId, "bad*name", 1))).toMatch(
      /^INVALID_PARAMETER_VALUE: .*Invalid metric name: 'bad\*name'/,
    );
    expect(await code(client.logMetric(runId, "../up", 1))).toMatch(/INVALID_PARAMETER_VALUE/);
    expect(await code(client.logMetric(runId, "loss", Number.NaN))).toMatch(
      /INVALID_PARAMETER_VALUE: .*value NaN; metric values must be finite/,
    );
    expect(await code(client.logMetric(runId, "loss", Number.POSITIVE_INFINITY))).toMatch(
      /INVALID_PARAMETER_VALUE/,
    );
    expect(await code(client.logParams(runId, { lr: "0.1" }))).toBe("ok");
    expect(await code(client.logParams(runId, { lr: "0.1" }))).toBe("ok");
    expect(await code(client.logParams(runId, { lr: "0.2" }))).toMatch(
      /^INVALID_PARAMETER_VALUE: .*Changing param values is not allowed.*lr/,
    );
    expect(await code(client.logParams(runId, { big: "x".repeat(6001) }))).toMatch(
      /exceeded length limit of 6000/,
    );
    expect(await code(client.getRun("0123456789abcdef0123456789abcdef"))).toMatch(/^RESOURCE_DOES_NOT_EXIST/);
    expect(await code(client.getRun("not a run id!"))).toMatch(/^INVALID_PARAMETER_VALUE: Invalid run ID/);
  });

  it("marks FAILED the RUNNING runs of dead processes on this host (for stores that cannot see processes)", async () => {
    const alive = await client.startRun(experimentId, { runName: "alive" });
    const dead = await client.startRun(experimentId, { runName: "dead" });
    await client.setTags(dead.info.runId, { "cryptoml.pid": "999999" });
    await client.setTags(alive.info.runId, { "cryptoml.pid": "999998" });
    const failed = await client.markDeadRunsFailed((pid) => pid !== 999999);
    expect(failed).toEqual([dead.info.runId]);
    expect((await client.getRun(dead.info.runId)).info.status).toBe("FAILED");
    expect((await client.getRun(alive.info.runId)).info.status).toBe("RUNNING");
  });

  it("splits batches within MLflow's limits (1000 metrics, 100 params, 100 tags, 1000 in all)", () => {
    const metrics = Array.from({ length: 2500 }, (_, i) => ({ key: "m", value: i, step: i, timestamp: 0 }));
    const params = Array.from({ length: 150 }, (_, i) => ({ key: `p${i}`, value: "v" }));
    const chunks = chunkBatch({ metrics, params, tags: [] });
    for (const c of chunks) {
      expect(c.metrics.length).toBeLessThanOrEqual(1000);
      expect(c.params.length).toBeLessThanOrEqual(100);
      expect(c.metrics.length + c.params.length + c.tags.length).toBeLessThanOrEqual(1000);
    }
    expect(chunks.reduce((t, c) => t + c.metrics.length, 0)).toBe(2500);
    expect(chunks.reduce((t, c) => t + c.params.length, 0)).toBe(150);
  });
});

describe("AsyncRunLogger", () => {
  it("delivers everything in order, in batches", async () => {
    const { runId } = (await client.startRun(experimentId)).info;
    const logger = new AsyncRunLogger(client, runId, { spoolDir: join(dir, "spool"), flushIntervalMs: 20 });
    for (let step = 0; step < 2500; step++) logger.logMetric("loss", 1 / (step + 1), step, 1000 + step);
    logger.logParams({ lr: "0.01" });
    expect(await logger.close()).toBe(true);
    const history = await client.metricHistory(runId, "loss");
    expect(history.map((m) => m.step)).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    expect((await client.getRun(runId)).data.params).toEqual([{ key: "lr", value: "0.01" }]);
  });

  it("refuses invalid records at the call, not later in the background", async () => {
    const { runId } = (await client.startRun(experimentId)).info;
    const logger = new AsyncRunLogger(client, runId, { spoolDir: join(dir, "spool") });
    expect(() => logger.logMetric("loss", Number.NaN, 1)).toThrow(/finite/);
    await logger.close();
  });

  it("reports a record the store refuses at the next flush, without crashing the background timer", async () => {
    const { runId } = (await client.startRun(experimentId)).info;
    await client.logParams(runId, { lr: "0.1" });
    const logger = new AsyncRunLogger(client, runId, { spoolDir: join(dir, "spool"), flushIntervalMs: 5 });
    logger.logParams({ lr: "0.2" });
    await new Promise((r) => setTimeout(r, 50));
    await expect(logger.close()).rejects.toThrow(/Changing param values is not allowed/);
  });

  it("spools to disk while the store is unreachable and loses nothing when it returns", async () => {
    const store = flaky(client.store);
    const flakyClient = new TrackingClient(store);
    const { runId } = (await flakyClient.startRun(experimentId)).info;
    const notices: string[] = [];
    const logger = new AsyncRunLogger(flakyClient, runId, {
      spoolDir: join(dir, "spool"),
      flushIntervalMs: 10,
      maxRetryDelayMs: 50,
      log: (l) => notices.push(l),
    });
    for (let step = 0; step < 300; step++) logger.logMetric("loss", step, step);
    await logger.flush();
    store.down = true;
    for (let step = 300; step < 900; step++) logger.logMetric("loss", step, step);
    expect(await logger.flush(200)).toBe(false);
    expect(notices.join("\n")).toMatch(/unreachable; buffering records in .*spool/);
    store.down = false;
    for (let step = 900; step < 1000; step++) logger.logMetric("loss", step, step);
    expect(await logger.close(5000)).toBe(true);
    const steps = (await client.metricHistory(runId, "loss")).map((m) => m.step);
    expect(steps).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(notices.join("\n")).toMatch(/reachable again/);
  });

  it("leaves undelivered records in the spool for the next process, which sends them", async () => {
    const store = flaky(client.store);
    const flakyClient = new TrackingClient(store);
    const { runId } = (await flakyClient.startRun(experimentId)).info;
    const spoolDir = join(dir, "spool");
    const logger = new AsyncRunLogger(flakyClient, runId, { spoolDir, flushIntervalMs: 10 });
    store.down = true;
    for (let step = 0; step < 50; step++) logger.logMetric("acc", step / 50, step);
    expect(await logger.close(0)).toBe(false);
    expect(await client.metricHistory(runId, "acc")).toEqual([]);
    // The next process opens tracking and replays the spool.
    expect(await replaySpools(client, spoolDir)).toEqual([runId]);
    expect((await client.metricHistory(runId, "acc")).length).toBe(50);
    expect(await replaySpools(client, spoolDir)).toEqual([]);
  });
});
