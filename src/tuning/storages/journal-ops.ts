/**
 * Optuna's journal: every change to a storage is one JSON operation appended to a log, and the state is
 * whatever replaying the log from the start produces (optuna/storages/journal/_storage.py,
 * `JournalStorageReplayResult`). This file is that replay (journal-log.ts builds the operations), kept
 * faithful to Optuna 5.0 so that either side can read and continue what the other wrote:
 *
 * - ids are positions: a study's id is the count of studies created before it, a trial's id the count of
 *   trials (of every study) created before it, and its number the count in its study;
 * - an operation that cannot apply (a duplicate study name, an update to a finished trial) is skipped by
 *   every reader, and raised only to the worker that wrote it — so concurrent writers agree on the result
 *   without a lock around read-modify-write, and the writer learns it lost;
 * - a writer finds the id of the trial it created by its `worker_id` on the CREATE_TRIAL it reads back.
 */
import { distributionFromJson, incompatibility, toExternal } from "../distributions.js";
import { TuningError } from "../errors.js";
import type { StoredStudy } from "../storage.js";
import type { Distribution, FrozenTrial, ParamValue, StudyDirection, TrialState } from "../types.js";
import { TRIAL_STATES } from "../types.js";
import { parseOptunaDate } from "./journal-codec.js";
import { type JournalLog, OP } from "./journal-log.js";

interface StudyRecord {
  studyId: number;
  studyName: string;
  directions: StudyDirection[];
  userAttrs: Record<string, unknown>;
  systemAttrs: Record<string, unknown>;
}

interface TrialRecord {
  trialId: number;
  number: number;
  state: TrialState;
  values: number[] | undefined;
  datetimeStart: Date | undefined;
  datetimeComplete: Date | undefined;
  params: Record<string, ParamValue>;
  distributions: Record<string, Distribution>;
  userAttrs: Record<string, unknown>;
  systemAttrs: Record<string, unknown>;
  intermediateValues: Map<number, number>;
}

const isFinished = (state: TrialState): boolean =>
  state === "COMPLETE" || state === "PRUNED" || state === "FAIL";
const date = (v: unknown): Date | undefined => (typeof v === "string" ? parseOptunaDate(v) : undefined);

function directionOf(code: unknown): StudyDirection {
  // NOT_SET (0) only exists before a direction is chosen; Optuna's default direction is minimize.
  return code === 2 || code === "maximize" || code === "MAXIMIZE" ? "maximize" : "minimize";
}

function stateOf(code: unknown): TrialState {
  const state = typeof code === "number" ? TRIAL_STATES[code] : undefined;
  if (state === undefined)
    throw new TuningError("STORAGE", `unknown trial state ${JSON.stringify(code)} in the journal`);
  return state;
}

/**
 * The state a journal's operations produce, applied incrementally: `logsRead` is how many operations it
 * has seen, so a backend reads only the ones after it.
 */
export class JournalReplay {
  logsRead = 0;
  /** The id of the trial this worker's last CREATE_TRIAL made. */
  lastCreatedTrialId = -1;
  /** The RUNNING trial this worker owns (created RUNNING, or taken from WAITING). */
  ownedTrialId: number | undefined;
  private readonly studies = new Map<number, StudyRecord>();
  private readonly trials: TrialRecord[] = [];
  private readonly studyTrialIds = new Map<number, number[]>();
  private readonly trialStudy = new Map<number, number>();
  private nextStudyId = 0;

  constructor(readonly workerId: string) {}

