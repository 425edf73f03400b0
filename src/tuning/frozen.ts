/**
 * Readonly snapshots handed to samplers and pruners (the study as it was when a trial was asked), plus
 * small facts about frozen trials that the study, samplers and pruners all need.
 */
import type { FrozenTrial, Sampler, StudyDirection, StudyView, TrialState } from "./types.js";

const FINISHED: ReadonlySet<TrialState> = new Set(["COMPLETE", "PRUNED", "FAIL"]);

export const isFinishedState = (state: TrialState): boolean => FINISHED.has(state);

/** The largest reported step, or undefined when nothing was reported (Optuna's `FrozenTrial.last_step`). */
export function lastStep(trial: FrozenTrial): number | undefined {
  let last: number | undefined;
  for (const step of trial.intermediateValues.keys()) if (last === undefined || step > last) last = step;
  return last;
}

/** A StudyView over a fixed list of trials (already in number order, as storages return them). */
export function snapshotView(
  studyName: string,
  directions: readonly StudyDirection[],
  trials: readonly FrozenTrial[],
): StudyView {
  const all = Object.freeze([...trials]);
  return {
    studyName,
    directions,
    getTrials: (states) => (states === undefined ? all : all.filter((t) => states.includes(t.state))),
  };
}

/** The same view with one trial replaced by a fresher snapshot of it (or appended when it is new). */
export function withTrial(view: StudyView, trial: FrozenTrial): StudyView {
  const trials = [...view.getTrials()];
  const at = trials.findIndex((t) => t.trialId === trial.trialId);
  if (at >= 0) trials[at] = trial;
  else trials.push(trial);
  return snapshotView(view.studyName, view.directions, trials);
}

/**
 * Optional hooks a sampler may add to the {@link Sampler} role (Optuna's `before_trial` and GridSampler's
 * `is_exhausted`). `beforeTrial` returns system attributes to store on the new trial before anything is
 * sampled, which is how a grid point is claimed in a shared storage; `isExhausted` stops `optimize`.
 */
export interface SamplerHooks extends Sampler {
  beforeTrial?(study: StudyView, trial: FrozenTrial): Record<string, unknown> | undefined;
  isExhausted?(study: StudyView): boolean;
}

/** Whether `a` is better than `b` for `direction`. */
export const better = (direction: StudyDirection, a: number, b: number): boolean =>
  direction === "minimize" ? a < b : a > b;

/** Whether `a` dominates `b`: no worse in every objective and better in one (Pareto order). */
export function dominates(
  directions: readonly StudyDirection[],
  a: readonly number[],
  b: readonly number[],
): boolean {
  let strictly = false;
  for (let i = 0; i < directions.length; i++) {
    const d = directions[i] as StudyDirection;
    const x = a[i] as number;
    const y = b[i] as number;
    if (better(d, y, x)) return false;
    if (better(d, x, y)) strictly = true;
  }
  return strictly;
}

/** The COMPLETE trials no other COMPLETE trial dominates (Optuna's `best_trials`). */
export function paretoFront(
  directions: readonly StudyDirection[],
  trials: readonly FrozenTrial[],
): FrozenTrial[] {
  const done = trials.filter((t) => t.state === "COMPLETE" && t.values !== undefined);
  return done.filter(
    (t) => !done.some((o) => o !== t && dominates(directions, o.values ?? [], t.values ?? [])),
  );
}
