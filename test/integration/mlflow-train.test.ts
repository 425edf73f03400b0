/**
 * `cryptoml train --tracking-uri http://…` against a real `mlflow server`, read back with MLflow's own
 * Python client (test/peers/mlflow_readback.py), so MLflow — not cryptoml's REST store — is the judge
 * of what was recorded: runs and their status, params, system tags, the full history of every metric,
 * artifacts byte for byte, the registered versions and the `champion` alias. The second case SIGKILLs
 * the server in the middle of training and checks that no metric point of the run directory is lost.
 *
 * One server for the file (start-up costs seconds); cases find their own runs by the tracking run ids
 * in the summary, so they do not depend on each other.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/training/run/summary.js";
import { type MlflowServer, startMlflowServer } from "../helpers/mlflow-server.js";
import { REPO_ROOT, spawnCli } from "../helpers/run-cli.js";

const CONFIG_DIR = join(REPO_ROOT, "config");
const PYTHON = join(REPO_ROOT, ".venv-peers", "bin", "python");
const READBACK = join(REPO_ROOT, "test", "peers", "mlflow_readback.py");
const EXPERIMENT = "cryptoml";
const MODEL_NAME = "cryptoml-BTCUSDT-gru";
/** A small GRU, so 20 s cover several epochs (and thousands of step metrics) on a 2-core machine. */
const SMALL_MODEL = {
  CRYPTOML_MODELS__GRU__HIDDEN_SIZE: "16",
  CRYPTOML_DATASET__WINDOW: "32",
  CRYPTOML_TRAINING__CHECKPOINT_EVERY_STEPS: "500",
};
/** What the job logs besides the run directory's lines: its final metrics, at the last step. */
const FINAL_METRICS = [
  "best_val_loss",
  "best_val_mae",
  "best_val_directional_accuracy",
  "epochs_completed",
  "time_s",
];
const LINE_FIELDS = new Set(["job", "scope", "step", "epoch", "time"]);

// What mlflow_readback.py prints.
interface ReadRun {
  info: { run_id: string; run_name: string; status: string; artifact_uri: string; end_time: number | null };
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, number>;
  history: Record<string, { step: number; value: number; timestamp: number }[]>;
  artifacts: { path: string; is_dir: boolean; file_size: number | null }[];
}
interface ReadModelVersion {
  version: string;
  run_id: string;
  source: string;
  status: string;
  tags: Record<string, string>;
  aliases: string[];
}
interface Readback {
  experiment: { experiment_id: string; name: string };
  runs: ReadRun[];
  models: { name: string; aliases: Record<string, string>; versions: ReadModelVersion[] }[];
  champions: Record<string, string | null>;
}

const dirs: string[] = [];
let server: MlflowServer;

