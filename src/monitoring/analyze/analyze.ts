/**
 * The performance analysis of a loaded run: per job its throughput, time split, bottleneck and
 * recommendations, and a whole-run section.
 */
import { availableParallelism } from "node:os";
import { median } from "./numbers.js";
import { recommend } from "./recommend.js";
import { analyzeThroughput, DEFAULT_BUCKETS } from "./throughput.js";
import { splitTime } from "./time-split.js";
import type { JobAnalysis, JobOutcomeInfo, LoadedRun, MetricsRecord, RunAnalysis } from "./types.js";

export interface AnalyzeOptions {
  /** Time buckets of the step throughput (default {@link DEFAULT_BUCKETS}). */
  readonly buckets?: number;
  /** CPU cores to base the workers advice on (default: this machine's `os.availableParallelism()`). */
  readonly cores?: number;
}

/**
 * Samples a job trained: each finished epoch's rows (its compute samples/s × compute seconds), plus
 * batch_size per step logged after the last finished epoch (the last batch of an epoch may be smaller).
 */
export function samplesTrained(records: readonly MetricsRecord[], batchSize: number): number {
  let samples = 0;
  let lastEpochStep = 0;
  for (const r of records) {
    if (r.scope !== "epoch") continue;
    samples += (r.metrics.samples_per_s ?? 0) * (r.metrics.epoch_time_s ?? 0);
    lastEpochStep = Math.max(lastEpochStep, r.step);
  }
  const trailingSteps = records.filter((r) => r.scope === "step" && r.step > lastEpochStep).length;
  return Math.round(samples + trailingSteps * batchSize);
}

/** Median wall time of the job's epochs: time_wall_s where logged, else the compute time epoch_time_s. */
function medianEpochSeconds(records: readonly MetricsRecord[]): number {
  const epochs = records.filter((r) => r.scope === "epoch");
  const walls = epochs.flatMap((r) => (r.metrics.time_wall_s === undefined ? [] : [r.metrics.time_wall_s]));
  if (walls.length > 0) return median(walls);
  return median(
    epochs.flatMap((r) => (r.metrics.epoch_time_s === undefined ? [] : [r.metrics.epoch_time_s])),
  );
}

function analyzeJob(
  run: LoadedRun,
  outcome: JobOutcomeInfo,
  records: readonly MetricsRecord[],
  options: Required<AnalyzeOptions>,
): JobAnalysis {
  const wallS = outcome.wallMs / 1000;
  const throughput = analyzeThroughput(records, options.buckets);
  const split = splitTime(records, wallS);
  // A run without a summary yet has no counts in its manifest: what the log shows is the best count.
  const epochs = Math.max(outcome.epochs, records.filter((r) => r.scope === "epoch").length);
  const steps = Math.max(outcome.steps, records.at(-1)?.step ?? 0);
  const recommendations = recommend({
    outcome: { ...outcome, epochs, steps },
    settings: run.settings,
    split,
    throughput,
    medianEpochS: medianEpochSeconds(records),
    cores: options.cores,
    jobCount: run.jobs.length,
    runDir: run.runDir,
  });
  return {
    job: outcome.job,
    model: outcome.model,
    status: outcome.status,
    reason: outcome.reason,
    epochs,
    steps,
    wallS,
    samples: samplesTrained(records, run.settings.batchSize),
    throughput,
    split,
    recommendations,
  };
}

/**
 * Analyses every job of `run` (in the run's job order) and the run as a whole. Jobs without metrics
 * (not started, or assembled ensembles that train nothing) are analysed from their outcome alone.
 */
export function analyzeRun(run: LoadedRun, options: AnalyzeOptions = {}): RunAnalysis {
  const resolved: Required<AnalyzeOptions> = {
    buckets: options.buckets ?? DEFAULT_BUCKETS,
    cores: options.cores ?? availableParallelism(),
  };
  const byJob = new Map<string, MetricsRecord[]>();
  for (const record of run.records) {
    const list = byJob.get(record.job);
    if (list === undefined) byJob.set(record.job, [record]);
    else list.push(record);
  }
  const jobs = run.jobs.map((outcome) => analyzeJob(run, outcome, byJob.get(outcome.job) ?? [], resolved));
  const samples = jobs.reduce((t, j) => t + j.samples, 0);
  const spentS = run.spentMs / 1000;
  return {
    runId: run.runId,
    runDir: run.runDir,
    status: run.status,
    jobs,
    run: {
      jobs: jobs.length,
      budgetS: run.budgetMs / 1000,
      spentS,
      samples,
      samplesPerS: spentS > 0 ? samples / spentS : 0,
      skippedLines: run.skippedLines,
    },
  };
}
