/**
 * ProgressDisplay: a throttled progress line while training, and one summary line per epoch, e.g.
 *   epoch 3/50  step 1200  batch 40/120  loss 0.8123  412 samples/s  ETA 2m 10s
 *   epoch 3/50 done  train_loss 0.8123  val_loss 0.8456  val_dir_acc 54.2%  elapsed 12m 5s
 */
import { formatDuration } from "../duration.js";
import {
  type Callback,
  callbackError,
  formatValue,
  type HookResult,
  type TrainerContext,
  type TrainingSnapshot,
} from "./types.js";

export interface ProgressDisplayOptions {
  /** Where lines go (default: the run's `context.log`, stderr in the CLI). */
  readonly write?: (line: string) => void;
  /** The least time between two progress lines, in ms, >= 0 (default 2000); epoch lines are never held back. */
  readonly intervalMs?: number;
  /** The run's number of epochs, for `epoch 3/50` and the ETA. */
  readonly epochs?: number;
  /** Batches per epoch, for `batch 40/120` and the ETA. */
  readonly batchesPerEpoch?: number;
  /** The clock, in epoch milliseconds like `deadline` (default `Date.now`); tests inject a fake one. */
  readonly clock?: () => number;
}

/** Where the rate is measured from: a time and a batch count since the start of the run. */
interface RateOrigin {
  readonly time: number;
  readonly batches: number;
}

export class ProgressDisplay implements Callback {
  readonly name = "ProgressDisplay";
  readonly intervalMs: number;
  readonly epochs: number | undefined;
  readonly batchesPerEpoch: number | undefined;
  readonly #clock: () => number;
  #write: ((line: string) => void) | undefined;
  #lastLine: number | undefined;
  #origin: RateOrigin | undefined;

  /** @throws CryptomlError (USAGE) quoting the option, its value and the rule, e.g. `intervalMs=-1 must be >= 0`. */
  constructor(options: ProgressDisplayOptions = {}) {
    const { intervalMs = 2000, epochs, batchesPerEpoch, write, clock = Date.now } = options;
    const fail = (what: string, value: unknown, rule: string) =>
      callbackError(`ProgressDisplay: ${what}=${formatValue(value)} ${rule}`);
    if (typeof intervalMs !== "number" || !Number.isFinite(intervalMs) || intervalMs < 0) {
      throw fail("intervalMs", intervalMs, "must be a finite number >= 0");
    }
    for (const [what, value] of [
      ["epochs", epochs],
      ["batchesPerEpoch", batchesPerEpoch],
    ] as const) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
        throw fail(what, value, "must be an integer >= 1");
      }
    }
    if (write !== undefined && typeof write !== "function") throw fail("write", write, "must be a function");
    if (typeof clock !== "function") throw fail("clock", clock, "must be a function returning epoch ms");
    this.intervalMs = intervalMs;
    this.epochs = epochs;
    this.batchesPerEpoch = batchesPerEpoch;
    this.#write = write;
    this.#clock = clock;
  }

  setup(context: TrainerContext): void {
    this.#write ??= context.log;
  }

  /** The rate is measured from here, so a resumed run's rate counts only this process's batches. */
  onFitStart(snapshot: TrainingSnapshot): HookResult {
    this.#origin = { time: this.#clock(), batches: this.#batchesDone(snapshot) };
  }

  /** A progress line, unless one was written less than `intervalMs` ago; the first step always gets one. */
  onStepEnd(snapshot: TrainingSnapshot): HookResult {
    const write = this.#requireWrite();
    const now = this.#clock();
    this.#origin ??= { time: now, batches: this.#batchesDone(snapshot) };
    if (this.#lastLine !== undefined && now - this.#lastLine < this.intervalMs) return;
    this.#lastLine = now;
    const m = snapshot.metrics;
    const parts = [this.#epochLabel(snapshot), `step ${snapshot.step}`];
    if (this.batchesPerEpoch !== undefined) {
      parts.push(`batch ${snapshot.positionInEpoch}/${this.batchesPerEpoch}`);
    }
    if (m.loss !== undefined) parts.push(`loss ${m.loss.toFixed(4)}`);
    if (m.samples_per_s !== undefined) parts.push(`${Math.round(m.samples_per_s)} samples/s`);
    const eta = this.etaMs(snapshot, now);
    if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
    write(parts.join("  "));
  }

  /** One line per epoch: train and validation loss, validation directional accuracy, elapsed time. */
  onEpochEnd(snapshot: TrainingSnapshot): HookResult {
    const write = this.#requireWrite();
    const m = snapshot.metrics;
    const parts = [`${this.#epochLabel(snapshot)} done`];
    for (const key of ["train_loss", "val_loss"] as const) {
      const value = m[key];
      if (value !== undefined) parts.push(`${key} ${value.toFixed(4)}`);
    }
    const accuracy = m.val_directional_accuracy;
    // A fraction in [0, 1] (training/metrics.ts); NaN when no row had a direction.
    if (accuracy !== undefined) parts.push(`val_dir_acc ${(accuracy * 100).toFixed(1)}%`);
    parts.push(`elapsed ${formatDuration(snapshot.elapsedMs)}`);
    write(parts.join("  "));
  }

  /**
   * Milliseconds left: the time to the deadline, or the batches left at this process's average rate
   * (validation pauses included), whichever is sooner; undefined when neither can be told yet.
   */
  etaMs(snapshot: TrainingSnapshot, now: number = this.#clock()): number | undefined {
    const byDeadline = snapshot.deadline === undefined ? undefined : Math.max(0, snapshot.deadline - now);
    const byRate = this.#etaByRate(snapshot, now);
    if (byDeadline === undefined) return byRate;
    return byRate === undefined ? byDeadline : Math.min(byDeadline, byRate);
  }

  #etaByRate(snapshot: TrainingSnapshot, now: number): number | undefined {
    const { epochs, batchesPerEpoch } = this;
    const origin = this.#origin;
    if (epochs === undefined || batchesPerEpoch === undefined || origin === undefined) return undefined;
    const done = this.#batchesDone(snapshot);
    const progressed = done - origin.batches;
    const spent = now - origin.time;
    if (progressed <= 0 || spent <= 0) return undefined;
    const left = Math.max(0, epochs * batchesPerEpoch - done);
    return (left * spent) / progressed;
  }

  /** Batches since the start of the run, as far as `batchesPerEpoch` tells (the step count otherwise). */
  #batchesDone(snapshot: TrainingSnapshot): number {
    const per = this.batchesPerEpoch;
    return per === undefined ? snapshot.step : snapshot.epoch * per + snapshot.positionInEpoch;
  }

  /** `epoch 3/50`, 1-based for people (snapshots count from 0). */
  #epochLabel(snapshot: TrainingSnapshot): string {
    const n = snapshot.epoch + 1;
    return this.epochs === undefined ? `epoch ${n}` : `epoch ${n}/${this.epochs}`;
  }

  #requireWrite(): (line: string) => void {
    if (this.#write === undefined) {
      throw callbackError(
        "ProgressDisplay has nowhere to write: no write option and setup(context) was not called",
        "pass { write: (line) => ... }, or let the Trainer call setup",
      );
    }
    return this.#write;
  }
}
