/**
 * The training metrics of one job, fed by the Trainer as a callback (steps and epochs) and by the job
 * runner (checkpoints written, how the job ended). Labels are the job's symbol and model only: never a
 * run or trial ID, so a long tuning study does not grow Prometheus' series without bound.
 */
import type { Callback, TrainingSnapshot } from "../training/callbacks/types.js";
import type { FitStatus } from "../training/trainer.js";
import { TRAINING_STATES, type TrainingState } from "./catalog.js";
import type { CryptomlMetrics } from "./registry.js";

export interface TrainingMetricsOptions {
  readonly metrics: CryptomlMetrics;
  /** The job's symbol, or "pooled" for a multi-symbol model. */
  readonly symbol: string;
  /** The architecture (`lstm`, `transformer`, …). */
  readonly model: string;
  /** The Trainer's batch size, to count the samples of each step exactly. */
  readonly batchSize: number;
  /** Training samples per epoch (the last batch of an epoch may be partial). */
  readonly trainRows: number;
  /** Epoch milliseconds clock for the heartbeat. Default Date.now. */
  readonly clock?: () => number;
  /**
   * What a non-finite loss does to `cryptoml_training_step_loss`. "alert" (default, `cryptoml train`):
   * the gauge takes the NaN/±Inf, so TrainingLossNotFinite pages. "count" (`cryptoml tune`): a diverged
   * trial is routine while sampling learning rates, so the NaN event is only counted
   * (`cryptoml_training_nan_events_total`) and the gauge keeps the last finite loss.
   */
  readonly nonFiniteLoss?: NonFiniteLossPolicy;
}

/** See TrainingMetricsOptions.nonFiniteLoss. */
export type NonFiniteLossPolicy = "alert" | "count";

/** How a job ended, as `cryptoml_training_state` names it. */
export type FinishedStatus = Exclude<TrainingState, "running">;

/** The state of a Trainer's FitStatus: a deadline is a time-out, Ctrl-C a stop. */
export function trainingStateOf(status: FitStatus): FinishedStatus {
  switch (status) {
    case "deadline":
      return "timed_out";
    case "interrupted":
      return "stopped";
    default:
      return status;
  }
}

const EARLY_STOP = /^EarlyStopping\b|early[ -]?stop/i;

/** A Trainer callback that exports the job's progress; one instance per job. */
export class TrainingMetrics implements Callback {
  readonly name = "TrainingMetrics";
  readonly #m: CryptomlMetrics;
  readonly #labels: { symbol: string; model: string };
  readonly #batchSize: number;
  readonly #trainRows: number;
  readonly #clock: () => number;
  readonly #nonFiniteLoss: NonFiniteLossPolicy;
  #lastElapsedMs: number | undefined;
  #lastBeatMs: number | undefined;
  #running = false;

  constructor(options: TrainingMetricsOptions) {
    this.#m = options.metrics;
    this.#labels = { symbol: options.symbol, model: options.model };
    this.#batchSize = options.batchSize;
    this.#trainRows = options.trainRows;
    this.#clock = options.clock ?? Date.now;
    this.#nonFiniteLoss = options.nonFiniteLoss ?? "alert";
  }

  onFitStart(snapshot: TrainingSnapshot): void {
    this.#markRunning(snapshot);
  }

  onEpochStart(snapshot: TrainingSnapshot): void {
    // A resumed fit skips onFitStart; its first hook starts the clock and the state instead.
    this.#markRunning(snapshot);
  }

