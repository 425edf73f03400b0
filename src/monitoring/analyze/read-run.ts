/**
 * Reading a run directory written by `cryptoml train` for analysis: finding it from what the user
 * typed, and loading its settings, job outcomes and metrics log without changing anything in it.
 */
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { CryptomlError, NotFoundError } from "../../core/errors.js";
import type { RunManifest } from "../../training/run/run-dir.js";
import type { RunSummary } from "../../training/run/summary.js";
import type { JobOutcomeInfo, LoadedRun, MetricsRecord, RunSettings } from "./types.js";

/** How many recent run ids a "not found" hint lists. */
const HINT_RUNS = 3;

/**
 * The run directory `ref` names: a run directory path, a run id under `runsDir`, or `latest` /
 * undefined for the newest run in `runsDir` (run ids start with their UTC start time, so the newest sorts last).
 * @throws NotFoundError naming where it looked, with the newest runs in the hint.
 */
export async function locateRun(ref: string | undefined, runsDir: string): Promise<string> {
  const root = resolve(runsDir);
  const runs = await runIds(root);
  if (ref === undefined || ref === "latest") {
    const newest = runs.at(-1);
    if (newest !== undefined) return join(root, newest);
    throw new NotFoundError(`no runs in ${root} (training.runs_dir)`, {
      hint: "train one first (cryptoml train --duration 10m), or pass a run directory: cryptoml analyze PATH",
    });
  }
  for (const candidate of [resolve(ref), join(root, ref)]) {
    if (await isFile(join(candidate, "manifest.json"))) return candidate;
  }
  const recent = runs.slice(-HINT_RUNS).reverse();
  throw new NotFoundError(
    `no run "${ref}": neither ${resolve(ref)} nor ${join(root, ref)} holds a manifest.json`,
    {
      hint:
        recent.length === 0
          ? `there are no runs in ${root}; train one with cryptoml train --duration 10m`
          : `pass a run directory or a run id from ${root}, e.g. ${recent.join(", ")}; or omit RUN for the newest`,
    },
  );
}

/** Ids of the runs under `root` (directories holding a manifest.json), oldest first. */
async function runIds(root: string): Promise<string[]> {
  const names = (await readdir(root).catch(() => [] as string[])).sort();
  const found: string[] = [];
  for (const name of names) if (await isFile(join(root, name, "manifest.json"))) found.push(name);
  return found;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function readJsonFile<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new CryptomlError("DATA_FORMAT", `${file}: not valid JSON (${(error as Error).message})`, {
      hint: "the run directory is damaged; analyse another run",
      cause: error,
    });
  }
}

/** What the analysis reads of config.json (a train session's SavedRun). */
interface SavedRunConfig {
  readonly workers?: number;
  readonly config?: {
    readonly training?: Partial<Record<string, unknown>>;
    readonly tracking?: { readonly enabled?: boolean };
    readonly dataset?: { readonly window?: number; readonly split?: { readonly validation?: number } };
  };
}

const numberOr = (value: unknown, fallback: number): number =>
  typeof value === "number" && Number.isFinite(value) ? value : fallback;

/** The settings the run trained with; schema defaults stand in for anything its config.json lacks. */
export function runSettings(saved: SavedRunConfig | undefined): RunSettings {
  const training = saved?.config?.training ?? {};
  return {
    batchSize: numberOr(training.batch_size, 64),
    epochs: numberOr(training.epochs, 50),
    workers: numberOr(saved?.workers ?? training.workers, 1),
    learningRate: numberOr(training.learning_rate, 0.001),
    gradientClip: numberOr(training.gradient_clip, 1),
    checkpointEveryMinutes: numberOr(training.checkpoint_every_minutes, 5),
    checkpointEverySteps: numberOr(training.checkpoint_every_steps, 0),
    earlyStoppingPatience: numberOr(training.early_stopping_patience, 10),
    validationFraction: numberOr(saved?.config?.dataset?.split?.validation, 0.15),
    trackingEnabled: saved?.config?.tracking?.enabled ?? true,
    window: numberOr(saved?.config?.dataset?.window, 64),
  };
}

/**
 * One metrics.jsonl line as a record, or undefined for a line that is not one (torn by a crash).
 * Fields other than job/scope/step/epoch/time are the metrics; non-finite values (logged as text) are dropped.
 */
export function parseMetricsLine(line: string): MetricsRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const { job, scope, step, epoch, time, ...rest } = raw as Record<string, unknown>;
  if (typeof job !== "string" || (scope !== "step" && scope !== "epoch")) return undefined;
  if (typeof step !== "number" || typeof epoch !== "number") return undefined;
  const parsedTime = typeof time === "string" ? Date.parse(time) : Number.NaN;
  const metrics: Record<string, number> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (typeof value === "number" && Number.isFinite(value)) metrics[key] = value;
  }
  return { job, scope, step, epoch, timeMs: Number.isFinite(parsedTime) ? parsedTime : null, metrics };
}

/** Streams metrics.jsonl (a long run logs millions of steps; the file is never held whole). */
async function readMetrics(file: string): Promise<{ records: MetricsRecord[]; skipped: number }> {
  const records: MetricsRecord[] = [];
  let skipped = 0;
  if (!(await isFile(file))) return { records, skipped };
  const lines = createInterface({
    input: createReadStream(file, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const record = parseMetricsLine(line);
    if (record === undefined) skipped += 1;
    else records.push(record);
  }
  return { records, skipped };
}

/** The job outcomes: summary.json's rows when the run finished, else the manifest's job records. */
function jobOutcomes(manifest: RunManifest, summary: RunSummary | undefined): JobOutcomeInfo[] {
  if (summary !== undefined) {
    return summary.jobs.map((j) => ({
      job: j.job,
      model: j.model,
      status: j.status,
      reason: j.reason,
      epochs: j.epochs,
      steps: j.steps,
      wallMs: j.timeMs,
    }));
  }
  return manifest.jobs.map((j) => {
    const result = (j.result ?? {}) as Partial<Record<string, unknown>>;
    return {
      job: j.key,
      model: typeof result.model === "string" ? result.model : "-",
      status: typeof result.status === "string" ? result.status : j.status,
      reason: typeof result.reason === "string" ? result.reason : `job ${j.status}`,
      epochs: numberOr(result.epochs, 0),
      steps: numberOr(result.steps, 0),
      wallMs: j.elapsedMs,
    };
  });
}

/**
 * Loads the run in `runDir` for analysis.
 * @throws CryptomlError (DATA_FORMAT) when manifest.json is missing or not a version 1 manifest.
 */
export async function loadRun(runDir: string): Promise<LoadedRun> {
  const manifestFile = join(runDir, "manifest.json");
  const manifest = await readJsonFile<RunManifest>(manifestFile);
  if (manifest?.version !== 1 || !Array.isArray(manifest.jobs)) {
    throw new CryptomlError("DATA_FORMAT", `${manifestFile}: missing or not a run manifest of version 1`, {
      hint: "analyse a run directory written by cryptoml train",
    });
  }
  const summary = await readJsonFile<RunSummary>(join(runDir, "summary.json"));
  const saved = await readJsonFile<SavedRunConfig>(join(runDir, "config.json"));
  const { records, skipped } = await readMetrics(join(runDir, "metrics.jsonl"));
  return {
    runId: manifest.runId,
    runDir,
    status: summary?.status ?? "unfinished",
    budgetMs: manifest.budgetMs,
    spentMs: summary?.spentMs ?? manifest.spentMs,
    settings: runSettings(saved),
    jobs: jobOutcomes(manifest, summary),
    records,
    skippedLines: skipped,
  };
}
