/**
 * Connects a training run to the exporter: one TrainingMetrics per job (labels: the job's symbol and
 * architecture), the Trainer's observer notifications, and the freshest heartbeat for /ready.
 */
import { POOLED_JOB } from "../training/run/jobs.js";
import type { JobMonitor, JobMonitorFactory, MonitoredJob } from "../training/run/monitor.js";
import type { CryptomlMetrics } from "./registry.js";
import { type NonFiniteLossPolicy, TrainingMetrics, trainingStateOf } from "./training-metrics.js";

export interface TrainingMonitor {
  readonly factory: JobMonitorFactory;
  /** Epoch ms of the last step of the job running now (or the last one), undefined before any step. */
  lastBeatMs(): number | undefined;
}

/** The `symbol` label of a job: `BTCUSDT` for `BTCUSDT` and its ensemble members `BTCUSDT/lstm`, or `pooled`. */
export function jobSymbolLabel(key: string): string {
  return key === POOLED_JOB ? "pooled" : (key.split("/")[0] as string);
}

export interface TrainingMonitorOptions {
  /**
   * What a diverged job's non-finite loss does to `cryptoml_training_step_loss`: "alert" (default, for
   * `cryptoml train`) exposes it so TrainingLossNotFinite pages; "count" (for `cryptoml tune`, where every
   * trial writes the same series and a diverged trial is routine) only counts the NaN event.
   */
  readonly nonFiniteLoss?: NonFiniteLossPolicy;
}

/**
 * Watches each job of a run or study. Every job's `finished` removes its heartbeat series, so a run or
 * study that has ended never looks stalled.
 */
export function trainingMonitor(
  metrics: CryptomlMetrics,
  options: TrainingMonitorOptions = {},
): TrainingMonitor {
  let current: TrainingMetrics | undefined;
  const factory = (job: MonitoredJob): JobMonitor => {
    const tracker = new TrainingMetrics({
      metrics,
      symbol: jobSymbolLabel(job.key),
      model: job.model,
      batchSize: job.batchSize,
      trainRows: job.trainRows,
      ...(options.nonFiniteLoss === undefined ? {} : { nonFiniteLoss: options.nonFiniteLoss }),
    });
    current = tracker;
    return {
      callbacks: [tracker],
      observer: {
        checkpointWritten: () => tracker.checkpointWritten(),
        nonFinite: (loss) => tracker.nonFinite(loss),
      },
      finished: (status, reason) =>
        tracker.finished(status === "failed" ? "failed" : trainingStateOf(status), reason),
    };
  };
  return { factory, lastBeatMs: () => current?.lastBeatMs() };
}
