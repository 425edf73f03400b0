/**
 * EarlyStopping with the semantics of Lightning's: stop after `patience` epochs without an improvement
 * larger than `minDelta`, or at once when the monitored value is non-finite or crosses a divergence
 * threshold. Checked at the end of every epoch, on the epoch's metrics (validation included).
 */
import {
  type Callback,
  callbackError,
  formatValue,
  type HookResult,
  stopRequest,
  type TrainingSnapshot,
} from "./types.js";

export interface EarlyStoppingOptions {
  /** The metric to watch (default "val_loss"). */
  readonly monitor?: string;
  /** Whether lower ("min", default) or higher ("max") is better. */
  readonly mode?: "min" | "max";
  /** Epochs without improvement before stopping, an integer >= 0 (default 10). */
  readonly patience?: number;
  /** The amount an improvement must exceed, >= 0 (default 0). */
  readonly minDelta?: number;
  /** Stop at once when the value is worse than this (above it in "min" mode, below in "max"). */
  readonly divergenceThreshold?: number;
  /** Stop at once when the value is NaN or infinite (default true). */
  readonly checkFinite?: boolean;
  /** The key of the state in checkpoints (default `EarlyStopping[monitor,mode]`). */
  readonly stateKey?: string;
}

/** The state of an {@link EarlyStopping}, as stored in checkpoints (non-finite numbers as strings). */
export interface EarlyStoppingState {
  /** The best value so far; null before the first epoch. */
  readonly best: number | "Infinity" | "-Infinity" | null;
  /** Epochs since the last improvement. */
  readonly wait: number;
  /** The epoch at which it asked to stop, or null. */
  readonly stoppedEpoch: number | null;
}

export class EarlyStopping implements Callback {
  readonly name = "EarlyStopping";
  readonly stateKey: string;
  readonly monitor: string;
  readonly mode: "min" | "max";
  readonly patience: number;
  readonly minDelta: number;
  readonly divergenceThreshold: number | undefined;
  readonly checkFinite: boolean;
  #best: number;
  #wait = 0;
  #stoppedEpoch: number | null = null;

  /** @throws CryptomlError (USAGE) quoting the option, its value and the rule, e.g. `patience=-1 must be >= 0`. */
  constructor(options: EarlyStoppingOptions = {}) {
    const { monitor = "val_loss", mode = "min", patience = 10, minDelta = 0, checkFinite = true } = options;
    const fail = (what: string, value: unknown, rule: string) =>
      callbackError(`EarlyStopping: ${what}=${formatValue(value)} ${rule}`);
    if (typeof monitor !== "string" || monitor === "")
      throw fail("monitor", monitor, "must be a metric name");
    if (mode !== "min" && mode !== "max") throw fail("mode", mode, 'must be "min" or "max"');
    if (!Number.isSafeInteger(patience)) throw fail("patience", patience, "must be an integer");
    if (patience < 0) throw fail("patience", patience, "must be >= 0");
    if (typeof minDelta !== "number" || !Number.isFinite(minDelta)) {
      throw fail("minDelta", minDelta, "must be a finite number");
    }
    if (minDelta < 0) throw fail("minDelta", minDelta, "must be >= 0");
    const threshold = options.divergenceThreshold;
    if (threshold !== undefined && (typeof threshold !== "number" || !Number.isFinite(threshold))) {
      throw fail("divergenceThreshold", threshold, "must be a finite number");
    }
    if (typeof checkFinite !== "boolean") throw fail("checkFinite", checkFinite, "must be true or false");
    const stateKey = options.stateKey ?? `EarlyStopping[${monitor},${mode}]`;
    if (typeof stateKey !== "string" || stateKey === "") {
      throw fail("stateKey", stateKey, "must be a non-empty string");
    }
    this.monitor = monitor;
    this.mode = mode;
    this.patience = patience;
    this.minDelta = minDelta;
    this.divergenceThreshold = threshold;
    this.checkFinite = checkFinite;
    this.stateKey = stateKey;
    this.#best = this.#initialBest();
  }

