/**
 * PercentilePruner and its helpers (Optuna's `_percentile.py` semantics): a trial is pruned at a step
 * when its best intermediate value so far is worse than the given percentile of the COMPLETE trials'
 * values reported at that same step.
 */
import { CryptomlError } from "../../core/errors.js";
import { lastStep } from "../frozen.js";
import type { FrozenTrial, Pruner, StudyDirection, StudyView } from "../types.js";

export interface PercentilePrunerOptions {
  /** No pruning until this many trials are COMPLETE (default 5). */
  readonly nStartupTrials?: number;
  /** No pruning before this step of a trial (default 0). */
  readonly nWarmupSteps?: number;
  /** Prune only at every this many steps after the warm-up (default 1). */
  readonly intervalSteps?: number;
  /** No pruning at a step fewer than this many COMPLETE trials reported (default 1). */
  readonly nMinTrials?: number;
}

const COMPLETE = ["COMPLETE"] as const;

function checkInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new CryptomlError("USAGE", `${name}=${value} must be an integer >= ${min}`);
  }
  return value;
}

/**
 * numpy's `nanpercentile` with linear interpolation: `q` in [0, 100] of the non-NaN values, or NaN
 * when there are none.
 */
export function nanPercentile(values: readonly number[], q: number): number {
  const xs = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (xs.length === 0) return Number.NaN;
  const pos = ((xs.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, xs.length - 1);
  const a = xs[lo] as number;
  const b = xs[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** The best of a trial's intermediate values, ignoring NaN (NaN when all are NaN). */
export function bestIntermediate(trial: FrozenTrial, direction: StudyDirection): number {
  let best = Number.NaN;
  for (const v of trial.intermediateValues.values()) {
    if (Number.isNaN(v)) continue;
    if (Number.isNaN(best) || (direction === "maximize" ? v > best : v < best)) best = v;
  }
  return best;
}

/**
 * Whether `step` is the first step reported at or after the latest pruning point (warm-up, then every
 * `intervalSteps`): a trial reporting steps 0..9 with interval 5 is checked at 0 and 5 only.
 */
export function isFirstInIntervalStep(
  step: number,
  steps: Iterable<number>,
  nWarmupSteps: number,
  intervalSteps: number,
): boolean {
  const nearestLower = Math.floor((step - nWarmupSteps) / intervalSteps) * intervalSteps + nWarmupSteps;
  let secondLast = -1;
  for (const s of steps) if (s > secondLast && s !== step) secondLast = s;
  return secondLast < nearestLower;
}

export class PercentilePruner implements Pruner {
  private readonly percentile: number;
  private readonly nStartupTrials: number;
  private readonly nWarmupSteps: number;
  private readonly intervalSteps: number;
  private readonly nMinTrials: number;

  /** @param percentile in [0, 100]; 50 is the median (lower keeps fewer trials when minimising). */
  constructor(percentile: number, options: PercentilePrunerOptions = {}) {
    if (!(percentile >= 0 && percentile <= 100)) {
      throw new CryptomlError("USAGE", `PercentilePruner percentile=${percentile} must be in [0, 100]`);
    }
    this.percentile = percentile;
    this.nStartupTrials = checkInteger("nStartupTrials", options.nStartupTrials ?? 5, 0);
    this.nWarmupSteps = checkInteger("nWarmupSteps", options.nWarmupSteps ?? 0, 0);
    this.intervalSteps = checkInteger("intervalSteps", options.intervalSteps ?? 1, 1);
    this.nMinTrials = checkInteger("nMinTrials", options.nMinTrials ?? 1, 1);
  }

  prune(study: StudyView, trial: FrozenTrial): boolean {
    const completed = study.getTrials(COMPLETE);
    if (completed.length === 0 || completed.length < this.nStartupTrials) return false;
    const step = lastStep(trial);
    if (step === undefined || step < this.nWarmupSteps) return false;
    if (
      !isFirstInIntervalStep(step, trial.intermediateValues.keys(), this.nWarmupSteps, this.intervalSteps)
    ) {
      return false;
    }
    const direction = study.directions[0] ?? "minimize";
    const best = bestIntermediate(trial, direction);
    // A trial that reported nothing but NaN is diverging: stop it.
    if (Number.isNaN(best)) return true;
    const atStep: number[] = [];
    for (const t of completed) {
      const v = t.intermediateValues.get(step);
      if (v !== undefined) atStep.push(v);
    }
    if (atStep.length < this.nMinTrials) return false;
    const p = nanPercentile(atStep, direction === "maximize" ? 100 - this.percentile : this.percentile);
    if (Number.isNaN(p)) return false;
    return direction === "maximize" ? best < p : best > p;
  }
}
