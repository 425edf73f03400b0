/**
 * The time-bounded multi-symbol run behind `cryptoml train`: plans the jobs, shares the budget
 * (jobs.ts), runs each job (fit-job.ts), keeps the manifest current so a crash can be resumed, and
 * writes the summary. See docs/trainer.md.
 */

import { join } from "node:path";
import type { ResolvedConfig } from "../../config/index.js";
import { CryptomlError } from "../../core/errors.js";
import type { CandleSeries } from "../../data/candles.js";
import type { ModelIo, ModelName } from "../../models/definition.js";
import type { TrackingClient } from "../../tracking/client.js";
import { flattenParams, type TrackerOptions, TrainingTracker } from "../../tracking/training.js";
import { elapsedInCheckpoint, type JobOutcome, runJob } from "./fit-job.js";
import { type JobPlan, planJobs, shareOfBudget } from "./jobs.js";
import type { JobMonitorFactory } from "./monitor.js";
import { poolTrainingData } from "./pooled.js";
import { type PreparedSymbol, prepareSymbol } from "./prepare.js";
import { type JobRecord, RunDirectory, type RunManifest } from "./run-dir.js";
import { finiteOrNull, formatSummary, type RunSummary, type SummaryRow } from "./summary.js";

export interface TrainRunOptions {
  readonly config: ResolvedConfig;
  readonly symbols: readonly string[];
  readonly durationMs: number;
  readonly model: ModelName;
  readonly pooled: boolean;
  readonly workers: number;
  readonly loadSeries: (symbol: string) => Promise<CandleSeries>;
  readonly signal?: AbortSignal;
  readonly log: (line: string) => void;
  readonly command?: readonly string[];
  readonly clock?: () => number;
  /** Record the run in experiment tracking (docs/tracking.md); absent = not tracked. */
  readonly tracking?: { readonly client: TrackingClient; readonly options: TrackerOptions };
  /** Watches each job (the Prometheus exporter); absent = not monitored. */
  readonly monitor?: JobMonitorFactory;
}

/** The part of each job's share kept for what follows training: a last validation, saving the model. */
const WRAP_UP_SHARE = 0.05;

/** What a run directory's config.json holds: enough to continue the run exactly. */
interface SavedRun {
  readonly version: 1;
  readonly config: ResolvedConfig;
  readonly symbols: string[];
  readonly durationMs: number;
  readonly model: ModelName;
  readonly pooled: boolean;
  readonly workers: number;
  readonly command: string[];
}

/** Starts a new run. */
export async function startTrainingRun(options: TrainRunOptions): Promise<RunSummary> {
  const runDir = await RunDirectory.create(options.config.training.runs_dir);
  const saved: SavedRun = {
    version: 1,
    config: options.config,
    symbols: [...options.symbols],
    durationMs: options.durationMs,
    model: options.model,
    pooled: options.pooled,
    workers: options.workers,
    command: [...(options.command ?? [])],
  };
  await runDir.writeJson("config.json", saved);
  const plans = planJobs(saved.symbols, saved.model, saved.config.models.ensemble.members, saved.pooled);
  const manifest: RunManifest = {
    version: 1,
    runId: runDir.runId,
    createdAt: new Date().toISOString(),
    budgetMs: saved.durationMs,
    spentMs: 0,
    jobs: plans.map((p) => ({ key: p.key, status: "pending", elapsedMs: 0 })),
  };
  await runDir.writeManifest(manifest);
  options.log(`run directory: ${runDir.path}`);
  return continueRun(runDir, saved, manifest, options);
}

/**
 * Continues the run in `path` (a run directory, or the runs directory for its newest run) with the
 * budget that remains, using the settings it was started with.
 */
export async function resumeTrainingRun(
  path: string,
  options: Pick<TrainRunOptions, "loadSeries" | "signal" | "log" | "clock" | "tracking" | "monitor">,
): Promise<RunSummary> {
  const runDir = await RunDirectory.open(path);
  const saved = await runDir.readJson<SavedRun>("config.json");
  if (saved?.version !== 1) {
    throw new CryptomlError(
      "DATA_FORMAT",
      `${runDir.path}/config.json is not a run configuration of version 1`,
      {
        hint: "start a new run",
      },
    );
  }
  const manifest = await runDir.readManifest();
  options.log(`resuming run ${runDir.path}`);
  return continueRun(runDir, saved, manifest, { ...saved, ...options });
}

