/**
 * `npm run bench:tracking [-- --json] [-- --points N]` (default N = 100,000): metric logging
 * throughput against a real MLflow server, ours versus MLflow's Python client, and ours against the
 * embedded store. One `mlflow server` (.venv-peers, SQLite backend in a temp dir, 127.0.0.1, free port,
 * one worker, job executor off) serves every server measurement; each measurement logs to its own new
 * run N points of one metric key, "loss", steps 0..N-1 (value sin(step/1000), wall-clock timestamps):
 *
 * - ours, AsyncRunLogger → server: `logMetric` per point in a loop, then `close()`, which waits until
 *   every point is delivered (the logger sends chunks of 1000 in the background, as in training);
 * - ours, TrackingClient.logBatch → server: one awaited `logBatch` call per 1000 points;
 * - MLflow's client → server: bench/tracking_reference.py, `MlflowClient.log_batch` per 1000 points,
 *   timed inside Python (interpreter start-up and `import mlflow` excluded, reported separately);
 * - ours → embedded store (`file:` URI in a temp dir): the same two ways.
 *
 * After each, the run's metric history must hold exactly N points with steps 0..N-1 (read back, not
 * timed). Prints points/s and the ratios ours/MLflow (server) and embedded/MLflow. Goal: ours faster than
 * MLflow's client against the same server. With --json the last line is one JSON object of all numbers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../core/free-port.js";
import { AsyncRunLogger } from "../tracking/async-logger.js";
import { TrackingClient } from "../tracking/client.js";
import { openTrackingStore } from "../tracking/open.js";
import type { Metric } from "../tracking/types.js";
import { fmt, numberArg } from "./stats.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const VENV = join(ROOT, ".venv-peers", "bin");
const KEY = "loss";
const BATCH = 1000;

interface Server {
  uri: string;
  stop(): Promise<void>;
}

/** `mlflow server` as test/helpers/mlflow-server.ts starts it; it leads its own process group. */
async function startServer(dir: string): Promise<Server> {
  const port = await freePort();
  const uri = `http://127.0.0.1:${port}`;
  const args = ["server", "--host", "127.0.0.1", "--port", String(port), "--workers", "1"];
  args.push("--backend-store-uri", `sqlite:///${join(dir, "mlflow.db")}`);
  args.push("--artifacts-destination", join(dir, "artifacts"));
  const env = { ...process.env, PYTHONUNBUFFERED: "1", MLFLOW_SERVER_ENABLE_JOB_EXECUTION: "false" };
  Object.assign(env, { MLFLOW_DISABLE_TELEMETRY: "true", DO_NOT_TRACK: "true", MLFLOW_TRACKING_URI: "" });
  const child: ChildProcess = spawn(join(VENV, "mlflow"), args, {
    cwd: dir,
    detached: true,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-4000);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const kill = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  process.once("exit", () => kill("SIGKILL"));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      kill("SIGTERM");
      const timer = setTimeout(() => kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(timer);
    }
    kill("SIGKILL"); // uvicorn stays in the group after the CLI exits
  };
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mlflow server died during start-up:\n${output}`);
    const ok = await fetch(`${uri}/health`, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { uri, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`mlflow server did not answer /health within 90 s:\n${output}`);
}

const point = (step: number, timestamp: number): Metric => ({
  key: KEY,
  value: Math.sin(step * 1e-3),
  step,
  timestamp,
});

/** The way training logs: one logMetric per point, then close() waits for delivery. */
async function viaAsyncLogger(
  client: TrackingClient,
  runId: string,
  n: number,
  spoolDir: string,
): Promise<number> {
  const started = performance.now();
  const logger = new AsyncRunLogger(client, runId, { spoolDir });
  for (let step = 0; step < n; step++) logger.logMetric(KEY, Math.sin(step * 1e-3), step);
  if (!(await logger.close())) throw new Error("AsyncRunLogger did not deliver every point");
  return (performance.now() - started) / 1000;
}

/** One awaited TrackingClient.logBatch per 1000 points. */
async function viaLogBatch(client: TrackingClient, runId: string, n: number): Promise<number> {
  const started = performance.now();
  for (let start = 0; start < n; start += BATCH) {
    const now = Date.now();
    const metrics: Metric[] = [];
    for (let step = start; step < Math.min(start + BATCH, n); step++) metrics.push(point(step, now));
    await client.logBatch(runId, { metrics });
  }
  return (performance.now() - started) / 1000;
}

/** Nobody cheats: the store must hold exactly N points, steps 0..N-1. */
async function verify(client: TrackingClient, runId: string, n: number, what: string): Promise<void> {
  const history = await client.metricHistory(runId, KEY);
  const steps = new Set(history.map((m) => m.step));
  if (history.length !== n || steps.size !== n || !steps.has(0) || !steps.has(n - 1)) {
    throw new Error(
      `${what}: the store holds ${history.length} points (${steps.size} distinct steps), expected ${n}`,
    );
  }
}

async function newRun(client: TrackingClient, experimentId: string, name: string): Promise<string> {
  return (await client.startRun(experimentId, { runName: name, command: ["bench:tracking"] })).info.runId;
}

interface Reference {
  seconds: number;
  points: number;
  calls: number;
  import_seconds: number;
  mlflow: string;
}

/**
 * Runs the Python reference without blocking the event loop: with spawnSync, the idle keep-alive
 * socket uvicorn closes meanwhile (after 5 s) is not noticed, and the next request fails on it.
 */
async function runReference(
  uri: string,
  runId: string,
  n: number,
): Promise<Reference & { process_seconds: number }> {
  const started = performance.now();
  const script = join(ROOT, "bench", "tracking_reference.py");
  const child = spawn(join(VENV, "python"), [script, uri, runId, String(n), KEY], {
    env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: "true", DO_NOT_TRACK: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-8000);
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`tracking_reference.py failed (${code}):\n${stderr}`);
  const parsed = JSON.parse(stdout.trim().split("\n").pop() ?? "") as Reference;
  return { ...parsed, process_seconds: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const n = numberArg(args, "--points", 100_000, true);
  if (!existsSync(join(VENV, "mlflow"))) {
    console.log("bench:tracking: skipped (run `npm run test:peers` to install MLflow into .venv-peers)");
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), "cryptoml-tracking-bench-"));
  let server: Server | undefined;
  try {
    const serverStarted = performance.now();
    server = await startServer(dir);
    const startupS = (performance.now() - serverStarted) / 1000;
    const remote = new TrackingClient(await openTrackingStore(server.uri));
    const experimentId = (await remote.experiment("bench-tracking")).experimentId;
    const rates: Record<string, number> = {};
    const line = (name: string, seconds: number, extra = "") => {
      rates[name] = n / seconds;
      console.log(
        `  ${name.padEnd(34)} ${seconds.toFixed(3).padStart(8)} s  ${fmt(n / seconds).padStart(9)} points/s${extra}`,
      );
    };
    console.log(
      `bench:tracking — ${fmt(n)} points of one metric "${KEY}" (steps 0..${n - 1}) per measurement, each into a new run; ` +
        `mlflow server (SQLite, 1 worker) started in ${startupS.toFixed(1)} s`,
    );

    // (b) MLflow's client first, then ours, each on its own run of the same server.
    const refRun = await newRun(remote, experimentId, "mlflow-client");
    const ref = await runReference(server.uri, refRun, n);
    await verify(remote, refRun, n, "MLflow client → server");
    line(
      `MLflow ${ref.mlflow} client log_batch ×${BATCH} → server`,
      ref.seconds,
      `  (+${ref.import_seconds.toFixed(2)} s import mlflow, ${ref.process_seconds.toFixed(2)} s whole process; not timed)`,
    );

    // (a) ours → server.
    const asyncRun = await newRun(remote, experimentId, "ours-async-logger");
    const oursAsync = await viaAsyncLogger(remote, asyncRun, n, join(dir, "spool"));
    await verify(remote, asyncRun, n, "AsyncRunLogger → server");
    line("ours AsyncRunLogger → server", oursAsync);
    const batchRun = await newRun(remote, experimentId, "ours-log-batch");
    const oursBatch = await viaLogBatch(remote, batchRun, n);
    await verify(remote, batchRun, n, "logBatch → server");
    line(`ours logBatch ×${BATCH} → server`, oursBatch);
    await remote.close();

    // (c) ours → the embedded store.
    const local = new TrackingClient(await openTrackingStore(`file:${join(dir, "embedded")}`));
    const localExperiment = (await local.experiment("bench-tracking")).experimentId;
    const embAsyncRun = await newRun(local, localExperiment, "embedded-async-logger");
    const embAsync = await viaAsyncLogger(local, embAsyncRun, n, join(dir, "spool"));
    await verify(local, embAsyncRun, n, "AsyncRunLogger → embedded");
    line("ours AsyncRunLogger → embedded", embAsync);
    const embBatchRun = await newRun(local, localExperiment, "embedded-log-batch");
    const embBatch = await viaLogBatch(local, embBatchRun, n);
    await verify(local, embBatchRun, n, "logBatch → embedded");
    line(`ours logBatch ×${BATCH} → embedded`, embBatch);
    await local.close();
    console.log(`  every store held exactly ${fmt(n)} points per run (metric history read back)`);

    const ratio = (seconds: number) => ref.seconds / seconds;
    const goalMet = ratio(oursAsync) > 1 && ratio(oursBatch) > 1;
    console.log(
      `ours/MLflow client, same server: AsyncRunLogger ${ratio(oursAsync).toFixed(2)}×, logBatch ${ratio(oursBatch).toFixed(2)}×; ` +
        `embedded/MLflow client: AsyncRunLogger ${ratio(embAsync).toFixed(2)}×, logBatch ${ratio(embBatch).toFixed(2)}×`,
    );
    console.log(
      `goal: ours faster than MLflow's client against the same server — ${goalMet ? "met" : "NOT met"}`,
    );
    if (json) {
      console.log(
        JSON.stringify({
          points: n,
          key: KEY,
          batch: BATCH,
          mlflow_version: ref.mlflow,
          server_startup_s: Number(startupS.toFixed(2)),
          mlflow_client_s: Number(ref.seconds.toFixed(4)),
          mlflow_client_import_s: Number(ref.import_seconds.toFixed(3)),
          mlflow_client_process_s: Number(ref.process_seconds.toFixed(3)),
          ours_async_server_s: Number(oursAsync.toFixed(4)),
          ours_batch_server_s: Number(oursBatch.toFixed(4)),
          ours_async_embedded_s: Number(embAsync.toFixed(4)),
          ours_batch_embedded_s: Number(embBatch.toFixed(4)),
          mlflow_client_points_per_s: Math.round(n / ref.seconds),
          ours_async_server_points_per_s: Math.round(n / oursAsync),
          ours_batch_server_points_per_s: Math.round(n / oursBatch),
          ours_async_embedded_points_per_s: Math.round(n / embAsync),
          ours_batch_embedded_points_per_s: Math.round(n / embBatch),
          ratio_async_server_vs_mlflow: Number(ratio(oursAsync).toFixed(3)),
          ratio_batch_server_vs_mlflow: Number(ratio(oursBatch).toFixed(3)),
          ratio_async_embedded_vs_mlflow: Number(ratio(embAsync).toFixed(3)),
          ratio_batch_embedded_vs_mlflow: Number(ratio(embBatch).toFixed(3)),
          goal_met: goalMet,
          verified: true,
        }),
      );
    }
  } finally {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
