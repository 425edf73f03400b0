/**
 * SuccessiveHalvingPruner (Asynchronous Successive Halving, Li et al. 2018; Optuna's semantics). Rung r
 * is reached at step minResource·reductionFactor^(minEarlyStoppingRate + r); a trial reaching a rung
 * records its value there and continues only if it is in the top 1/reductionFactor of all values
 * recorded at that rung so far.
 *
 * Optuna records rung values as the trial system attributes `completed_rung_<r>`, which other workers
 * read. `Pruner.prune` cannot write to storage, so this pruner keeps the values it records in memory,
 * keyed by study and trial id, reads `completed_rung_<r>` attributes already on trials (written by
 * Optuna or persisted by the Study), and offers `pendingSystemAttrs` so a Study can persist them.
 */
import { CryptomlError } from "../../core/errors.js";
import { lastStep } from "../frozen.js";
import type { FrozenTrial, Pruner, StudyDirection, StudyView } from "../types.js";

export interface SuccessiveHalvingPrunerOptions {
  /** Steps before the first rung, or "auto": max(last step of the first COMPLETE trials / 100, 1). */
  readonly minResource?: number | "auto";
  /** Keep the top 1/reductionFactor at each rung (default 4). */
  readonly reductionFactor?: number;
  /** Shifts the first rung to minResource·reductionFactor^rate (default 0). */
  readonly minEarlyStoppingRate?: number;
  /** A rung prunes every trial until more than this many values are recorded there (default 0). */
  readonly bootstrapCount?: number;
}

/** A pruner that records facts about trials which belong in their system attributes. */
export interface PrunerWithTrialAttrs extends Pruner {
  /** Attributes recorded for `trial` that are not yet on it: a Study should store them after `prune`. */
  pendingSystemAttrs(study: StudyView, trial: FrozenTrial): Record<string, unknown>;
}

export const completedRungKey = (rung: number): string => `completed_rung_${rung}`;

export class SuccessiveHalvingPruner implements PrunerWithTrialAttrs {
  private minResource: number | null;
  private readonly reductionFactor: number;
  private readonly minEarlyStoppingRate: number;
  private readonly bootstrapCount: number;
  /** Rung values recorded here, by "study\0trialId", then rung. */
  private readonly recorded = new Map<string, Map<number, number>>();

  constructor(options: SuccessiveHalvingPrunerOptions = {}) {
    const minResource = options.minResource ?? "auto";
    const reductionFactor = options.reductionFactor ?? 4;
    const rate = options.minEarlyStoppingRate ?? 0;
    const bootstrap = options.bootstrapCount ?? 0;
    if (minResource !== "auto" && !(Number.isInteger(minResource) && minResource >= 1)) {
      throw new CryptomlError(
        "USAGE",
        `SuccessiveHalvingPruner minResource=${minResource} must be "auto" or an integer >= 1`,
      );
    }
    if (!Number.isInteger(reductionFactor) || reductionFactor < 2) {
      throw new CryptomlError(
        "USAGE",
        `SuccessiveHalvingPruner reductionFactor=${reductionFactor} must be an integer >= 2`,
      );
    }
    if (!Number.isInteger(rate) || rate < 0) {
      throw new CryptomlError(
        "USAGE",
        `SuccessiveHalvingPruner minEarlyStoppingRate=${rate} must be an integer >= 0`,
      );
    }
    if (!Number.isInteger(bootstrap) || bootstrap < 0) {
      throw new CryptomlError(
        "USAGE",
        `SuccessiveHalvingPruner bootstrapCount=${bootstrap} must be an integer >= 0`,
      );
    }
    if (bootstrap > 0 && minResource === "auto") {
      throw new CryptomlError(
        "USAGE",
        'SuccessiveHalvingPruner bootstrapCount > 0 needs an explicit minResource, not "auto"',
      );
    }
    this.minResource = minResource === "auto" ? null : minResource;
    this.reductionFactor = reductionFactor;
    this.minEarlyStoppingRate = rate;
    this.bootstrapCount = bootstrap;
  }

  prune(study: StudyView, trial: FrozenTrial): boolean {
    const step = lastStep(trial);
    if (step === undefined) return false;
    const value = trial.intermediateValues.get(step) as number;
    let rung = 0;
    while (this.rungValue(study, trial, rung) !== undefined) rung++;
    let trials: readonly FrozenTrial[] | undefined;
    for (;;) {
      if (this.minResource === null) {
        trials ??= study.getTrials();
        this.minResource = estimateMinResource(trials);
        if (this.minResource === null) return false;
      }
      const promotionStep = this.minResource * this.reductionFactor ** (this.minEarlyStoppingRate + rung);
      if (step < promotionStep) return false;
      if (Number.isNaN(value)) return true;
      trials ??= study.getTrials();
      const competing: number[] = [];
      for (const t of trials) {
        if (t.trialId === trial.trialId) continue;
        const v = this.rungValue(study, t, rung);
        if (v !== undefined) competing.push(v);
      }
      this.record(study, trial, rung, value);
      competing.push(value);
      if (competing.length <= this.bootstrapCount) return true;
      if (!isPromotable(value, competing, this.reductionFactor, study.directions[0] ?? "minimize"))
        return true;
      rung++;
    }
  }

  pendingSystemAttrs(study: StudyView, trial: FrozenTrial): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [rung, v] of this.recorded.get(cacheKey(study, trial)) ?? []) {
      const key = completedRungKey(rung);
      if (!(key in trial.systemAttrs)) out[key] = v;
    }
    return out;
  }

  private rungValue(study: StudyView, trial: FrozenTrial, rung: number): number | undefined {
    const stored = trial.systemAttrs[completedRungKey(rung)];
    if (typeof stored === "number") return stored;
    return this.recorded.get(cacheKey(study, trial))?.get(rung);
  }

  private record(study: StudyView, trial: FrozenTrial, rung: number, value: number): void {
    const key = cacheKey(study, trial);
    let rungs = this.recorded.get(key);
    if (rungs === undefined) {
      rungs = new Map();
      this.recorded.set(key, rungs);
    }
    rungs.set(rung, value);
  }
}

const cacheKey = (study: StudyView, trial: FrozenTrial): string => `${study.studyName}\0${trial.trialId}`;

/** Optuna's `_estimate_min_resource`: 1% of the longest COMPLETE trial's last step (at least 1). */
function estimateMinResource(trials: readonly FrozenTrial[]): number | null {
  let longest: number | undefined;
  for (const t of trials) {
    if (t.state !== "COMPLETE") continue;
    const s = lastStep(t);
    if (s !== undefined && (longest === undefined || s > longest)) longest = s;
  }
  return longest === undefined ? null : Math.max(Math.floor(longest / 100), 1);
}

/** Whether `value` is within the best ⌊n / reductionFactor⌋ (at least 1) of the n competing values. */
export function isPromotable(
  value: number,
  competing: readonly number[],
  reductionFactor: number,
  direction: StudyDirection,
): boolean {
  let idx = Math.floor(competing.length / reductionFactor) - 1;
  if (idx === -1) idx = 0;
  const sorted = [...competing].sort((a, b) => a - b);
  if (direction === "maximize") return value >= (sorted[sorted.length - 1 - idx] as number);
  return value <= (sorted[idx] as number);
}
