/**
 * How a training run lets a monitor watch its jobs without depending on it: the run asks a factory for
 * each job's callbacks and observer and reports how the job ended. The Prometheus exporter
 * (src/monitoring/) implements it; training code never imports monitoring.
 */
import type { Callback } from "../callbacks/types.js";
import type { FitStatus, TrainerObserver } from "../trainer.js";

/** What a monitor learns about a job before it starts. */
export interface MonitoredJob {
  /** The job key: a symbol, `pooled`, or `<symbol>/<member>`. */
  readonly key: string;
  readonly model: string;
  readonly symbols: readonly string[];
  readonly batchSize: number;
  /** Training samples per epoch. */
  readonly trainRows: number;
}

export interface JobMonitor {
  readonly callbacks: readonly Callback[];
  readonly observer: TrainerObserver;
  /** The job ended: how the fit ended, or `failed` when it threw. */
  finished(status: FitStatus | "failed", reason: string): void;
}

export type JobMonitorFactory = (job: MonitoredJob) => JobMonitor;