beforeAll(async () => {
  expect(existsSync(PYTHON), "Python test peers missing: run `npm run test:peers`").toBe(true);
  server = await startMlflowServer();
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A working directory with the bundled BTCUSDT candles imported. */
async function workspace(): Promise<string> {
  const cwd = await tempDir("cryptoml-mlflow-train-");
  const result = spawnCli(["--config-dir", CONFIG_DIR, "data", "import", "--bundled"], { cwd });
  expect(result.code, result.stderr).toBe(0);
  return cwd;
}

function train(cwd: string, duration: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const args = [
    "--duration",
    duration,
    "--symbols",
    "BTCUSDT",
    "--model",
    "gru",
    "--tracking-uri",
    server.uri,
  ];
  return spawn(
    process.execPath,
    [join(REPO_ROOT, "bin", "cryptoml.js"), "--config-dir", CONFIG_DIR, "train", ...args, "--json"],
    { cwd, env: { ...process.env, ...SMALL_MODEL, ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
}

async function finished(child: ChildProcess): Promise<{ summary: RunSummary; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  expect(code, stderr).toBe(0);
  return { summary: JSON.parse(stdout) as RunSummary, stderr };
}

async function readBack(): Promise<{ data: Readback; outDir: string }> {
  const outDir = await tempDir("cryptoml-mlflow-readback-");
  const { stdout } = await promisify(execFile)(PYTHON, [READBACK, server.uri, EXPERIMENT, outDir], {
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, MLFLOW_TRACKING_URI: "" },
  });
  return { data: JSON.parse(stdout) as Readback, outDir };
}

function runById(data: Readback, runId: string | null | undefined): ReadRun {
  const run = data.runs.find((r) => r.info.run_id === runId);
  expect(run, `run ${runId} on the server`).toBeDefined();
  return run as ReadRun;
}

interface Line {
  job: string;
  scope: "step" | "epoch";
  step: number;
  [metric: string]: unknown;
}

async function metricLines(runDir: string, job: string): Promise<Line[]> {
  const text = await readFile(join(runDir, "metrics.jsonl"), "utf8");
  return text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.job === job);
}

/** key@step → values, from the run directory's lines (non-finite values are not tracked). */
function expectedPoints(lines: readonly Line[]): Map<string, number[]> {
  const points = new Map<string, number[]>();
  for (const line of lines) {
    for (const [key, value] of Object.entries(line)) {
      if (LINE_FIELDS.has(key) || typeof value !== "number") continue;
      const id = `${key}@${line.step}`;
      points.set(id, [...(points.get(id) ?? []), value]);
    }
  }
  return points;
}

function trackedPoints(run: ReadRun, skip: readonly string[]): Map<string, number[]> {
  const points = new Map<string, number[]>();
  for (const [key, history] of Object.entries(run.history)) {
    if (skip.includes(key)) continue;
    for (const { step, value } of history) {
      const id = `${key}@${step}`;
      points.set(id, [...(points.get(id) ?? []), value]);
    }
  }
  return points;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1e-300);

/** Sorted values with near-equal ones merged (MLflow keeps one point per key, step, value and timestamp). */
function distinct(values: readonly number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.filter((v, i) => i === 0 || !close(v, sorted[i - 1] as number));
}

/**
 * Every point of the run directory is in MLflow's history with its step and value, and MLflow has no
 * point the run directory lacks. Returns the points MLflow holds more often than the run directory
 * (a batch delivered twice would show up there), for the report.
 */
function compareHistories(expected: Map<string, number[]>, tracked: Map<string, number[]>): string[] {
  const missing = [...expected.keys()].filter((id) => !tracked.has(id));
  const extra = [...tracked.keys()].filter((id) => !expected.has(id));
  expect(missing.slice(0, 20), `${missing.length} (key, step) points missing on the server`).toEqual([]);
  expect(extra.slice(0, 20), `${extra.length} (key, step) points only on the server`).toEqual([]);
  const duplicates: string[] = [];
  for (const [id, values] of expected) {
    const got = tracked.get(id) as number[];
    const want = distinct(values);
    const have = distinct(got);
    expect(have.length, `${id}: ${got} vs ${values}`).toBe(want.length);
    want.forEach((v, i) => {
      expect(close(v, have[i] as number), `${id}: ${have[i]} vs ${v}`).toBe(true);
    });
    if (got.length > values.length) duplicates.push(`${id} ×${got.length}`);
  }
  return duplicates;
}

/** config values as flattenParams writes them: strings as they are, everything else as JSON. */
function leaves(value: unknown, prefix: string, out: Record<string, string> = {}): Record<string, string> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, `${prefix}.${k}`, out);
  } else {
    out[prefix] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

async function sameBytes(a: string, b: string): Promise<void> {
  const [x, y] = await Promise.all([readFile(a), readFile(b)]);
  expect(x.length, `${b} vs ${a}`).toBe(y.length);
  expect(Buffer.compare(x, y), `${b} differs from ${a}`).toBe(0);
}

/** The job's child run: finished, its history equal to the run directory's metrics; returns duplicates. */
async function checkJobRun(
  data: Readback,
  summary: RunSummary,
): Promise<{ parent: ReadRun; child: ReadRun; duplicates: string[] }> {
  const job = summary.jobs[0] as RunSummary["jobs"][number];
  const parent = runById(data, summary.trackingRunId);
  const child = runById(data, job.trackingRunId);
  expect(parent.info.status).toBe("FINISHED");
  expect(child.info.status).toBe("FINISHED");
  expect(parent.info.run_name).toBe(`train ${summary.runId}`);
  expect(child.info.run_name).toBe("BTCUSDT");
  expect(child.tags["mlflow.parentRunId"]).toBe(parent.info.run_id);

  const lines = await metricLines(summary.runDir, "BTCUSDT");
  expect(lines.filter((l) => l.scope === "step")).toHaveLength(job.steps);
  expect(lines.some((l) => l.scope === "epoch")).toBe(true);
  const duplicates = compareHistories(expectedPoints(lines), trackedPoints(child, FINAL_METRICS));
  for (const key of FINAL_METRICS) {
    expect(
      child.history[key]?.map((p) => p.step),
      key,
    ).toEqual([job.steps]);
  }
  expect(child.metrics.best_val_loss).toBe(job.bestValLoss);
  expect(child.metrics.best_val_mae).toBe(job.valMae);
  expect(child.metrics.best_val_directional_accuracy).toBe(job.valDirectionalAccuracy);
  expect(child.metrics.epochs_completed).toBe(job.epochs);
  return { parent, child, duplicates };
}

describe("cryptoml train --tracking-uri <mlflow server>", () => {
  it("reads back with MLflow's own client", async () => {
    const cwd = await workspace();
    const t0 = Date.now();
    const first = await finished(train(cwd, "20s"));
    const tTrain = Date.now() - t0;
    const { data, outDir } = await readBack();
    const tRead = Date.now() - t0 - tTrain;
    const { summary } = first;
    const job = summary.jobs[0] as RunSummary["jobs"][number];
    expect(summary.status).toBe("completed");
    expect(data.experiment.name).toBe(EXPERIMENT);

    const { parent, child, duplicates } = await checkJobRun(data, summary);
    expect(duplicates, "points MLflow holds more often than metrics.jsonl").toEqual([]);

    // Params: what config.json resolved, flattened.
    const saved = JSON.parse(await readFile(join(summary.runDir, "config.json"), "utf8")) as {
      config: { training: unknown; dataset: unknown; models: { gru: unknown } };
      workers: number;
    };
    const want = {
      job: "BTCUSDT",
      symbols: "BTCUSDT",
      model: "gru",
      workers: String(saved.workers),
      ...leaves(saved.config.training, "training"),
      ...leaves(saved.config.dataset, "dataset"),
      ...leaves(saved.config.models.gru, "architecture"),
    };
    expect(child.params).toMatchObject(want);
    expect(child.params["training.batch_size"]).toBe("64");
    expect(child.params["dataset.window"]).toBe("32");
    expect(child.params["architecture.hidden_size"]).toBe("16");
    expect(child.params["training.checkpoint_every_steps"]).toBe("500");

    // System tags, on both runs.
    for (const run of [parent, child]) {
      for (const tag of ["mlflow.user", "mlflow.source.name", "mlflow.runName", "cryptoml.command"]) {
        expect(run.tags[tag], `${run.info.run_name}: ${tag}`).toBeTruthy();
      }
    }
    expect(parent.tags["cryptoml.config_hash"]).toMatch(/^[0-9a-f]{16}$/);
    expect(child.tags["cryptoml.config_hash"], "child run's cryptoml.config_hash").toBe(
      parent.tags["cryptoml.config_hash"],
    );
    expect(child.tags["cryptoml.job"]).toBe("BTCUSDT");

    // Artifacts: downloaded through MLflow's artifact proxy, byte for byte the run directory's files.
    const childFiles = child.artifacts.filter((a) => !a.is_dir).map((a) => a.path);
    const checkpoints = await filesUnder(join(summary.runDir, "checkpoints", "BTCUSDT"));
    expect(checkpoints).toContain("last.safetensors");
    expect(childFiles.sort()).toEqual(
      ["model/BTCUSDT.safetensors", ...checkpoints.map((c) => `checkpoints/${c}`)].sort(),
    );
    await sameBytes(
      join(summary.runDir, "models", "BTCUSDT.safetensors"),
      join(outDir, child.info.run_id, "model", "BTCUSDT.safetensors"),
    );
    for (const name of checkpoints) {
      await sameBytes(
        join(summary.runDir, "checkpoints", "BTCUSDT", name),
        join(outDir, child.info.run_id, "checkpoints", name),
      );
    }
    const parentFiles = parent.artifacts.filter((a) => !a.is_dir).map((a) => a.path);
    expect(parentFiles.sort()).toEqual(["config.json", "summary.json", "summary.txt"]);
    for (const name of parentFiles)
      await sameBytes(join(summary.runDir, name), join(outDir, parent.info.run_id, name));

    // Registry: version 1, from the child run, the champion.
    const model = data.models.find((m) => m.name === MODEL_NAME);
    expect(model, MODEL_NAME).toBeDefined();
    const v1 = model?.versions.find((v) => v.run_id === child.info.run_id);
    expect(v1?.version).toBe("1");
    expect(v1?.status).toBe("READY");
    expect(v1?.source).toBe(`${child.info.artifact_uri}/model/BTCUSDT.safetensors`);
    expect(v1?.tags.best_val_loss).toBe(String(job.bestValLoss));
    expect(job.registered).toEqual({ name: MODEL_NAME, version: "1" });
    expect(data.champions[MODEL_NAME]).toBe("1");
    expect(model?.aliases.champion).toBe("1");

    // The same command again: version 2; champion moves only when it is strictly better.
    const t1 = Date.now();
    const second = (await finished(train(cwd, "20s"))).summary;
    const tTrain2 = Date.now() - t1;
    const again = (await readBack()).data;
    const job2 = second.jobs[0] as RunSummary["jobs"][number];
    const { child: child2 } = await checkJobRun(again, second);
    const v2 = again.models
      .find((m) => m.name === MODEL_NAME)
      ?.versions.find((v) => v.run_id === child2.info.run_id);
    expect(v2?.version).toBe("2");
    expect(job2.registered).toEqual({ name: MODEL_NAME, version: "2" });
    const firstLoss = runById(again, job.trackingRunId).metrics.best_val_loss as number;
    const secondLoss = child2.metrics.best_val_loss as number;
    expect(again.champions[MODEL_NAME]).toBe(secondLoss < firstLoss ? "2" : "1");
    console.info(
      `mlflow-train: train ${tTrain} ms, readback ${tRead} ms, ${job.steps} steps, ` +
        `second train ${tTrain2} ms; best_val_loss ${firstLoss} then ${secondLoss}, ` +
        `champion ${again.champions[MODEL_NAME]}`,
    );
  }, 150_000);

  it("kills the MLflow server mid-run and loses no metric point", async () => {
    const cwd = await workspace();
    const t0 = Date.now();
    // No early stop: training lasts the whole budget, so the server is back while it still logs and the
    // spool is delivered during training as well as at the end.
    const child = train(cwd, "40s", { CRYPTOML_TRAINING__EARLY_STOPPING_PATIENCE: "0" });
    const done = finished(child);
    // Wait until the server holds some of the run's step metrics, then SIGKILL it.
    const runsDir = join(cwd, ".cryptoml", "runs");
    let seen = 0;
    while (Date.now() - t0 < 15_000) {
      await new Promise((r) => setTimeout(r, 250));
      seen = await visibleSteps(runsDir);
      if (seen > 0) break;
    }
    const killedAt = Date.now() - t0;
    server.kill();
    await new Promise((r) => setTimeout(r, 6000));
    await server.restart();
    const restartedAt = Date.now() - t0;
    const { summary, stderr } = await done;
    const trainedMs = Date.now() - t0;
    expect(stderr).toMatch(/is unreachable; buffering records/);
    expect(stderr).toMatch(/is reachable again; buffered records delivered/);
    // Nothing is left waiting in the spool.
    const spool = await readdir(join(cwd, ".cryptoml", "tracking-spool")).catch(() => [] as string[]);
    expect(spool.filter((f) => f.endsWith(".jsonl"))).toEqual([]);

    const deliveredDuringTraining =
      stderr.indexOf("buffered records delivered") < stderr.lastIndexOf("/50 done");
    const { data } = await readBack();
    const { child: run, duplicates } = await checkJobRun(data, summary);
    const job = summary.jobs[0] as RunSummary["jobs"][number];
    const version = data.models
      .find((m) => m.name === MODEL_NAME)
      ?.versions.find((v) => v.run_id === run.info.run_id);
    expect(version?.status).toBe("READY");
    expect(job.registered?.version).toBe(version?.version);
    // MLflow drops a point logged again with the same key, step, value and timestamp, so a batch sent
    // twice (its answer lost to the kill) leaves no duplicate.
    expect(duplicates, "points MLflow holds more often than metrics.jsonl").toEqual([]);
    console.info(
      `mlflow-train (kill): ${seen} step points visible, killed at ${killedAt} ms, restarted at ` +
        `${restartedAt} ms, train ended at ${trainedMs} ms; ${job.steps} steps, all on the server; ` +
        `spool delivered ${deliveredDuringTraining ? "during" : "after"} training`,
    );
  }, 120_000);
});

/** How many `loss` points of the newest run's job the server answers with (0 until there are some). */
async function visibleSteps(runsDir: string): Promise<number> {
  const runs = await readdir(runsDir).catch(() => [] as string[]);
  if (runs[0] === undefined) return 0;
  try {
    const manifest = await readFile(join(runsDir, runs[0], "manifest.json"), "utf8");
    const runId = (JSON.parse(manifest) as { jobs: { trackingRunId?: string }[] }).jobs[0]?.trackingRunId;
    if (runId === undefined) return 0;
    const response = await fetch(
      `${server.uri}/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss&max_results=10`,
      { signal: AbortSignal.timeout(2000) },
    );
    const body = (await response.json()) as { metrics?: unknown[] };
    return body.metrics?.length ?? 0;
  } catch {
    return 0;
  }
}
