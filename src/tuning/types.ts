/**
 * The vocabulary of hyperparameter optimisation, shaped as Optuna shapes it so that studies stored in
 * Optuna's journal format mean the same thing to both: distributions, trial states, frozen trials (the
 * readonly snapshots samplers and pruners see), and the roles around them — storage, sampler, pruner.
 * Parameters are held in two forms, as Optuna holds them: the external value the objective sees (a
 * float, an int, a categorical choice) and the internal float stored in the journal (for a categorical,
 * the index of the choice).
 */

export type StudyDirection = "minimize" | "maximize";

/** Optuna's TrialState names, in its numbering (RUNNING=0, COMPLETE=1, PRUNED=2, FAIL=3, WAITING=4). */
export type TrialState = "RUNNING" | "COMPLETE" | "PRUNED" | "FAIL" | "WAITING";
export const TRIAL_STATES: readonly TrialState[] = ["RUNNING", "COMPLETE", "PRUNED", "FAIL", "WAITING"];

export type CategoricalChoice = string | number | boolean | null;

export type Distribution =
  | {
      readonly kind: "float";
      readonly low: number;
      readonly high: number;
      readonly log: boolean;
      readonly step: number | null;
    }
  | {
      readonly kind: "int";
      readonly low: number;
      readonly high: number;
      readonly log: boolean;
      readonly step: number;
    }
  | { readonly kind: "categorical"; readonly choices: readonly CategoricalChoice[] };

export type ParamValue = number | CategoricalChoice;

/** A finished or running trial as samplers, pruners and reports see it (never mutated). */
export interface FrozenTrial {
  /** 0-based, unique within the study, in creation order. */
  readonly number: number;
  /** The storage's id (unique across studies of a storage). */
  readonly trialId: number;
  readonly state: TrialState;
  /** One value per direction; undefined unless COMPLETE. */
  readonly values?: readonly number[];
  readonly datetimeStart?: Date;
  readonly datetimeComplete?: Date;
  /** External values, by parameter name. */
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly distributions: Readonly<Record<string, Distribution>>;
  readonly userAttrs: Readonly<Record<string, unknown>>;
  readonly systemAttrs: Readonly<Record<string, unknown>>;
  /** Reported intermediate values by step (epoch, fold). */
  readonly intermediateValues: ReadonlyMap<number, number>;
}

/** What samplers and pruners may read of a study. */
export interface StudyView {
  readonly studyName: string;
  readonly directions: readonly StudyDirection[];
  /** Trials in number order, optionally only those in `states`. */
  getTrials(states?: readonly TrialState[]): readonly FrozenTrial[];
}

/**
 * Proposes parameter values. `sampleRelative` proposes several parameters at once from a search space
 * known before the trial (multivariate TPE); `sampleIndependent` one parameter when it is first asked.
 */
export interface Sampler {
  inferRelativeSearchSpace(study: StudyView, trial: FrozenTrial): Record<string, Distribution>;
  sampleRelative(
    study: StudyView,
    trial: FrozenTrial,
    space: Record<string, Distribution>,
  ): Record<string, ParamValue>;
  sampleIndependent(
    study: StudyView,
    trial: FrozenTrial,
    name: string,
    distribution: Distribution,
  ): ParamValue;
  /** Called once a trial is told its result (samplers that keep state use it). */
  afterTrial?(study: StudyView, trial: FrozenTrial, state: TrialState, values?: readonly number[]): void;
}

/** Decides, from the trial's intermediate values and the study's other trials, whether to stop a trial. */
export interface Pruner {
  prune(study: StudyView, trial: FrozenTrial): boolean;
}
