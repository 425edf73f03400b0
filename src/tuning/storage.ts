/**
 * Where studies and trials persist, as Optuna's BaseStorage defines it, so that one implementation can be
 * Optuna's own journal format (a JSON-lines file, or a Redis list) and Optuna and cryptoml can share
 * studies. Implementations: in-memory, journal on a file, journal on Redis (URL `journal:./studies.log`,
 * `redis://127.0.0.1:6379`). Every implementation passes the contract suite in `storage.contract.ts`.
 *
 * Parameter values cross this interface in their internal form (a float; a categorical's choice index),
 * with their distribution, as Optuna stores them.
 */
import type { Distribution, FrozenTrial, StudyDirection, TrialState } from "./types.js";

export interface StoredStudy {
  readonly studyId: number;
  readonly studyName: string;
  readonly directions: readonly StudyDirection[];
  readonly userAttrs: Readonly<Record<string, unknown>>;
  readonly systemAttrs: Readonly<Record<string, unknown>>;
}

export interface TuningStorage {
  /** @throws TuningError DUPLICATED_STUDY when the name is taken. */
  createStudy(directions: readonly StudyDirection[], studyName?: string): Promise<number>;
  deleteStudy(studyId: number): Promise<void>;
  /** @throws TuningError NOT_FOUND naming the study when there is none. */
  getStudyIdFromName(studyName: string): Promise<number>;
  getStudy(studyId: number): Promise<StoredStudy>;
  getAllStudies(): Promise<StoredStudy[]>;
  setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void>;
  setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void>;

  /**
   * A new trial (RUNNING, or as `template` says — WAITING for an enqueued trial, or a finished trial
   * copied from elsewhere); its number is the next in the study, unique even with several processes.
   */
  createTrial(studyId: number, template?: Partial<FrozenTrial>): Promise<{ trialId: number; number: number }>;
  /** Sets a parameter (internal value). @throws when the trial is finished or the name is taken with another distribution. */
  setTrialParam(
    trialId: number,
    name: string,
    internalValue: number,
    distribution: Distribution,
  ): Promise<void>;
  /**
   * Moves a trial to `state` (with its values when COMPLETE). Returns false when the move is not
   * possible because another process got there first (a WAITING trial already taken).
   * @throws when the trial is already finished.
   */
  setTrialStateValues(trialId: number, state: TrialState, values?: readonly number[]): Promise<boolean>;
  setTrialIntermediateValue(trialId: number, step: number, value: number): Promise<void>;
  setTrialUserAttr(trialId: number, key: string, value: unknown): Promise<void>;
  setTrialSystemAttr(trialId: number, key: string, value: unknown): Promise<void>;
  getTrial(trialId: number): Promise<FrozenTrial>;
  /** Trials in number order, optionally only those in `states`. */
  getAllTrials(studyId: number, states?: readonly TrialState[]): Promise<FrozenTrial[]>;

  /** Records that the process running the trial is alive (Optuna's heartbeat). */
  recordHeartbeat(trialId: number): Promise<void>;
  /** Marks FAIL every RUNNING trial whose heartbeat is older than `graceSeconds`; returns their ids. */
  failStaleTrials(studyId: number, graceSeconds: number): Promise<number[]>;

  close(): Promise<void>;
}