async function continueRun(
  runDir: RunDirectory,
  saved: SavedRun,
  manifest: RunManifest,
  options: Pick<TrainRunOptions, "loadSeries" | "signal" | "log" | "clock" | "tracking" | "monitor">,
): Promise<RunSummary> {
  const clock = options.clock ?? Date.now;
  const plans = planJobs(saved.symbols, saved.model, saved.config.models.ensemble.members, saved.pooled);
  const prepared = new Map<string, PreparedSymbol>();
  const prepare = async (symbol: string): Promise<PreparedSymbol> => {
    let found = prepared.get(symbol);
    if (found === undefined) {
      found = prepareSymbol(await options.loadSeries(symbol), saved.config.features, saved.config.dataset);
      prepared.set(symbol, found);
    }
    return found;
  };
  const processStart = clock();
  let spentBefore = manifest.spentMs ?? 0;
  const spentNow = () => spentBefore + (clock() - processStart);
  const save = async () => {
    manifest.spentMs = spentNow();
    await runDir.writeManifest(manifest);
  };
  let interrupted = false;
  const tracker =
    options.tracking === undefined
      ? undefined
      : await TrainingTracker.start(options.tracking.client, {
          ...options.tracking.options,
          runName: `train ${manifest.runId}`,
          config: saved.config,
          ...(manifest.trackingRunId === undefined ? {} : { parentRunId: manifest.trackingRunId }),
        });
  if (tracker !== undefined && manifest.trackingRunId === undefined) {
    manifest.trackingRunId = tracker.parentRunId;
    await save();
  }

  for (const plan of plans) {
    const record = manifest.jobs.find((j) => j.key === plan.key) as JobRecord;
    if (record.status === "done" || record.status === "failed") continue;
    if (options.signal?.aborted) {
      interrupted = true;
      break;
    }
    const jobStart = clock();
    const resuming = record.status === "running";
    // The crashed process trained this job after its last manifest write: count that time as spent.
    if (resuming) {
      const lost = Math.max(0, (await elapsedInCheckpoint(runDir, plan.key)) - (record.trainedMs ?? 0));
      spentBefore += lost;
      record.elapsedMs += lost;
    }
    const jobsLeft = manifest.jobs.filter((j) => j.status === "pending" || j.status === "running").length;
    const allowedMs = shareOfBudget(saved.durationMs - spentNow(), jobsLeft);
    // 5% of the share is kept for the work after training (a last validation, saving the model).
    const deadline = clock() + allowedMs * (1 - WRAP_UP_SHARE);
    record.status = "running";
    await save();

    const { data, io } = await dataFor(plan, prepare);
    const tracking = await tracker?.job(
      plan.key,
      flattenParams({
        job: plan.key,
        symbols: plan.symbols.join(","),
        model: plan.model,
        workers: saved.workers,
        training: saved.config.training,
        dataset: saved.config.dataset,
        architecture:
          plan.model === "ensemble" ? saved.config.models.ensemble : saved.config.models[plan.model],
        features: saved.config.features.map((f) => f.type).join(","),
      }),
      record.trackingRunId,
    );
    if (tracking !== undefined && record.trackingRunId === undefined) {
      record.trackingRunId = tracking.runId;
      await save();
    }
    let outcome: JobOutcome;
    try {
      outcome = await runJob({
        plan,
        config: saved.config,
        data,
        io,
        runDir,
        workers: saved.workers,
        deadline,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        log: options.log,
        resume: resuming,
        ...(tracking === undefined ? {} : { tracking }),
        ...(options.monitor === undefined ? {} : { monitor: options.monitor }),
      });
    } catch (error) {
      record.elapsedMs += clock() - jobStart;
      await save();
      throw error;
    }
    record.elapsedMs += clock() - jobStart;
    record.trainedMs = outcome.elapsedMs;
    if (outcome.status === "interrupted") {
      interrupted = true;
      await save();
      break;
    }
    record.status = "done";
    const baselines = plan.symbols.length === 1 ? (await prepare(plan.symbols[0] as string)).baselines : null;
    record.result = { ...outcome, baselines } as unknown as Record<string, unknown>;
    await save();
    options.log(
      `${plan.key}: ${outcome.status} after ${outcome.epochs} epoch(s), best val loss ${outcome.bestValLoss.toFixed(4)}`,
    );
  }

  const rows = plans.map((plan) =>
    summaryRow(plan, manifest.jobs.find((j) => j.key === plan.key) as JobRecord),
  );
  await save();
  const summary: RunSummary = {
    runId: manifest.runId,
    runDir: runDir.path,
    status: interrupted ? "interrupted" : "completed",
    budgetMs: saved.durationMs,
    spentMs: spentNow(),
    trackingRunId: manifest.trackingRunId ?? null,
    jobs: rows,
  };
  await runDir.writeJson("summary.json", summary);
  await runDir.writeText("summary.txt", `${formatSummary(summary)}\n`);
  await tracker?.finish(
    interrupted ? "KILLED" : "FINISHED",
    ["config.json", "summary.json", "summary.txt"].map((name) => ({
      localPath: join(runDir.path, name),
      artifactPath: "",
    })),
  );
  return summary;
}

/** The job's data: one symbol's, or every symbol's pooled (their windows and features must agree). */
async function dataFor(plan: JobPlan, prepare: (symbol: string) => Promise<PreparedSymbol>) {
  const parts = await Promise.all(plan.symbols.map(prepare));
  const first = parts[0] as PreparedSymbol;
  if (parts.length === 1) return { data: first.data, io: first.io };
  const io: ModelIo = {
    ...first.io,
    // One scale for all symbols: the root mean square of their training scales.
    returnScale: Math.fround(Math.sqrt(parts.reduce((t, p) => t + p.io.returnScale ** 2, 0) / parts.length)),
  };
  return {
    data: poolTrainingData(parts.map((p) => ({ data: p.data, sampleCount: p.dataset.samples.count }))),
    io,
  };
}

function summaryRow(plan: JobPlan, record: JobRecord): SummaryRow {
  const r = record.result as (JobOutcome & { baselines: SummaryRow["baselines"] }) | undefined;
  return {
    job: plan.key,
    symbols: plan.symbols,
    model: plan.model,
    status:
      r?.status ??
      (record.status === "running" ? "interrupted" : record.status === "failed" ? "failed" : "pending"),
    reason:
      r?.reason ?? (record.status === "running" ? "interrupted; continue with --resume" : "not started"),
    epochs: r?.epochs ?? 0,
    steps: r?.steps ?? 0,
    bestValLoss: finiteOrNull(r?.bestValLoss),
    valMae: finiteOrNull(r?.valMae),
    valDirectionalAccuracy: finiteOrNull(r?.valDirectionalAccuracy),
    baselines: r?.baselines ?? null,
    timeMs: record.elapsedMs,
    bestCheckpoint: r?.bestCheckpoint ?? null,
    modelPath: r?.modelPath ?? null,
    trackingRunId: record.trackingRunId ?? null,
    registered: r?.registered ?? null,
  };
}
