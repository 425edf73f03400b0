import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TrackingError } from "../errors.js";
import { SqliteTrackingStore } from "./sqlite.js";
import { isProcessAlive } from "./sqlite-owners.js";
import { SCHEMA_VERSION } from "./sqlite-schema.js";

let dir: string;
const stores: SqliteTrackingStore[] = [];

async function openStore(extra: Partial<Parameters<typeof SqliteTrackingStore.open>[0]> = {}) {
  const store = await SqliteTrackingStore.open({
    path: join(dir, "tracking.db"),
    artifactRoot: join(dir, "artifacts"),
    uri: `file:${dir}`,
    ...extra,
  });
  stores.push(store);
  return store;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TrackingError);
  return (error as TrackingError).mlflowCode;
}

const point = (key: string, value: number, step: number, timestamp: number) => ({
  key,
  value,
  step,
  timestamp,
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "cryptoml-sqlite-"));
});

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe("SqliteTrackingStore experiments", () => {
  it("creates the Default experiment 0 on first open, in WAL mode with a schema version", async () => {
    const store = await openStore();
    const def = await store.getExperiment("0");
    expect(def.name).toBe("Default");
    expect(def.artifactLocation).toBe(`${pathToFileURL(join(dir, "artifacts")).href}/0`);
    await store.close();
    const db = new Database(join(dir, "tracking.db"), { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.prepare("SELECT version FROM schema_version").get()).toEqual({ version: SCHEMA_VERSION });
    db.close();
    // Reopening neither duplicates Default nor re-runs migrations.
    const again = await openStore();
    expect((await again.searchExperiments()).items.map((e) => e.name)).toEqual(["Default"]);
  });

  it("refuses a database written by a newer schema, naming both versions", async () => {
    await (await openStore()).close();
    const db = new Database(join(dir, "tracking.db"));
    db.prepare("UPDATE schema_version SET version = ?").run(SCHEMA_VERSION + 1);
    db.close();
    await expect(openStore()).rejects.toThrow(`schema version ${SCHEMA_VERSION + 1}, newer than`);
  });

  it("numbers experiments, refuses duplicate names and pages searches", async () => {
    let time = 1000;
    const store = await openStore({ now: () => time++ });
    expect(await store.createExperiment("btc", [{ key: "symbol", value: "BTCUSDT" }])).toBe("1");
    expect(await store.createExperiment("eth")).toBe("2");
    expect(await codeOf(store.createExperiment("btc"))).toBe("RESOURCE_ALREADY_EXISTS");
    const btc = await store.getExperimentByName("btc");
    expect(btc?.experimentId).toBe("1");
    expect(btc?.tags).toEqual([{ key: "symbol", value: "BTCUSDT" }]);
    expect(btc?.artifactLocation.endsWith("/artifacts/1")).toBe(true);
    expect(await store.getExperimentByName("nope")).toBeUndefined();
    expect(await codeOf(store.getExperiment("42"))).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(await codeOf(store.getExperiment("abc"))).toBe("RESOURCE_DOES_NOT_EXIST");
    const first = await store.searchExperiments({ maxResults: 2 });
    expect(first.items.map((e) => e.name)).toEqual(["eth", "btc"]);
    const second = await store.searchExperiments({ maxResults: 2, pageToken: first.nextPageToken as string });
    expect(second.items.map((e) => e.name)).toEqual(["Default"]);
    expect(second.nextPageToken).toBeUndefined();
    expect(await codeOf(store.searchExperiments({ pageToken: "%%%" }))).toBe("INVALID_PARAMETER_VALUE");
  });
});

describe("SqliteTrackingStore runs", () => {
  it("creates runs with MLflow-shaped ids, names and artifact URIs", async () => {
    const store = await openStore();
    const run = await store.createRun({
      experimentId: "0",
      startTime: 5,
      tags: [{ key: "a", value: "1" }],
      userId: "u",
    });
    expect(run.info.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(run.info.runName).toMatch(/^[a-z]+-[a-z]+-\d{1,3}$/);
    expect(run.info).toMatchObject({ experimentId: "0", status: "RUNNING", startTime: 5, userId: "u" });
    expect(run.info.endTime).toBeUndefined();
    expect(run.info.lifecycleStage).toBe("active");
    expect(run.info.artifactUri).toBe(
      `${pathToFileURL(join(dir, "artifacts")).href}/0/${run.info.runId}/artifacts`,
    );
    expect(run.data.tags).toEqual([
      { key: "a", value: "1" },
      { key: "mlflow.runName", value: run.info.runName },
    ]);
    const named = await store.createRun({ experimentId: "0", startTime: 1, tags: [], runName: "lstm-1" });
    expect(named.info.runName).toBe("lstm-1");
    const byTag = await store.createRun({
      experimentId: "0",
      startTime: 1,
      tags: [{ key: "mlflow.runName", value: "t" }],
    });
    expect(byTag.info.runName).toBe("t");
    const clash = store.createRun({
      experimentId: "0",
      startTime: 1,
      runName: "x",
      tags: [{ key: "mlflow.runName", value: "y" }],
    });
    expect(await codeOf(clash)).toBe("INVALID_PARAMETER_VALUE");
    expect(await codeOf(store.createRun({ experimentId: "9", startTime: 1, tags: [] }))).toBe(
      "RESOURCE_DOES_NOT_EXIST",
    );
    expect(await codeOf(store.getRun("0".repeat(32)))).toBe("RESOURCE_DOES_NOT_EXIST");
  });

  it("updates status, end time and name (keeping mlflow.runName in sync) and soft-deletes", async () => {
    const store = await openStore();
    const { info } = await store.createRun({ experimentId: "0", startTime: 1, tags: [] });
    await store.updateRun(info.runId, { status: "FINISHED", endTime: 99, runName: "renamed" });
    let run = await store.getRun(info.runId);
    expect(run.info).toMatchObject({ status: "FINISHED", endTime: 99, runName: "renamed" });
    expect(run.data.tags).toContainEqual({ key: "mlflow.runName", value: "renamed" });
    // Setting the tag renames the run, as in MLflow.
    await store.logBatch(info.runId, {
      metrics: [],
      params: [],
      tags: [{ key: "mlflow.runName", value: "by-tag" }],
    });
    expect((await store.getRun(info.runId)).info.runName).toBe("by-tag");
    await store.deleteRun(info.runId);
    run = await store.getRun(info.runId);
    expect(run.info.lifecycleStage).toBe("deleted");
    const write = store.logBatch(info.runId, { metrics: [], params: [], tags: [{ key: "k", value: "v" }] });
    expect(await codeOf(write)).toBe("INVALID_PARAMETER_VALUE");
    expect(await codeOf(store.deleteRun("f".repeat(32)))).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(await codeOf(store.updateRun("f".repeat(32), { status: "FAILED" }))).toBe(
      "RESOURCE_DOES_NOT_EXIST",
    );
  });

  it("keeps params immutable with MLflow's message, and accepts the same value again", async () => {
    const store = await openStore();
    const { info } = await store.createRun({ experimentId: "0", startTime: 1, tags: [] });
    await store.logBatch(info.runId, { metrics: [], params: [{ key: "lr", value: "0.01" }], tags: [] });
    await store.logBatch(info.runId, { metrics: [], params: [{ key: "lr", value: "0.01" }], tags: [] });
    const change = store.logBatch(info.runId, {
      metrics: [],
      params: [{ key: "lr", value: "0.1" }],
      tags: [],
    });
    await expect(change).rejects.toThrow(
      `Changing param values is not allowed. Param with key='lr' was already logged with value='0.01' for run ` +
        `ID='${info.runId}'. Attempted logging new value '0.1'.`,
    );
    expect((await store.getRun(info.runId)).data.params).toEqual([{ key: "lr", value: "0.01" }]);
  });

  it("keeps every metric point, duplicates included, and the latest by step then timestamp", async () => {
    const store = await openStore();
    const { info } = await store.createRun({ experimentId: "0", startTime: 1, tags: [] });
    const points = [
      point("loss", 0.9, 0, 10),
      point("loss", 0.5, 2, 5),
      point("loss", 0.5, 2, 5),
      point("loss", 0.7, 1, 50),
    ];
    await store.logBatch(info.runId, { metrics: points, params: [], tags: [] });
    await store.logBatch(info.runId, {
      metrics: [
        point("loss", 0.6, 2, 4),
        point("acc", Number.NaN, 0, 1),
        point("inf", Number.POSITIVE_INFINITY, 0, 1),
      ],
      params: [],
      tags: [],
    });
    const history = await store.getMetricHistory(info.runId, "loss");
    expect(history).toEqual([
      point("loss", 0.9, 0, 10),
      point("loss", 0.7, 1, 50),
      point("loss", 0.6, 2, 4),
      point("loss", 0.5, 2, 5),
      point("loss", 0.5, 2, 5),
    ]);
    const latest = (await store.getRun(info.runId)).data.metrics;
    expect(latest.find((m) => m.key === "loss")).toEqual(point("loss", 0.5, 2, 5));
    expect(latest.find((m) => m.key === "acc")?.value).toBeNaN();
    expect(latest.find((m) => m.key === "inf")?.value).toBe(Number.POSITIVE_INFINITY);
    expect(await store.getMetricHistory(info.runId, "missing")).toEqual([]);
    expect(await codeOf(store.getMetricHistory("e".repeat(32), "loss"))).toBe("RESOURCE_DOES_NOT_EXIST");
  });

  it("logs a batch all or nothing", async () => {
    const store = await openStore();
    const { info } = await store.createRun({ experimentId: "0", startTime: 1, tags: [] });
    await store.logBatch(info.runId, { metrics: [], params: [{ key: "model", value: "lstm" }], tags: [] });
    const failing = store.logBatch(info.runId, {
      params: [
        { key: "units", value: "64" },
        { key: "model", value: "gru" },
      ],
      metrics: [point("loss", 1, 0, 1)],
      tags: [{ key: "t", value: "v" }],
    });
    expect(await codeOf(failing)).toBe("INVALID_PARAMETER_VALUE");
    const run = await store.getRun(info.runId);
    expect(run.data.params).toEqual([{ key: "model", value: "lstm" }]);
    expect(run.data.metrics).toEqual([]);
    expect(run.data.tags.map((t) => t.key)).toEqual(["mlflow.runName"]);
    expect(await store.getMetricHistory(info.runId, "loss")).toEqual([]);
  });

  it("searches runs through the in-memory search with filters, order and deleted runs", async () => {
    const store = await openStore();
    const exp = await store.createExperiment("s");
    const ids: string[] = [];
    for (const [i, model] of ["lstm", "gru", "lstm"].entries()) {
      const { info } = await store.createRun({ experimentId: exp, startTime: i, tags: [] });
      await store.logBatch(info.runId, {
        metrics: [point("val_loss", 1 - i / 10, 0, 1)],
        params: [{ key: "model", value: model }],
        tags: [],
      });
      ids.push(info.runId);
    }
    await store.createRun({ experimentId: "0", startTime: 9, tags: [] });
    const all = await store.searchRuns({ experimentIds: [exp] });
    expect(all.items.map((r) => r.info.runId)).toEqual([...ids].reverse());
    const lstm = await store.searchRuns({
      experimentIds: [exp],
      filter: "params.model = 'lstm' and metrics.val_loss < 0.95",
      orderBy: ["metrics.val_loss ASC"],
    });
    expect(lstm.items.map((r) => r.info.runId)).toEqual([ids[2]]);
    await store.deleteRun(ids[0] as string);
    expect((await store.searchRuns({ experimentIds: [exp] })).items).toHaveLength(2);
    expect((await store.searchRuns({ experimentIds: [exp], includeDeleted: true })).items).toHaveLength(3);
    const paged = await store.searchRuns({ experimentIds: [exp, "0"], maxResults: 2 });
    expect(paged.items).toHaveLength(2);
    expect(paged.nextPageToken).toBeDefined();
    expect((await store.searchRuns({ experimentIds: ["nope"] })).items).toEqual([]);
  });
});

describe("SqliteTrackingStore sharing and crashed runs", () => {
  it("lets two store instances on one file see each other's writes", async () => {
    const a = await openStore();
    const b = await openStore();
    const exp = await a.createExperiment("shared");
    expect((await b.getExperiment(exp)).name).toBe("shared");
    const { info } = await b.createRun({ experimentId: exp, startTime: 1, tags: [] });
    await a.logBatch(info.runId, { metrics: [point("m", 1, 0, 1)], params: [], tags: [] });
    await b.logBatch(info.runId, { metrics: [point("m", 2, 1, 2)], params: [], tags: [] });
    expect(await a.getMetricHistory(info.runId, "m")).toHaveLength(2);
    expect((await b.getRun(info.runId)).data.metrics).toEqual([point("m", 2, 1, 2)]);
  });

  it("waits for another process's write transaction instead of failing with SQLITE_BUSY", async () => {
    const store = await openStore();
    const { info } = await store.createRun({ experimentId: "0", startTime: 1, tags: [] });
    // The child holds the write lock for 400 ms, then commits a tag.
    const script = `
      const db = new (require("better-sqlite3"))(process.argv[1]);
      db.exec("BEGIN IMMEDIATE");
      db.prepare("INSERT INTO tags VALUES (?, 'child', 'yes')").run(process.argv[2]);
      console.log("locked");
      setTimeout(() => { db.exec("COMMIT"); db.close(); }, 400);`;
    const child = spawn(process.execPath, ["-e", script, join(dir, "tracking.db"), info.runId], {
      cwd: process.cwd(),
    });
    await new Promise((locked) => child.stdout.once("data", locked));
    const started = Date.now();
    await store.logBatch(info.runId, { metrics: [], params: [], tags: [{ key: "parent", value: "yes" }] });
    expect(Date.now() - started).toBeGreaterThan(200);
    await new Promise((done) => child.on("exit", done));
    expect((await store.getRun(info.runId)).data.tags.map((t) => t.key)).toEqual([
      "child",
      "mlflow.runName",
      "parent",
    ]);
  });

  it("fails RUNNING runs whose owning process died when the store reopens", async () => {
    const child = spawn(process.execPath, ["-e", ""]);
    const deadPid = child.pid as number;
    await new Promise((done) => child.on("exit", done));
    expect(isProcessAlive(hostname(), deadPid)).toBe(false);
    expect(isProcessAlive(hostname(), process.pid)).toBe(true);
    expect(isProcessAlive("some-other-host", deadPid)).toBe(true);

    // Opened first: every open fails the dead runs it finds, and this test wants the reopen to.
    const healthy = await openStore();
    const crashed = await openStore({ owner: { host: hostname(), pid: deadPid } });
    const dead = await crashed.createRun({ experimentId: "0", startTime: 1, tags: [] });
    const ended = await crashed.createRun({ experimentId: "0", startTime: 1, tags: [] });
    await crashed.updateRun(ended.info.runId, { status: "FINISHED", endTime: 3 });
    const live = await healthy.createRun({ experimentId: "0", startTime: 1, tags: [] });
    await crashed.close();

    const reopened = await openStore({ now: () => 777 });
    expect((await reopened.getRun(dead.info.runId)).info).toMatchObject({ status: "FAILED", endTime: 777 });
    expect((await reopened.getRun(ended.info.runId)).info).toMatchObject({ status: "FINISHED", endTime: 3 });
    expect((await reopened.getRun(live.info.runId)).info.status).toBe("RUNNING");
    expect(await reopened.markDeadRunsFailed(() => false)).toEqual([live.info.runId]);
  });

  it("is closed idempotently and says so when used after close", async () => {
    const store = await openStore();
    await store.close();
    await store.close();
    expect(await codeOf(store.getExperiment("0"))).toBe("INVALID_STATE");
  });
});

describe("SqliteTrackingStore artifacts", () => {
  it("stores, lists and reads artifacts under the run's folder", async () => {
    const store = await openStore();
    const { info } = await store.createRun({ experimentId: "0", startTime: 1, tags: [] });
    await store.putArtifact(info.runId, "model/weights.bin", new Uint8Array([1, 2, 3]));
    await store.putArtifact(info.runId, "config.json", new TextEncoder().encode("{}"));
    await store.putArtifact(info.runId, "config.json", new TextEncoder().encode('{"a":1}'));
    const folder = join(dir, "artifacts", "0", info.runId, "artifacts");
    // A temporary file left by a crash mid-write is not an artifact.
    await writeFile(join(folder, `.config.json.123.${"ab".repeat(6)}.tmp`), "x");
    expect(await store.listArtifacts(info.runId)).toEqual([
      { path: "config.json", isDir: false, fileSize: 7 },
      { path: "model", isDir: true },
    ]);
    expect(await store.listArtifacts(info.runId, "model")).toEqual([
      { path: "model/weights.bin", isDir: false, fileSize: 3 },
    ]);
    expect(await store.listArtifacts(info.runId, "missing")).toEqual([]);
    expect([...(await store.getArtifact(info.runId, "model/weights.bin"))]).toEqual([1, 2, 3]);
    expect(new TextDecoder().decode(await store.getArtifact(info.runId, "config.json"))).toBe('{"a":1}');
    expect(await codeOf(store.getArtifact(info.runId, "nope.txt"))).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(await codeOf(store.getArtifact(info.runId, "model"))).toBe("INVALID_PARAMETER_VALUE");
    expect(await codeOf(store.putArtifact("d".repeat(32), "a", new Uint8Array()))).toBe(
      "RESOURCE_DOES_NOT_EXIST",
    );
  });

  it("refuses paths that escape the run's artifact folder", async () => {
    const store = await openStore();
    const { info } = await store.createRun({ experimentId: "0", startTime: 1, tags: [] });
    for (const path of ["../x", "a/../../x", "/etc/passwd", "..", "a\\..\\..\\x", "C:/x", ""]) {
      expect(await codeOf(store.putArtifact(info.runId, path, new Uint8Array([1])))).toBe(
        "INVALID_PARAMETER_VALUE",
      );
    }
    expect(await codeOf(store.getArtifact(info.runId, "../../../tracking.db"))).toBe(
      "INVALID_PARAMETER_VALUE",
    );
    expect(await codeOf(store.listArtifacts(info.runId, ".."))).toBe("INVALID_PARAMETER_VALUE");
    // Refused before touching the disk: not even the run's folder was created.
    expect((await readdir(dir)).filter((name) => !name.startsWith("tracking.db"))).toEqual([]);
  });
});

describe("SqliteTrackingStore model registry", () => {
  it("registers models and numbered versions with tags and descriptions", async () => {
    const store = await openStore();
    const { info } = await store.createRun({ experimentId: "0", startTime: 1, tags: [] });
    const model = await store.createRegisteredModel("btc-lstm", "first", [
      { key: "symbol", value: "BTCUSDT" },
    ]);
    expect(model).toMatchObject({
      name: "btc-lstm",
      description: "first",
      aliases: [],
      tags: [{ key: "symbol", value: "BTCUSDT" }],
    });
    expect(model.latestVersion).toBeUndefined();
    expect(await codeOf(store.createRegisteredModel("btc-lstm"))).toBe("RESOURCE_ALREADY_EXISTS");
    const v1 = await store.createModelVersion({
      name: "btc-lstm",
      source: `runs:/${info.runId}/model`,
      runId: info.runId,
    });
    const v2 = await store.createModelVersion({
      name: "btc-lstm",
      source: "s2",
      runId: info.runId,
      description: "d",
      tags: [{ key: "k", value: "v" }],
    });
    expect([v1.version, v2.version]).toEqual(["1", "2"]);
    expect(v2).toMatchObject({
      status: "READY",
      source: "s2",
      runId: info.runId,
      description: "d",
      tags: [{ key: "k", value: "v" }],
    });
    expect((await store.getRegisteredModel("btc-lstm")).latestVersion).toBe("2");
    await store.updateRegisteredModel("btc-lstm", "second");
    await store.setRegisteredModelTag("btc-lstm", { key: "symbol", value: "ETHUSDT" });
    expect(await store.getRegisteredModel("btc-lstm")).toMatchObject({
      description: "second",
      tags: [{ key: "symbol", value: "ETHUSDT" }],
    });
    await store.updateModelVersion("btc-lstm", "1", "v1 notes");
    await store.setModelVersionTag("btc-lstm", "1", { key: "stage", value: "candidate" });
    expect(await store.getModelVersion("btc-lstm", "1")).toMatchObject({
      description: "v1 notes",
      tags: [{ key: "stage", value: "candidate" }],
    });
    expect((await store.searchModelVersions("btc-lstm")).map((v) => v.version)).toEqual(["2", "1"]);
    expect(await store.searchModelVersions("unknown")).toEqual([]);
    expect(await codeOf(store.getModelVersion("btc-lstm", "3"))).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(await codeOf(store.getRegisteredModel("unknown"))).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(await codeOf(store.createModelVersion({ name: "unknown", source: "s", runId: "" }))).toBe(
      "RESOURCE_DOES_NOT_EXIST",
    );
    expect(await codeOf(store.updateModelVersion("btc-lstm", "9", "x"))).toBe("RESOURCE_DOES_NOT_EXIST");
    await store.createRegisteredModel("aaa");
    const page = await store.searchRegisteredModels({ maxResults: 1 });
    expect(page.items.map((m) => m.name)).toEqual(["aaa"]);
    const rest = await store.searchRegisteredModels({
      maxResults: 1,
      pageToken: page.nextPageToken as string,
    });
    expect(rest.items.map((m) => m.name)).toEqual(["btc-lstm"]);
  });

  it("moves aliases between versions and deletes them", async () => {
    const store = await openStore();
    await store.createRegisteredModel("m");
    await store.createModelVersion({ name: "m", source: "a", runId: "r1" });
    await store.createModelVersion({ name: "m", source: "b", runId: "r2" });
    await store.setAlias("m", "champion", "1");
    expect((await store.getModelVersionByAlias("m", "champion")).version).toBe("1");
    expect((await store.getModelVersion("m", "1")).aliases).toEqual(["champion"]);
    await store.setAlias("m", "champion", "2");
    expect((await store.getModelVersionByAlias("m", "champion")).source).toBe("b");
    expect((await store.getModelVersion("m", "1")).aliases).toEqual([]);
    expect((await store.getModelVersion("m", "2")).aliases).toEqual(["champion"]);
    expect((await store.getRegisteredModel("m")).aliases).toEqual([{ alias: "champion", version: "2" }]);
    expect(await codeOf(store.setAlias("m", "x", "7"))).toBe("RESOURCE_DOES_NOT_EXIST");
    await store.deleteAlias("m", "champion");
    await store.deleteAlias("m", "champion");
    expect(await codeOf(store.getModelVersionByAlias("m", "champion"))).toBe("RESOURCE_DOES_NOT_EXIST");
    expect(await codeOf(store.deleteAlias("unknown", "champion"))).toBe("RESOURCE_DOES_NOT_EXIST");
  });
});
