/** torch.optim.lr_scheduler.StepLR: multiply the LR by `gamma` every `stepSize` steps. */
import type { Optimizer } from "./optimizer.js";
import { EpochScheduler, readCommon, SCHEDULER_STATE_FORMAT, type SchedulerState } from "./scheduler.js";
import { requireAbove, requireInteger } from "./validate.js";

/** Options of `StepLR`. */
export interface StepLROptions {
  /** Steps between decays, an integer >= 1; required. */
  stepSize: number;
  /** Multiplicative decay, > 0. Default 0.1. */
  gamma?: number;
}

function resolve(options: StepLROptions, what: string): Required<StepLROptions> {
  const config = { stepSize: options.stepSize, gamma: options.gamma ?? 0.1 };
  requireInteger(`${what}.stepSize`, config.stepSize, 1);
  requireAbove(`${what}.gamma`, config.gamma, 0);
  return config;
}

/**
 * LR at step t is `lr(t−1)·gamma` when t is a positive multiple of `stepSize`, else `lr(t−1)`: torch's
 * chainable form, which reads the optimiser's current LR (so it composes with manual changes) and from a
 * constant start equals `baseLr·gamma^⌊t/stepSize⌋` up to rounding.
 */
export class StepLR extends EpochScheduler {
  readonly kind = "step";
  #config: Required<StepLROptions>;
  #baseLr: number;

  constructor(optimizer: Optimizer, options: StepLROptions) {
    super(optimizer);
    this.#config = resolve(options, "StepLR");
    this.#baseLr = optimizer.lr;
    this.initialStep();
  }

  protected nextLr(epoch: number): number {
    const lr = this.optimizer.lr;
    return epoch === 0 || epoch % this.#config.stepSize !== 0 ? lr : lr * this.#config.gamma;
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
    const { lastEpoch, lastLr, config } = readCommon(state, this.kind, "StepLR state");
    this.#config = resolve(config as unknown as StepLROptions, "StepLR state.config");
    requireAbove("StepLR state.config.baseLr", config.baseLr as number, 0);
    this.#baseLr = config.baseLr as number;
    this.restore(lastEpoch, lastLr);
  }
}
