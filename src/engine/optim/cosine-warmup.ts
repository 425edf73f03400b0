/**
 * Linear warm-up from 0 then cosine decay to a floor: transformers' get_cosine_schedule_with_warmup
 * (minLr = 0) and get_cosine_with_min_lr_schedule_with_warmup (minLr > 0), one half-cycle.
 */
import type { Optimizer } from "./optimizer.js";
import { EpochScheduler, readCommon, SCHEDULER_STATE_FORMAT, type SchedulerState } from "./scheduler.js";
import { optimError, requireAbove, requireAtLeast, requireInteger } from "./validate.js";

/** Options of `CosineWithWarmup`. */
export interface CosineWithWarmupOptions {
  /** Steps of linear warm-up from 0 to the optimiser's LR, an integer >= 0; required. */
  warmupSteps: number;
  /** Step at which the cosine reaches `minLr`, an integer >= max(1, warmupSteps); required. */
  totalSteps: number;
  /** Floor reached at `totalSteps` and held after it, in [0, base LR]. Default 0. */
  minLr?: number;
}

function resolve(options: CosineWithWarmupOptions, baseLr: number, what: string) {
  const config = {
    warmupSteps: options.warmupSteps,
    totalSteps: options.totalSteps,
    minLr: options.minLr ?? 0,
  };
  requireInteger(`${what}.warmupSteps`, config.warmupSteps, 0);
  requireInteger(`${what}.totalSteps`, config.totalSteps, Math.max(1, config.warmupSteps));
  requireAtLeast(`${what}.minLr`, config.minLr, 0);
  if (config.minLr > baseLr) {
    throw optimError(`${what}.minLr=${config.minLr} must be <= the optimiser's lr=${baseLr}`);
  }
  return config;
}

/**
 * With base = the optimiser's LR at construction, r = minLr/base, W = warmupSteps, T = totalSteps:
 * - t < W: `lr = base · t/max(1, W)`
 * - t >= W: `p = min(1, (t − W)/max(1, T − W))`, `f = 0.5·(1 + cos(π·p))`, `lr = base · max(0, f·(1 − r) + r)`
 *
 * Exactly transformers' lambdas (evaluated in the same order) for t <= T. After T transformers' cosine
 * rises again; here p is held at 1, so the LR stays at `base·r` (= minLr up to rounding).
 */
export class CosineWithWarmup extends EpochScheduler {
  readonly kind = "cosine-warmup";
  #config: Required<CosineWithWarmupOptions>;
  #baseLr: number;

  constructor(optimizer: Optimizer, options: CosineWithWarmupOptions) {
    super(optimizer);
    this.#baseLr = optimizer.lr;
    requireAbove("CosineWithWarmup: the optimiser's lr", this.#baseLr, 0);
    this.#config = resolve(options, this.#baseLr, "CosineWithWarmup");
    this.initialStep();
  }

  protected nextLr(epoch: number): number {
    return this.#baseLr * cosineWarmupFactor(epoch, this.#config, this.#baseLr);
  }

  stateDict(): SchedulerState {
    return {
      format: SCHEDULER_STATE_FORMAT,
      kind: this.kind,
      lastEpoch: this.lastEpoch,
      lastLr: this.lastLr,
      config: { ...this.#config, baseLr: this.#baseLr },
    };
  }

  loadStateDict(state: SchedulerState): void {
    const what = "CosineWithWarmup state";
    const { lastEpoch, lastLr, config } = readCommon(state, this.kind, what);
    const baseLr = config.baseLr as number;
    requireAbove(`${what}.config.baseLr`, baseLr, 0);
    this.#config = resolve(config as unknown as CosineWithWarmupOptions, baseLr, `${what}.config`);
    this.#baseLr = baseLr;
    this.restore(lastEpoch, lastLr);
  }
}

/** The multiplier of the base LR at step `t` (transformers' lr_lambda). */
export function cosineWarmupFactor(t: number, c: Required<CosineWithWarmupOptions>, baseLr: number): number {
  if (t < c.warmupSteps) return t / Math.max(1, c.warmupSteps);
  const progress = Math.min(1, (t - c.warmupSteps) / Math.max(1, c.totalSteps - c.warmupSteps));
  const minLrRate = c.minLr / baseLr;
  // transformers writes cos(π·num_cycles·2·p) with num_cycles = 0.5; ×0.5×2 is exact, so this is cos(π·p).
  const factor = 0.5 * (1 + Math.cos(Math.PI * progress));
  return Math.max(0, factor * (1 - minLrRate) + minLrRate);
}