  /** The best value so far (±Infinity before the first epoch). */
  get best(): number {
    return this.#best;
  }

  /** Epochs since the last improvement. */
  get wait(): number {
    return this.#wait;
  }

  /** The epoch at which it asked to stop, or null. */
  get stoppedEpoch(): number | null {
    return this.#stoppedEpoch;
  }

  /** @throws CryptomlError (USAGE) when the epoch's metrics lack `monitor`. */
  onEpochEnd(snapshot: TrainingSnapshot): HookResult {
    const current = snapshot.metrics[this.monitor];
    if (current === undefined) {
      const available = Object.keys(snapshot.metrics);
      throw callbackError(
        `EarlyStopping: monitor="${this.monitor}" is not among the epoch's metrics (${available.length === 0 ? "none" : available.join(", ")})`,
        "set monitor to one of them; validation metrics need a validation set",
      );
    }
    const reason = this.#evaluate(current);
    if (reason === undefined) return;
    this.#stoppedEpoch = snapshot.epoch;
    return stopRequest(reason);
  }

  stateDict(): EarlyStoppingState {
    const best = this.#best;
    return {
      best: Number.isFinite(best) ? best : best > 0 ? "Infinity" : "-Infinity",
      wait: this.#wait,
      stoppedEpoch: this.#stoppedEpoch,
    };
  }

  /** @throws CryptomlError (USAGE) quoting the field that does not match {@link EarlyStoppingState}. */
  loadStateDict(state: unknown): void {
    const fail = (what: string, value: unknown, rule: string) =>
      callbackError(`EarlyStopping state.${what}=${formatValue(value)} ${rule}`);
    if (typeof state !== "object" || state === null || Array.isArray(state)) {
      throw callbackError(`EarlyStopping state=${formatValue(state)} must be an object`);
    }
    const { best, wait, stoppedEpoch } = state as Record<string, unknown>;
    let decoded: number;
    if (best === null) decoded = this.#initialBest();
    else if (best === "Infinity") decoded = Number.POSITIVE_INFINITY;
    else if (best === "-Infinity") decoded = Number.NEGATIVE_INFINITY;
    else if (typeof best === "number" && Number.isFinite(best)) decoded = best;
    else throw fail("best", best, 'must be a finite number, "Infinity", "-Infinity" or null');
    if (!Number.isSafeInteger(wait) || (wait as number) < 0)
      throw fail("wait", wait, "must be an integer >= 0");
    if (stoppedEpoch !== null && (!Number.isSafeInteger(stoppedEpoch) || (stoppedEpoch as number) < 0)) {
      throw fail("stoppedEpoch", stoppedEpoch, "must be an integer >= 0 or null");
    }
    this.#best = decoded;
    this.#wait = wait as number;
    this.#stoppedEpoch = stoppedEpoch as number | null;
  }

  #initialBest(): number {
    return this.mode === "min" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  /** Lightning's `_evaluate_stopping_criteria`: the reason to stop, or undefined to carry on. */
  #evaluate(current: number): string | undefined {
    const better = (a: number, b: number) => (this.mode === "min" ? a < b : a > b);
    const name = this.monitor;
    if (this.checkFinite && !Number.isFinite(current)) {
      return `${name}=${current} is not finite (best so far ${this.#best}); stopping`;
    }
    const threshold = this.divergenceThreshold;
    if (threshold !== undefined && better(threshold, current)) {
      return `${name}=${current} crossed divergenceThreshold=${threshold} (${this.mode === "min" ? "above" : "below"} it); stopping`;
    }
    const delta = this.mode === "min" ? -this.minDelta : this.minDelta;
    if (better(current - delta, this.#best)) {
      this.#best = current;
      this.#wait = 0;
      return undefined;
    }
    this.#wait += 1;
    if (this.#wait >= this.patience) {
      return `${name} did not improve by more than minDelta=${this.minDelta} for ${this.#wait} epochs (patience=${this.patience}); best ${name}=${this.#best}`;
    }
    return undefined;
  }
}
