/**
 * torch.optim.lr_scheduler.ReduceLROnPlateau: multiply the LR by `factor` when a monitored metric has
 * not improved for more than `patience` steps, then wait `cooldown` steps before counting again.
 */
import type { Optimizer } from "./optimizer.js";
import { type LrScheduler, readCommon, SCHEDULER_STATE_FORMAT, type SchedulerState } from "./scheduler.js";
import { decodeNumber, encodeNumber, field } from "./state.js";
import { optimError, requireAtLeast, requireInteger, requireOneOf } from "./validate.js";

/** Options of `ReduceLROnPlateau`; the defaults are torch's. */
export interface ReduceLROnPlateauOptions {
  /** "min": lower is better (a loss); "max": higher is better (an accuracy). Default "min". */
  mode?: "min" | "max";
  /** LR multiplier on a plateau, in (0, 1). Default 0.1. */
  factor?: number;
  /** Steps without improvement tolerated; the LR drops on the (patience+1)-th. Integer >= 0. Default 10. */
  patience?: number;
  /** Minimum change that counts as improvement, >= 0. Default 1e-4. */
  threshold?: number;
  /**
   * "rel": better means below best·(1 − threshold) ("min") or above best·(1 + threshold) ("max");
   * "abs": below best − threshold / above best + threshold. Default "rel".
   */
  thresholdMode?: "rel" | "abs";
  /** Steps after a reduction during which bad steps are not counted, integer >= 0. Default 0. */
  cooldown?: number;
  /** Floor of the LR, >= 0. Default 0. */
  minLr?: number;
  /** A reduction smaller than this is skipped, >= 0. Default 1e-8. */
  eps?: number;
}

type Config = Required<ReduceLROnPlateauOptions>;

function resolve(options: ReduceLROnPlateauOptions, what: string): Config {
  const c: Config = {
    mode: options.mode ?? "min",
    factor: options.factor ?? 0.1,
    patience: options.patience ?? 10,
    threshold: options.threshold ?? 1e-4,
    thresholdMode: options.thresholdMode ?? "rel",
    cooldown: options.cooldown ?? 0,
    minLr: options.minLr ?? 0,
    eps: options.eps ?? 1e-8,
  };
  requireOneOf(`${what}.mode`, c.mode, ["min", "max"] as const);
  if (typeof c.factor !== "number" || !(c.factor > 0 && c.factor < 1)) {
    throw optimError(`${what}.factor=${c.factor} must be in (0, 1)`);
  }
  requireInteger(`${what}.patience`, c.patience, 0);
  requireAtLeast(`${what}.threshold`, c.threshold, 0);
  requireOneOf(`${what}.thresholdMode`, c.thresholdMode, ["rel", "abs"] as const);
  requireInteger(`${what}.cooldown`, c.cooldown, 0);
  requireAtLeast(`${what}.minLr`, c.minLr, 0);
  requireAtLeast(`${what}.eps`, c.eps, 0);
  return c;
}

/**
 * Each `step(metric)`: if the metric beats `best` by the threshold rule it becomes `best` and the bad
 * count resets, else the count grows (NaN is never better); during cooldown the count is held at 0; when
 * the count exceeds `patience`, `lr = max(lr·factor, minLr)` (skipped if the change is <= eps), cooldown
 * restarts and the count resets. Unlike the other schedulers, construction does not step or touch the LR.
 */
export class ReduceLROnPlateau implements LrScheduler {
  readonly kind = "plateau";
  readonly optimizer: Optimizer;
  #config: Config;
  #epoch = 0;
  #lr: number;
  #best: number;
  #numBadEpochs = 0;
  #cooldownCounter = 0;

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    this.optimizer = optimizer;
    this.#config = resolve(options, "ReduceLROnPlateau");
    this.#lr = optimizer.lr;
    this.#best = this.#worst();
  }

  get lastEpoch(): number {
    return this.#epoch;
  }

  get lastLr(): number {
    return this.#lr;
  }

  /** Best metric so far (±Infinity before the first step). */
  get best(): number {
    return this.#best;
  }

  get numBadEpochs(): number {
    return this.#numBadEpochs;
  }

  get cooldownCounter(): number {
    return this.#cooldownCounter;
  }

  step(metric?: number): void {
    if (typeof metric !== "number") {
      throw optimError(
        `ReduceLROnPlateau.step(metric) needs the monitored value, got ${String(metric)}`,
        "pass the validation loss (or the metric named by the config) each epoch",
      );
    }
    this.#epoch++;
    if (this.#isBetter(metric)) {
      this.#best = metric;
      this.#numBadEpochs = 0;
    } else {
      this.#numBadEpochs++;
    }
    if (this.#cooldownCounter > 0) {
      this.#cooldownCounter--;
      this.#numBadEpochs = 0;
    }
    if (this.#numBadEpochs > this.#config.patience) {
      this.#reduce();
      this.#cooldownCounter = this.#config.cooldown;
      this.#numBadEpochs = 0;
    }
    this.#lr = this.optimizer.lr;
  }

  #reduce(): void {
    const oldLr = this.optimizer.lr;
    const newLr = Math.max(oldLr * this.#config.factor, this.#config.minLr);
    if (oldLr - newLr > this.#config.eps) this.optimizer.lr = newLr;
  }

  #isBetter(value: number): boolean {
    const { mode, threshold, thresholdMode } = this.#config;
    if (mode === "min")
      return thresholdMode === "rel" ? value < this.#best * (1 - threshold) : value < this.#best - threshold;
    return thresholdMode === "rel" ? value > this.#best * (threshold + 1) : value > this.#best + threshold;
  }

  #worst(): number {
    return this.#config.mode === "min" ? Infinity : -Infinity;
  }

  stateDict(): SchedulerState {
    return {
      format: SCHEDULER_STATE_FORMAT,
      kind: this.kind,
      lastEpoch: this.#epoch,
      lastLr: this.#lr,
      config: { ...this.#config },
      extra: {
        best: encodeNumber(this.#best),
        numBadEpochs: this.#numBadEpochs,
        cooldownCounter: this.#cooldownCounter,
      },
    };
  }

  loadStateDict(state: SchedulerState): void {
    const what = "ReduceLROnPlateau state";
    const { lastEpoch, lastLr, config } = readCommon(state, this.kind, what);
    const resolved = resolve(config as unknown as ReduceLROnPlateauOptions, `${what}.config`);
    const extra = field(state, "extra", what);
    const best = decodeNumber(field(extra, "best", `${what}.extra`), `${what}.extra.best`);
    const numBadEpochs = field(extra, "numBadEpochs", `${what}.extra`) as number;
    const cooldownCounter = field(extra, "cooldownCounter", `${what}.extra`) as number;
    requireInteger(`${what}.extra.numBadEpochs`, numBadEpochs, 0);
    requireInteger(`${what}.extra.cooldownCounter`, cooldownCounter, 0);
    this.#config = resolved;
    this.#epoch = lastEpoch;
    this.#lr = lastLr;
    this.#best = best;
    this.#numBadEpochs = numBadEpochs;
    this.#cooldownCounter = cooldownCounter;
    this.optimizer.lr = lastLr;
  }
}
