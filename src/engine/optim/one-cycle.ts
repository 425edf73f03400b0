/**
 * torch.optim.lr_scheduler.OneCycleLR (Smith & Topin's 1cycle policy), including momentum cycling:
 * warm up from maxLr/divFactor to maxLr, then anneal to maxLr/(divFactor·finalDivFactor), while the
 * momentum (SGD) or beta1 (Adam, AdamW) moves the opposite way between maxMomentum and baseMomentum.
 */
import type { Optimizer } from "./optimizer.js";
import { EpochScheduler, readCommon, SCHEDULER_STATE_FORMAT, type SchedulerState } from "./scheduler.js";
import {
  optimError,
  requireAbove,
  requireAtLeast,
  requireBoolean,
  requireInClosedRange,
  requireInteger,
  requireOneOf,
} from "./validate.js";

/** Options of `OneCycleLR`; the defaults are torch's. */
export interface OneCycleOptions {
  /** Peak LR, > 0; required. */
  maxLr: number;
  /** Number of optimiser steps in the cycle, an integer >= 1; required. `step()` may be called this often. */
  totalSteps: number;
  /** Fraction of the cycle spent increasing the LR, in [0, 1]. Default 0.3. */
  pctStart?: number;
  /** "cos" or "linear" interpolation. Default "cos". */
  annealStrategy?: "cos" | "linear";
  /** Initial LR = maxLr/divFactor, > 0. Default 25. */
  divFactor?: number;
  /** Final LR = initial LR/finalDivFactor, > 0. Default 1e4. */
  finalDivFactor?: number;
  /** Use torch's three phases (up, back down to the initial LR, then to the final LR). Default false. */
  threePhase?: boolean;
  /**
   * Cycle the optimiser's momentum (SGD `momentum`, Adam/AdamW `betas[0]`) inversely to the LR. Default
   * true, as in torch, so an SGD built without momentum gets momentum from this scheduler.
   */
  cycleMomentum?: boolean;
  /** Momentum at the LR peak, >= 0. Default 0.85. */
  baseMomentum?: number;
  /** Momentum at the LR low points, >= 0 (< 1 for Adam's beta1). Default 0.95. */
  maxMomentum?: number;
}

type Config = Required<OneCycleOptions>;

interface Phase {
  endStep: number;
  startLr: number;
  endLr: number;
  startMomentum: number;
  endMomentum: number;
}

function resolve(options: OneCycleOptions, what: string): Config {
  const c: Config = {
    maxLr: options.maxLr,
    totalSteps: options.totalSteps,
    pctStart: options.pctStart ?? 0.3,
    annealStrategy: options.annealStrategy ?? "cos",
    divFactor: options.divFactor ?? 25,
    finalDivFactor: options.finalDivFactor ?? 1e4,
    threePhase: options.threePhase ?? false,
    cycleMomentum: options.cycleMomentum ?? true,
    baseMomentum: options.baseMomentum ?? 0.85,
    maxMomentum: options.maxMomentum ?? 0.95,
  };
  requireAbove(`${what}.maxLr`, c.maxLr, 0);
  requireInteger(`${what}.totalSteps`, c.totalSteps, 1);
  requireInClosedRange(`${what}.pctStart`, c.pctStart, 0, 1);
  requireOneOf(`${what}.annealStrategy`, c.annealStrategy, ["cos", "linear"] as const);
  requireAbove(`${what}.divFactor`, c.divFactor, 0);
  requireAbove(`${what}.finalDivFactor`, c.finalDivFactor, 0);
  requireBoolean(`${what}.threePhase`, c.threePhase);
  requireBoolean(`${what}.cycleMomentum`, c.cycleMomentum);
  requireAtLeast(`${what}.baseMomentum`, c.baseMomentum, 0);
  requireAtLeast(`${what}.maxMomentum`, c.maxMomentum, 0);
  return c;
}

/** torch's `_schedule_phases` with the group's initial/max/min LR filled in. */
function phasesOf(c: Config): Phase[] {
  const initialLr = c.maxLr / c.divFactor;
  const minLr = initialLr / c.finalDivFactor;
  const { maxLr, maxMomentum: hi, baseMomentum: lo, totalSteps: n } = c;
  const up = {
    endStep: c.pctStart * n - 1,
    startLr: initialLr,
    endLr: maxLr,
    startMomentum: hi,
    endMomentum: lo,
  };
  if (!c.threePhase) {
    return [up, { endStep: n - 1, startLr: maxLr, endLr: minLr, startMomentum: lo, endMomentum: hi }];
  }
  return [
    up,
    { endStep: 2 * c.pctStart * n - 2, startLr: maxLr, endLr: initialLr, startMomentum: lo, endMomentum: hi },
    { endStep: n - 1, startLr: initialLr, endLr: minLr, startMomentum: hi, endMomentum: hi },
  ];
}

