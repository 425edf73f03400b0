/**
 * The TrackingStore contract: one suite, run against every store, so the embedded store and a real MLflow
 * server hold and answer the same things. The MLflow side starts `mlflow server` from the peers venv
 * (`npm run test:peers` installs it; test/helpers/mlflow-server.ts), once for the file.
 *
 * Cases use unique names, so they share a store (and a server) without seeing each other's data.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTransient, TrackingError } from "../../src/tracking/errors.js";
import type { TrackingStore } from "../../src/tracking/store.js";
import { MlflowRestStore } from "../../src/tracking/stores/mlflow-rest.js";
import { SqliteTrackingStore } from "../../src/tracking/stores/sqlite.js";
import type { Metric, Run, Tag } from "../../src/tracking/types.js";
import { type MlflowServer, startMlflowServer } from "../helpers/mlflow-server.js";

interface StoreUnderTest {
  readonly store: TrackingStore;
  dispose(): Promise<void>;
}

let counter = 0;
/** Unique per case and per file run, so cases sharing one server never collide. */
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;

async function rejection(promise: Promise<unknown>): Promise<TrackingError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TrackingError);
  return error as TrackingError;
}

const tagValue = (tags: readonly Tag[], key: string) => tags.find((t) => t.key === key)?.value;
const NO_SUCH_RUN = "0123456789abcdef0123456789abcdef";

function trackingContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`TrackingStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: TrackingStore;
    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    }, 120_000);
    afterAll(async () => {
      await subject?.dispose();
    });

    const newRun = async (experimentId: string, runName?: string, tags: Tag[] = []): Promise<Run> =>
      store.createRun({ experimentId, runName, startTime: Date.now(), tags });

    it("creates experiments, finds them by id and name, and refuses duplicate names", async () => {
      const name = unique("exp");
      const id = await store.createExperiment(name, [{ key: "team", value: "quant" }]);
      const byId = await store.getExperiment(id);
      expect(byId).toMatchObject({ experimentId: id, name, lifecycleStage: "active" });
      expect(tagValue(byId.tags, "team")).toBe("quant");
      expect(byId.artifactLocation).not.toBe("");
      expect(byId.creationTime).toBeGreaterThan(0);
      expect((await store.getExperimentByName(name))?.experimentId).toBe(id);
      expect(await store.getExperimentByName(unique("missing"))).toBeUndefined();
      expect((await rejection(store.createExperiment(name))).mlflowCode).toBe("RESOURCE_ALREADY_EXISTS");
      expect((await rejection(store.getExperiment("987654321"))).mlflowCode).toBe("RESOURCE_DOES_NOT_EXIST");
      const listed = await store.searchExperiments({ maxResults: 1000 });
      expect(listed.items.map((e) => e.experimentId)).toContain(id);
    });

    it("takes a run from RUNNING to FINISHED with an end time, renames and deletes it", async () => {
      const experimentId = await store.createExperiment(unique("lifecycle"));
      const startTime = Date.now() - 1000;
      const created = await store.createRun({
        experimentId,
        runName: "first",
        startTime,
        tags: [{ key: "symbol", value: "BTC" }],
        userId: "tester",
      });
      expect(created.info).toMatchObject({ experimentId, runName: "first", status: "RUNNING", startTime });
      expect(created.info.endTime).toBeUndefined();
      expect(created.info.runId).toMatch(/^[0-9a-f]{32}$/);
      expect(created.info.artifactUri).not.toBe("");
      expect(tagValue(created.data.tags, "symbol")).toBe("BTC");
      const runId = created.info.runId;
      expect((await store.getRun(runId)).info.status).toBe("RUNNING");

      const endTime = Date.now();
      await store.updateRun(runId, { status: "FINISHED", endTime, runName: "renamed" });
      const finished = await store.getRun(runId);
      expect(finished.info).toMatchObject({
        status: "FINISHED",
        endTime,
        runName: "renamed",
        lifecycleStage: "active",
      });

      await store.deleteRun(runId);
      expect((await store.getRun(runId)).info.lifecycleStage).toBe("deleted");
      expect((await store.searchRuns({ experimentIds: [experimentId] })).items).toHaveLength(0);
      const all = await store.searchRuns({ experimentIds: [experimentId], includeDeleted: true });
      expect(all.items.map((r) => r.info.runId)).toEqual([runId]);
    });

    it("keeps params immutable: the same value again is fine, a different one is refused", async () => {
      const run = await newRun(await store.createExperiment(unique("params")));
      const runId = run.info.runId;
      await store.logBatch(runId, { metrics: [], params: [{ key: "lr", value: "0.001" }], tags: [] });
      await store.logBatch(runId, { metrics: [], params: [{ key: "lr", value: "0.001" }], tags: [] });
      const changed = await rejection(
        store.logBatch(runId, { metrics: [], params: [{ key: "lr", value: "0.01" }], tags: [] }),
      );
      expect(changed.mlflowCode).toBe("INVALID_PARAMETER_VALUE");
      expect((await store.getRun(runId)).data.params).toEqual([{ key: "lr", value: "0.001" }]);
    });

    it("keeps every metric point, several per step, and reports the latest in getRun", async () => {
      const run = await newRun(await store.createExperiment(unique("metrics")));
      const runId = run.info.runId;
      const t = 1_700_000_000_000;
      const points: Metric[] = [
        { key: "loss", value: 0.9, timestamp: t, step: 0 },
        { key: "loss", value: Number.NaN, timestamp: t + 1, step: 0 },
        { key: "loss", value: 0.7, timestamp: t + 2, step: 1 },
        { key: "loss", value: 0.6, timestamp: t + 3, step: 1 },
        { key: "loss", value: 0.5, timestamp: t + 4, step: 2 },
        { key: "acc", value: 0.55, timestamp: t, step: 0 },
      ];
      // Out of order across two batches: history is still step then timestamp.
      await store.logBatch(runId, { metrics: points.slice(3), params: [], tags: [] });
      await store.logBatch(runId, { metrics: points.slice(0, 3), params: [], tags: [] });
      const history = await store.getMetricHistory(runId, "loss");
      expect(history.map((m) => [m.step, m.timestamp])).toEqual([
        [0, t],
        [0, t + 1],
        [1, t + 2],
        [1, t + 3],
        [2, t + 4],
      ]);
      expect(history[1]?.value).toBeNaN();
      expect(history.map((m) => m.value).filter((v) => !Number.isNaN(v))).toEqual([0.9, 0.7, 0.6, 0.5]);
      expect(await store.getMetricHistory(runId, "absent")).toEqual([]);

      const latest = (await store.getRun(runId)).data.metrics;
      const byKey = Object.fromEntries(latest.map((m) => [m.key, m]));
      expect(byKey.loss).toEqual({ key: "loss", value: 0.5, timestamp: t + 4, step: 2 });
      expect(byKey.acc).toEqual({ key: "acc", value: 0.55, timestamp: t, step: 0 });
    });

    it("overwrites tags", async () => {
      const run = await newRun(await store.createExperiment(unique("tags")), undefined, [
        { key: "stage", value: "a" },
      ]);
      const runId = run.info.runId;
      await store.logBatch(runId, { metrics: [], params: [], tags: [{ key: "stage", value: "b" }] });
      await store.logBatch(runId, { metrics: [], params: [], tags: [{ key: "note", value: "x" }] });
      const tags = (await store.getRun(runId)).data.tags;
      expect(tagValue(tags, "stage")).toBe("b");
      expect(tagValue(tags, "note")).toBe("x");
      expect(tags.filter((t) => t.key === "stage")).toHaveLength(1);
    });

    it("searches runs by metrics, params, tags and attributes, orders by a metric, and pages", async () => {
      const experimentId = await store.createExperiment(unique("search"));
      const specs = [
        { name: "r1", loss: 0.3, model: "lstm", symbol: "BTC", status: "FINISHED" },
        { name: "r2", loss: 0.1, model: "lstm", symbol: "ETH", status: "FINISHED" },
        { name: "r3", loss: 0.2, model: "lstm", symbol: "SOL", status: "FINISHED" },
        { name: "r4", loss: 0.05, model: "gru", symbol: "BTC", status: "FINISHED" },
        { name: "r5", loss: 0.15, model: "lstm", symbol: "ADA", status: "FINISHED" },
        { name: "r6", loss: 0.12, model: "lstm", symbol: "XRP", status: "FAILED" },
        { name: "r7", loss: 0.9, model: "lstm", symbol: "DOT", status: "FINISHED" },
      ] as const;
      for (const spec of specs) {
        const run = await newRun(experimentId, spec.name, [{ key: "symbol", value: spec.symbol }]);
        await store.logBatch(run.info.runId, {
          metrics: [{ key: "val_loss", value: spec.loss, timestamp: Date.now(), step: 0 }],
          params: [{ key: "model", value: spec.model }],
          tags: [],
        });
        await store.updateRun(run.info.runId, { status: spec.status, endTime: Date.now() });
      }
      const filter =
        "metrics.val_loss < 0.5 and params.model = 'lstm' and tags.symbol != 'ADA' and attributes.status = 'FINISHED'";
      const first = await store.searchRuns({
        experimentIds: [experimentId],
        filter,
        orderBy: ["metrics.val_loss ASC"],
        maxResults: 2,
      });
      expect(first.items.map((r) => r.info.runName)).toEqual(["r2", "r3"]);
      expect(first.nextPageToken).toBeDefined();
      const second = await store.searchRuns({
        experimentIds: [experimentId],
        filter,
        orderBy: ["metrics.val_loss ASC"],
        maxResults: 2,
        pageToken: first.nextPageToken,
      });
      expect(second.items.map((r) => r.info.runName)).toEqual(["r1"]);
      expect(second.nextPageToken).toBeUndefined();
      // Searched runs carry their data like getRun.
      expect(second.items[0]?.data.params).toEqual([{ key: "model", value: "lstm" }]);

      const descending = await store.searchRuns({
        experimentIds: [experimentId],
        orderBy: ["metrics.val_loss DESC"],
      });
      expect(descending.items.map((r) => r.info.runName)).toEqual(["r7", "r1", "r3", "r5", "r6", "r2", "r4"]);
    });

    it("stores artifacts, lists them by folder and returns them byte for byte", async () => {
      const runId = (await newRun(await store.createExperiment(unique("artifacts")))).info.runId;
      const binary = new Uint8Array(512);
      for (let i = 0; i < binary.length; i++) binary[i] = (i * 37) % 256;
      const files: Record<string, Uint8Array> = {
        "notes.txt": new TextEncoder().encode("hello, mlflow\n"),
        "model/weights.bin": binary,
        "model/config.json": new TextEncoder().encode('{"hidden":64}'),
        "model/sub/deep.txt": new TextEncoder().encode("deep"),
      };
      for (const [path, bytes] of Object.entries(files)) await store.putArtifact(runId, path, bytes);

      expect(await store.listArtifacts(runId)).toEqual([
        { path: "model", isDir: true },
        { path: "notes.txt", isDir: false, fileSize: files["notes.txt"]?.length },
      ]);
      expect(await store.listArtifacts(runId, "model")).toEqual([
        { path: "model/config.json", isDir: false, fileSize: files["model/config.json"]?.length },
        { path: "model/sub", isDir: true },
        { path: "model/weights.bin", isDir: false, fileSize: 512 },
      ]);
      expect(await store.listArtifacts(runId, "model/sub")).toEqual([
        { path: "model/sub/deep.txt", isDir: false, fileSize: 4 },
      ]);
      for (const [path, bytes] of Object.entries(files)) {
        expect(Buffer.from(await store.getArtifact(runId, path)).equals(Buffer.from(bytes))).toBe(true);
      }
      expect((await rejection(store.getArtifact(runId, "model/absent.bin"))).mlflowCode).toBe(
        "RESOURCE_DOES_NOT_EXIST",
      );
    });

    it("answers unknown run ids with RESOURCE_DOES_NOT_EXIST", async () => {
      expect((await rejection(store.getRun(NO_SUCH_RUN))).mlflowCode).toBe("RESOURCE_DOES_NOT_EXIST");
      const logged = await rejection(
        store.logBatch(NO_SUCH_RUN, { metrics: [], params: [{ key: "a", value: "b" }], tags: [] }),
      );
      expect(logged.mlflowCode).toBe("RESOURCE_DOES_NOT_EXIST");
      expect((await rejection(store.getMetricHistory(NO_SUCH_RUN, "loss"))).mlflowCode).toBe(
        "RESOURCE_DOES_NOT_EXIST",
      );
    });

    it("registers models and versions, moves an alias, and keeps tags and descriptions", async () => {
      const runId = (await newRun(await store.createExperiment(unique("registry")))).info.runId;
      const name = unique("forecaster");
      const model = await store.createRegisteredModel(name, "LSTM forecaster", [
        { key: "task", value: "btc-1h" },
      ]);
      expect(model).toMatchObject({ name, description: "LSTM forecaster", aliases: [] });
      expect(tagValue(model.tags, "task")).toBe("btc-1h");
      expect((await rejection(store.createRegisteredModel(name))).mlflowCode).toBe("RESOURCE_ALREADY_EXISTS");

      const source = `runs:/${runId}/model`;
      const v1 = await store.createModelVersion({ name, source, runId, description: "first" });
      const v2 = await store.createModelVersion({
        name,
        source,
        runId,
        tags: [{ key: "data", value: "2024" }],
      });
      expect([v1.version, v2.version]).toEqual(["1", "2"]);
      expect(v1).toMatchObject({ name, source, runId, status: "READY", description: "first" });
      expect(tagValue(v2.tags, "data")).toBe("2024");

      await store.setAlias(name, "champion", "1");
      expect((await store.getModelVersionByAlias(name, "champion")).version).toBe("1");
      expect((await store.getModelVersion(name, "1")).aliases).toEqual(["champion"]);
      await store.setAlias(name, "champion", "2");
      expect((await store.getModelVersionByAlias(name, "champion")).version).toBe("2");
      expect((await store.getModelVersion(name, "1")).aliases).toEqual([]);
      expect((await store.getModelVersion(name, "2")).aliases).toEqual(["champion"]);
      await store.setAlias(name, "challenger", "1");
      await store.deleteAlias(name, "challenger");
      // MLflow answers a missing alias with INVALID_PARAMETER_VALUE; either code is a fair "not found".
      const gone = await rejection(store.getModelVersionByAlias(name, "challenger"));
      expect(["RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"]).toContain(gone.mlflowCode);

      await store.updateRegisteredModel(name, "LSTM forecaster, 1h");
      await store.setRegisteredModelTag(name, { key: "owner", value: "desk" });
      await store.updateModelVersion(name, "2", "second");
      await store.setModelVersionTag(name, "2", { key: "validated", value: "true" });

      const got = await store.getRegisteredModel(name);
      expect(got.description).toBe("LSTM forecaster, 1h");
      expect(tagValue(got.tags, "owner")).toBe("desk");
      expect(got.aliases).toEqual([{ alias: "champion", version: "2" }]);
      expect(got.latestVersion).toBe("2");
      const version2 = await store.getModelVersion(name, "2");
      expect(version2.description).toBe("second");
      expect(tagValue(version2.tags, "validated")).toBe("true");

      const versions = await store.searchModelVersions(name);
      expect(versions.map((v) => v.version).sort()).toEqual(["1", "2"]);
      expect(versions.every((v) => v.runId === runId)).toBe(true);
      const models = await store.searchRegisteredModels({ maxResults: 1000 });
      expect(models.items.map((m) => m.name)).toContain(name);
      expect((await rejection(store.getRegisteredModel(unique("nope")))).mlflowCode).toBe(
        "RESOURCE_DOES_NOT_EXIST",
      );
    });
  });
}

let server: MlflowServer | undefined;
afterAll(async () => {
  await server?.stop();
});

trackingContract("MLflow server (REST)", async () => {
  server = await startMlflowServer({ timeoutMs: 110_000 });
  return { store: new MlflowRestStore(server.uri), dispose: async () => undefined };
});

// After the contract, on the same server: a crash is transient, and a restart finds the data again.
describe("MlflowRestStore across a server crash", () => {
  it("answers TEMPORARILY_UNAVAILABLE while the server is down and recovers after a restart", async () => {
    if (server === undefined) throw new Error("the MLflow contract suite did not start a server");
    const store = new MlflowRestStore(server.uri, { timeoutMs: 5000 });
    const experimentId = await store.createExperiment(unique("crash"));
    const runId = (await store.createRun({ experimentId, startTime: Date.now(), tags: [] })).info.runId;
    await store.putArtifact(runId, "before.txt", new TextEncoder().encode("kept"));

    server.kill();
    const down = await rejection(store.getRun(runId));
    expect(down.mlflowCode).toBe("TEMPORARILY_UNAVAILABLE");
    expect(isTransient(down)).toBe(true);
    expect(down.hint).toContain(server.uri);

    await server.restart();
    expect((await store.getRun(runId)).info.experimentId).toBe(experimentId);
    expect(new TextDecoder().decode(await store.getArtifact(runId, "before.txt"))).toBe("kept");
  }, 120_000);
});

trackingContract("embedded SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cryptoml-tracking-contract-"));
  const store = await SqliteTrackingStore.open({
    path: join(dir, "tracking.db"),
    artifactRoot: join(dir, "artifacts"),
    uri: `sqlite:${join(dir, "tracking.db")}`,
  });
  return {
    store,
    dispose: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
