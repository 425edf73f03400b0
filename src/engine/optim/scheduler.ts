/**
 * The learning-rate scheduler contract and the state every scheduler saves. Semantics follow
 * torch.optim.lr_scheduler: constructing a scheduler performs its initial step (epoch 0) and sets the
 * optimiser's LR; call `step()` after each `optimizer.step()`; `lastLr` is the LR the next optimiser step
 * will use.
 */
import type { Optimizer } from "./optimizer.js";
import { BAD_STATE, checkHeader, field, type JsonNumber } from "./state.js";
import { optimError, requireAtLeast, requireInteger } from "./validate.js";

export type SchedulerKind = "step" | "cosine-warmup" | "one-cycle" | "plateau";

export interface LrScheduler {
  readonly kind: SchedulerKind;
  readonly optimizer: Optimizer;
  /** Scheduler steps taken (torch's `last_epoch`); 0 right after construction. */
  readonly lastEpoch: number;
  /** The LR set on the optimiser by the latest step (torch's `get_last_lr()[0]`). */
  readonly lastLr: number;
  /**
   * Advances one step. `metric` is required by ReduceLROnPlateau (the monitored value, e.g. validation
   * loss) and ignored by the others.
   */
  step(metric?: number): void;
  /** A JSON-serialisable snapshot: configuration, counters and last LR. */
  stateDict(): SchedulerState;
  /**
   * Restores a snapshot, configuration included (as torch's `load_state_dict` does), and sets the
   * optimiser's LR (and, for one-cycle, momentum) to the restored values, so the order in which the
   * optimiser's and the scheduler's state are loaded does not matter.
   */
  loadStateDict(state: SchedulerState): void;
}

/** The current scheduler state format; bump when the layout changes. */
export const SCHEDULER_STATE_FORMAT = 1;

/**
 * What `LrScheduler.stateDict()` returns. `config` holds the resolved options (numbers, strings,
 * booleans); `extra` the counters a scheduler keeps beyond `lastEpoch`/`lastLr` (plateau: `best`,
 * which may be ±Infinity and is therefore a JsonNumber, `numBadEpochs`, `cooldownCounter`).
 */
export interface SchedulerState {
  format: typeof SCHEDULER_STATE_FORMAT;
  kind: SchedulerKind;
  lastEpoch: number;
  lastLr: number;
  config: Record<string, number | string | boolean>;
  extra?: Record<string, JsonNumber>;
}

/** Checks the common part of a scheduler state and returns its counters. */
export function readCommon(
  state: unknown,
  kind: SchedulerKind,
  what: string,
): { lastEpoch: number; lastLr: number; config: Record<string, unknown> } {
  checkHeader(state, SCHEDULER_STATE_FORMAT, kind, what);
  const lastEpoch = field(state, "lastEpoch", what) as number;
  const lastLr = field(state, "lastLr", what) as number;
  requireInteger(`${what}.lastEpoch`, lastEpoch, 0);
  requireAtLeast(`${what}.lastLr`, lastLr, 0);
  const config = field(state, "config", what);
  if (typeof config !== "object" || config === null)
    throw optimError(`${what}.config must be an object`, BAD_STATE);
  return { lastEpoch, lastLr, config: config as Record<string, unknown> };
}

/**
 * Base of the schedulers whose LR is a function of the step count (torch's LRScheduler): the
 * constructor's initial step sets epoch 0, each `step()` advances one epoch and applies `nextLr`.
 */
export abstract class EpochScheduler implements LrScheduler {
  abstract readonly kind: SchedulerKind;
  readonly optimizer: Optimizer;
  protected epoch = -1;
  protected lr = 0;

  protected constructor(optimizer: Optimizer) {
    this.optimizer = optimizer;
  }

  get lastEpoch(): number {
    return this.epoch;
  }

  get lastLr(): number {
    return this.lr;
  }

  /** torch's `_initial_step`; subclasses call it at the end of their constructor. */
  protected initialStep(): void {
    this.epoch = -1;
    this.step();
  }

  step(_metric?: number): void {
    const epoch = this.epoch + 1;
    const lr = this.nextLr(epoch);
    this.epoch = epoch;
    this.lr = lr;
    this.optimizer.lr = lr;
  }

  /** The LR for `epoch`, the step about to be taken (may read the optimiser's current LR). */
  protected abstract nextLr(epoch: number): number;

  abstract stateDict(): SchedulerState;
  abstract loadStateDict(state: SchedulerState): void;

  /** Adopts restored counters and pushes the LR to the optimiser. */
  protected restore(lastEpoch: number, lastLr: number): void {
    this.epoch = lastEpoch;
    this.lr = lastLr;
    this.optimizer.lr = lastLr;
  }
}