  onStepEnd(snapshot: TrainingSnapshot): void {
    this.#markRunning(snapshot);
    const m = this.#m;
    const labels = this.#labels;
    const { loss, grad_norm: gradNorm, lr } = snapshot.metrics;
    if (loss !== undefined && (Number.isFinite(loss) || this.#nonFiniteLoss === "alert")) {
      m.gauge("cryptoml_training_step_loss").set(labels, loss);
    }
    if (gradNorm !== undefined) m.gauge("cryptoml_training_gradient_norm").set(labels, gradNorm);
    m.gauge("cryptoml_training_learning_rate").set(labels, lr ?? snapshot.learningRate);
    m.counter("cryptoml_training_steps_total").inc(labels);
    m.counter("cryptoml_training_samples_total").inc(labels, this.#stepSamples(snapshot.positionInEpoch));
    this.#lastBeatMs = this.#clock();
    m.gauge("cryptoml_training_last_step_timestamp_seconds").set(labels, this.#lastBeatMs / 1000);
    this.#addSeconds(snapshot);
  }

  onEpochEnd(snapshot: TrainingSnapshot): void {
    this.#markRunning(snapshot);
    const m = this.#m;
    const labels = this.#labels;
    const metrics = snapshot.metrics;
    const loss = m.gauge("cryptoml_training_loss");
    if (metrics.train_loss !== undefined) loss.set({ ...labels, split: "train" }, metrics.train_loss);
    if (metrics.val_loss !== undefined) loss.set({ ...labels, split: "val" }, metrics.val_loss);
    if (metrics.val_directional_accuracy !== undefined) {
      m.gauge("cryptoml_training_directional_accuracy").set(labels, metrics.val_directional_accuracy);
    }
    if (metrics.samples_per_s !== undefined) {
      m.gauge("cryptoml_training_samples_per_second").set(labels, metrics.samples_per_s);
    }
    m.counter("cryptoml_training_epochs_total").inc(labels);
    this.#addSeconds(snapshot);
  }

  onFitEnd(snapshot: TrainingSnapshot): void {
    this.#addSeconds(snapshot);
  }

  onException(snapshot: TrainingSnapshot, error: unknown): void {
    this.#addSeconds(snapshot);
    this.finished("failed", error instanceof Error ? error.message : String(error));
  }

  /**
   * The Trainer refused a step whose loss or gradient norm was non-finite (its observer's `nonFinite`).
   * With nonFiniteLoss "alert" the step loss becomes that loss (NaN for a non-finite gradient with a
   * finite loss); with "count" it is left alone. The NaN event is counted by finished("diverged").
   */
  nonFinite(loss: number): void {
    if (this.#nonFiniteLoss !== "alert") return;
    this.#m.gauge("cryptoml_training_step_loss").set(this.#labels, Number.isFinite(loss) ? Number.NaN : loss);
  }

  /** Counts a checkpoint the job wrote. */
  checkpointWritten(): void {
    this.#m.counter("cryptoml_training_checkpoints_total").inc(this.#labels);
  }

  /**
   * Records how the job ended: the state gauge moves to `status`, the heartbeat series is removed, an
   * early stop (a reason from EarlyStopping) is counted, and "diverged" counts a NaN event and (with
   * nonFiniteLoss "alert") sets the step loss to NaN. Events are counted once, however often this is called.
   */
  finished(status: FinishedStatus, reason?: string): void {
    this.#setState(status);
    this.#m.gauge("cryptoml_training_last_step_timestamp_seconds").remove(this.#labels);
    if (!this.#running) return;
    this.#running = false;
    if (reason !== undefined && EARLY_STOP.test(reason)) {
      this.#m.counter("cryptoml_training_early_stops_total").inc(this.#labels);
    }
    if (status === "diverged") {
      this.#m.counter("cryptoml_training_nan_events_total").inc(this.#labels);
      if (this.#nonFiniteLoss === "alert") {
        this.#m.gauge("cryptoml_training_step_loss").set(this.#labels, Number.NaN);
      }
    }
  }

  /** Epoch milliseconds of the last optimiser step, undefined before the first (for heartbeatCheck). */
  lastBeatMs(): number | undefined {
    return this.#lastBeatMs;
  }

  #markRunning(snapshot: TrainingSnapshot): void {
    if (this.#lastElapsedMs === undefined) this.#lastElapsedMs = snapshot.elapsedMs;
    if (this.#running) return;
    this.#running = true;
    this.#setState("running");
  }

  #setState(current: TrainingState): void {
    const gauge = this.#m.gauge("cryptoml_training_state");
    for (const state of TRAINING_STATES) gauge.set({ ...this.#labels, state }, state === current ? 1 : 0);
  }

  /** Samples in the step that just finished: the last batch of an epoch holds the remainder. */
  #stepSamples(positionInEpoch: number): number {
    const before = (positionInEpoch - 1) * this.#batchSize;
    return Math.max(0, Math.min(this.#batchSize, this.#trainRows - before));
  }

  #addSeconds(snapshot: TrainingSnapshot): void {
    const last = this.#lastElapsedMs ?? snapshot.elapsedMs;
    const delta = snapshot.elapsedMs - last;
    this.#lastElapsedMs = snapshot.elapsedMs;
    if (delta > 0) this.#m.counter("cryptoml_training_seconds_total").inc(this.#labels, delta / 1000);
  }
}
