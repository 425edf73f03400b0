/**
 * Connects a training run to the exporter: one TrainingMetrics per job (labels: the job's symbol and
 * architecture), the Trainer's observer notifications, and the freshest heartbeat for /ready.
 */
import { POOLED_JOB } from "../training/run/jobs.js";
import type { JobMonitor, JobMonitorFactory, MonitoredJob } from "../training/run/monitor.js";
import type { CryptomlMetrics } from "./registry.js";
import { TrainingMetrics, trainingStateOf } from "./training-metrics.js";

export interface TrainingMonitor {
  readonly factory: JobMonitorFactory;
  /** Epoch ms of the last step of the job running now (or the last one), undefined before any step. */
  lastBeatMs(): number | undefined;
}

/** The `symbol` label of a job: `BTCUSDT` for `BTCUSDT` and its ensemble members `BTCUSDT/lstm`, or `pooled`. */
export function jobSymbolLabel(key: string): string {
  return key === POOLED_JOB ? "pooled" : (key.split("/")[0] as string);
}

export function trainingMonitor(metrics: CryptomlMetrics): TrainingMonitor {
  let current: TrainingMetrics | undefined;
  const factory = (job: MonitoredJob): JobMonitor => {
    const labels = { symbol: jobSymbolLabel(job.key), model: job.model };
    const tracker = new TrainingMetrics({
      metrics,
      ...labels,
      batchSize: job.batchSize,
      trainRows: job.trainRows,
    });
    current = tracker;
    return {
      callbacks: [tracker],
      observer: {
        checkpointWritten: () => tracker.checkpointWritten(),
        // The refused step's own value (NaN or ±Inf), so the non-finite rule sees what happened.
        nonFinite: (loss) =>
          metrics.gauge("cryptoml_training_step_loss").set(labels, Number.isFinite(loss) ? Number.NaN : loss),
      },
      finished: (status, reason) =>
        tracker.finished(status === "failed" ? "failed" : trainingStateOf(status), reason),
    };
  };
  return { factory, lastBeatMs: () => current?.lastBeatMs() };
}