  /**
   * Applies operations in log order. The first failure of an operation this worker wrote is thrown
   * after the whole batch is applied (the failed operation itself changes nothing).
   */
  apply(logs: Iterable<JournalLog>): void {
    let failure: unknown;
    for (const log of logs) {
      this.logsRead += 1;
      try {
        this.applyOne(log);
      } catch (error) {
        if (log.worker_id !== this.workerId) throw error;
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }

  getStudy(studyId: number): StoredStudy {
    const s = this.studies.get(studyId);
    if (s === undefined) throw studyNotFound(studyId);
    return {
      ...s,
      directions: [...s.directions],
      userAttrs: { ...s.userAttrs },
      systemAttrs: { ...s.systemAttrs },
    };
  }

  getAllStudies(): StoredStudy[] {
    return [...this.studies.keys()].map((id) => this.getStudy(id));
  }

  studyIdOf(trialId: number): number {
    const studyId = this.trialStudy.get(trialId);
    if (studyId === undefined) throw trialNotFound(trialId);
    return studyId;
  }

  getTrial(trialId: number): FrozenTrial {
    const t = this.trials[trialId];
    if (t === undefined) throw trialNotFound(trialId);
    return freeze(t);
  }

  getAllTrials(studyId: number, states?: readonly TrialState[]): FrozenTrial[] {
    const ids = this.studies.has(studyId) ? this.studyTrialIds.get(studyId) : undefined;
    if (ids === undefined) throw studyNotFound(studyId);
    const out: FrozenTrial[] = [];
    for (const id of ids) {
      const t = this.trials[id] as TrialRecord;
      if (states === undefined || states.includes(t.state)) out.push(freeze(t));
    }
    return out;
  }

  private mine(log: JournalLog): boolean {
    return log.worker_id === this.workerId;
  }

  private applyOne(log: JournalLog): void {
    switch (log.op_code) {
      case OP.CREATE_STUDY:
        this.createStudy(log);
        return;
      case OP.DELETE_STUDY:
        if (this.studyExists(log)) this.studies.delete(log.study_id as number);
        return;
      case OP.SET_STUDY_USER_ATTR:
        if (this.studyExists(log))
          Object.assign((this.studies.get(log.study_id as number) as StudyRecord).userAttrs, log.user_attr);
        return;
      case OP.SET_STUDY_SYSTEM_ATTR:
        if (this.studyExists(log))
          Object.assign(
            (this.studies.get(log.study_id as number) as StudyRecord).systemAttrs,
            log.system_attr,
          );
        return;
      case OP.CREATE_TRIAL:
        this.createTrial(log);
        return;
      case OP.SET_TRIAL_PARAM:
        this.setTrialParam(log);
        return;
      case OP.SET_TRIAL_STATE_VALUES:
        this.setTrialStateValues(log);
        return;
      case OP.SET_TRIAL_INTERMEDIATE_VALUE: {
        const t = this.updatableTrial(log);
        if (t !== undefined) t.intermediateValues.set(Number(log.step), log.intermediate_value as number);
        return;
      }
      case OP.SET_TRIAL_USER_ATTR:
        Object.assign(this.updatableTrial(log)?.userAttrs ?? {}, log.user_attr);
        return;
      case OP.SET_TRIAL_SYSTEM_ATTR:
        Object.assign(this.updatableTrial(log)?.systemAttrs ?? {}, log.system_attr);
        return;
      case OP.DISCARD_TRIALS:
        return;
      default:
        throw new TuningError("STORAGE", `unknown journal op_code ${JSON.stringify(log.op_code)}`, {
          hint: "the journal was written by a newer Optuna or cryptoml; upgrade to read it",
        });
    }
  }

  private studyExists(log: JournalLog): boolean {
    if (this.studies.has(log.study_id as number)) return true;
    if (this.mine(log)) throw studyNotFound(log.study_id);
    return false;
  }

  private updatableTrial(log: JournalLog): TrialRecord | undefined {
    const t = this.trials[log.trial_id as number];
    if (t === undefined) {
      if (this.mine(log)) throw trialNotFound(log.trial_id);
      return undefined;
    }
    if (isFinished(t.state)) {
      if (this.mine(log)) {
        throw new TuningError(
          "TRIAL_FINISHED",
          `trial #${t.number} has already finished and can not be updated`,
          {
            hint: "set parameters, values and attributes before the trial is told its result",
          },
        );
      }
      return undefined;
    }
    return t;
  }

  private createStudy(log: JournalLog): void {
    const studyName = log.study_name as string;
    if ([...this.studies.values()].some((s) => s.studyName === studyName)) {
      if (this.mine(log)) {
        throw new TuningError("DUPLICATED_STUDY", `a study named "${studyName}" already exists`, {
          hint: "load it instead (load-if-exists), or choose another name",
        });
      }
      return;
    }
    const studyId = this.nextStudyId++;
    const directions = ((log.directions as unknown[]) ?? [1]).map(directionOf);
    this.studies.set(studyId, { studyId, studyName, directions, userAttrs: {}, systemAttrs: {} });
    this.studyTrialIds.set(studyId, []);
  }

  private createTrial(log: JournalLog): void {
    const studyId = log.study_id as number;
    if (!this.studyExists(log)) return;
    const trialIds = this.studyTrialIds.get(studyId) as number[];
    const distributions: Record<string, Distribution> = {};
    for (const [k, v] of Object.entries((log.distributions as Record<string, string>) ?? {})) {
      distributions[k] = distributionFromJson(v);
    }
    const params: Record<string, ParamValue> = {};
    for (const [k, v] of Object.entries((log.params as Record<string, number>) ?? {})) {
      params[k] = toExternal(distributions[k] as Distribution, v);
    }
    const value = log.value;
    const values = log.values;
    const trialId = this.trials.length;
    const trial: TrialRecord = {
      trialId,
      number: trialIds.length,
      state: log.state === undefined ? "RUNNING" : stateOf(log.state),
      values: Array.isArray(values)
        ? [...(values as number[])]
        : typeof value === "number"
          ? [value]
          : undefined,
      datetimeStart: date(log.datetime_start),
      datetimeComplete: date(log.datetime_complete),
      params,
      distributions,
      userAttrs: { ...((log.user_attrs as Record<string, unknown>) ?? {}) },
      systemAttrs: { ...((log.system_attrs as Record<string, unknown>) ?? {}) },
      intermediateValues: new Map(
        Object.entries((log.intermediate_values as Record<string, number>) ?? {}).map(([k, v]) => [
          Number(k),
          v,
        ]),
      ),
    };
    this.trials.push(trial);
    trialIds.push(trialId);
    this.trialStudy.set(trialId, studyId);
    if (this.mine(log)) {
      this.lastCreatedTrialId = trialId;
      if (trial.state === "RUNNING") this.ownedTrialId = trialId;
    }
  }

  private setTrialParam(log: JournalLog): void {
    const trial = this.updatableTrial(log);
    if (trial === undefined) return;
    const name = log.param_name as string;
    const distribution = distributionFromJson(log.distribution as string);
    // The first trial of the study that has the parameter fixes its kind (Optuna checks only that one).
    for (const id of this.studyTrialIds.get(this.studyIdOf(trial.trialId)) ?? []) {
      const previous = (this.trials[id] as TrialRecord).distributions[name];
      if (previous === undefined) continue;
      const why = incompatibility(previous, distribution);
      if (why === null) break;
      if (this.mine(log)) {
        throw new TuningError("INCOMPATIBLE_DISTRIBUTION", `parameter "${name}": ${why}`, {
          hint: "use a new parameter name for a different search space",
        });
      }
      return;
    }
    trial.params[name] = toExternal(distribution, log.param_value_internal as number);
    trial.distributions[name] = distribution;
  }

  private setTrialStateValues(log: JournalLog): void {
    const trial = this.updatableTrial(log);
    if (trial === undefined) return;
    const state = stateOf(log.state);
    // A WAITING trial that another worker already took: this worker lost the race.
    if (state === "RUNNING" && trial.state === "RUNNING") return;
    if (state === "RUNNING") {
      trial.datetimeStart = date(log.datetime_start);
      if (this.mine(log)) this.ownedTrialId = trial.trialId;
    }
    if (isFinished(state)) trial.datetimeComplete = date(log.datetime_complete);
    trial.state = state;
    if (Array.isArray(log.values)) trial.values = [...(log.values as number[])];
  }
}

function freeze(t: TrialRecord): FrozenTrial {
  return {
    number: t.number,
    trialId: t.trialId,
    state: t.state,
    ...(t.values !== undefined ? { values: [...t.values] } : {}),
    ...(t.datetimeStart !== undefined ? { datetimeStart: new Date(t.datetimeStart) } : {}),
    ...(t.datetimeComplete !== undefined ? { datetimeComplete: new Date(t.datetimeComplete) } : {}),
    params: { ...t.params },
    distributions: { ...t.distributions },
    userAttrs: structuredClone(t.userAttrs),
    systemAttrs: structuredClone(t.systemAttrs),
    intermediateValues: new Map(t.intermediateValues),
  };
}

function studyNotFound(studyId: unknown): TuningError {
  return new TuningError("STUDY_NOT_FOUND", `no study with id ${String(studyId)} in the journal`, {
    hint: "list the studies of the storage; the study may have been deleted",
  });
}

function trialNotFound(trialId: unknown): TuningError {
  return new TuningError("TRIAL_NOT_FOUND", `no trial with id ${String(trialId)} in the journal`, {
    hint: "trial ids come from createTrial on the same storage",
  });
}