function anneal(strategy: "cos" | "linear", start: number, end: number, pct: number): number {
  if (strategy === "linear") return (end - start) * pct + start;
  return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
}

/** LR and momentum at `step`, by torch's `get_lr`; throws where torch would divide by zero. */
export function oneCycleAt(c: Config, step: number, phases = phasesOf(c)): { lr: number; momentum: number } {
  let startStep = 0;
  for (const [i, phase] of phases.entries()) {
    if (step <= phase.endStep || i === phases.length - 1) {
      const span = phase.endStep - startStep;
      if (span === 0) {
        throw optimError(
          `OneCycleLR: phase ${i + 1} is empty (pctStart=${c.pctStart}, totalSteps=${c.totalSteps}), so step ${step} is undefined`,
          "choose pctStart·totalSteps away from 1 (torch divides by zero here)",
        );
      }
      const pct = (step - startStep) / span;
      return {
        lr: anneal(c.annealStrategy, phase.startLr, phase.endLr, pct),
        momentum: anneal(c.annealStrategy, phase.startMomentum, phase.endMomentum, pct),
      };
    }
    startStep = phase.endStep;
  }
  throw optimError("OneCycleLR: no phase"); // unreachable: the last phase always matches
}

/**
 * `oneCycleAt`, kept inside the cycle's range. Only at t = totalSteps (after the cycle's last optimiser
 * step) does torch extrapolate the last phase past pct = 1, which with "linear" annealing can give a
 * negative LR (and a momentum beyond maxMomentum); those are clamped to 0 and to the momentum range.
 */
function clampedAt(c: Config, step: number): { lr: number; momentum: number } {
  const { lr, momentum } = oneCycleAt(c, step);
  const lo = Math.min(c.baseMomentum, c.maxMomentum);
  const hi = Math.max(c.baseMomentum, c.maxMomentum);
  return { lr: Math.max(0, lr), momentum: Math.min(hi, Math.max(lo, momentum)) };
}

/**
 * Per step t (0 ≤ t ≤ totalSteps) the phase with the first `endStep >= t` (else the last) is used, with
 * `pct = (t − start)/(end − start)`; "cos" gives `end + (start − end)/2·(cos(π·pct) + 1)`, "linear"
 * `(end − start)·pct + start`. Phase ends: pctStart·T − 1, (three-phase: 2·pctStart·T − 2), T − 1.
 * Stepping past totalSteps throws, as torch does; at t = totalSteps see `clampedAt`.
 */
export class OneCycleLR extends EpochScheduler {
  readonly kind = "one-cycle";
  #config: Config;

  constructor(optimizer: Optimizer, options: OneCycleOptions) {
    super(optimizer);
    this.#config = resolve(options, "OneCycleLR");
    // Every step the schedule can reach is evaluated once, so an empty phase fails here, not mid-training.
    const phases = phasesOf(this.#config);
    for (let t = 0; t <= this.#config.totalSteps; t++) oneCycleAt(this.#config, t, phases);
    this.initialStep();
  }

  protected nextLr(epoch: number): number {
    const c = this.#config;
    if (epoch > c.totalSteps) {
      throw optimError(
        `OneCycleLR: step ${epoch} is past totalSteps=${c.totalSteps}`,
        "set totalSteps to epochs × batches per epoch (the number of optimiser steps)",
      );
    }
    const { lr, momentum } = clampedAt(c, epoch);
    if (c.cycleMomentum) this.optimizer.momentum = momentum;
    return lr;
  }

  stateDict(): SchedulerState {
    return {
      format: SCHEDULER_STATE_FORMAT,
      kind: this.kind,
      lastEpoch: this.lastEpoch,
      lastLr: this.lastLr,
      config: { ...this.#config },
    };
  }

  loadStateDict(state: SchedulerState): void {
    const { lastEpoch, lastLr, config } = readCommon(state, this.kind, "OneCycleLR state");
    const resolved = resolve(config as unknown as OneCycleOptions, "OneCycleLR state.config");
    if (lastEpoch > resolved.totalSteps) {
      throw optimError(
        `OneCycleLR state.lastEpoch=${lastEpoch} must be <= totalSteps=${resolved.totalSteps}`,
      );
    }
    this.#config = resolved;
    if (resolved.cycleMomentum) this.optimizer.momentum = clampedAt(resolved, lastEpoch).momentum;
    this.restore(lastEpoch, lastLr);
  }
}
