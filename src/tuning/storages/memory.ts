/**
 * A storage in process memory (Optuna's InMemoryStorage): the default of a Study, and the reference the
 * contract suite is checked against. Trials are copy-on-write snapshots, so a FrozenTrial handed out is
 * never changed afterwards by the storage.
 */
import { randomUUID } from "node:crypto";
import { checkCompatible, toExternal } from "../distributions.js";
import { TuningError } from "../errors.js";
import { isFinishedState as isFinished } from "../frozen.js";
import type { StoredStudy, TuningStorage } from "../storage.js";
import type { Distribution, FrozenTrial, StudyDirection, TrialState } from "../types.js";

export interface InMemoryStorageOptions {
  /** The clock, in ms since the epoch (default `Date.now`); tests pass a fake one for heartbeats. */
  now?: () => number;
}

interface StudyRecord {
  study: StoredStudy;
  trialIds: number[];
  /** The first distribution seen per parameter name, to keep later trials compatible (as Optuna does). */
  paramDistributions: Map<string, Distribution>;
}

export class InMemoryStorage implements TuningStorage {
  private readonly now: () => number;
  private readonly studies = new Map<number, StudyRecord>();
  private readonly trials = new Map<number, FrozenTrial>();
  private readonly trialStudy = new Map<number, number>();
  private readonly heartbeats = new Map<number, number>();
  private nextStudyId = 0;
  private nextTrialId = 0;

  constructor(options: InMemoryStorageOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async createStudy(directions: readonly StudyDirection[], studyName?: string): Promise<number> {
    const name = studyName ?? `no-name-${randomUUID()}`;
    if ([...this.studies.values()].some((r) => r.study.studyName === name)) {
      throw new TuningError("DUPLICATED_STUDY", `a study named "${name}" already exists`, {
        hint: "load it (loadIfExists: true) or pick another name",
      });
    }
    if (directions.length === 0)
      throw new TuningError("INVALID_VALUE", "a study needs at least one direction");
    const studyId = this.nextStudyId++;
    const study: StoredStudy = {
      studyId,
      studyName: name,
      directions: [...directions],
      userAttrs: {},
      systemAttrs: {},
    };
    this.studies.set(studyId, { study, trialIds: [], paramDistributions: new Map() });
    return studyId;
  }

  async deleteStudy(studyId: number): Promise<void> {
    const record = this.record(studyId);
    for (const id of record.trialIds) {
      this.trials.delete(id);
      this.trialStudy.delete(id);
      this.heartbeats.delete(id);
    }
    this.studies.delete(studyId);
  }

  async getStudyIdFromName(studyName: string): Promise<number> {
    for (const r of this.studies.values()) if (r.study.studyName === studyName) return r.study.studyId;
    throw new TuningError("STUDY_NOT_FOUND", `no study named "${studyName}"`, {
      hint: "create it first, or check the storage URL",
    });
  }

  async getStudy(studyId: number): Promise<StoredStudy> {
    return this.record(studyId).study;
  }

  async getAllStudies(): Promise<StoredStudy[]> {
    return [...this.studies.values()].map((r) => r.study);
  }

  async setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void> {
    const r = this.record(studyId);
    r.study = { ...r.study, userAttrs: { ...r.study.userAttrs, [key]: structuredClone(value) } };
  }

  async setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void> {
    const r = this.record(studyId);
    r.study = { ...r.study, systemAttrs: { ...r.study.systemAttrs, [key]: structuredClone(value) } };
  }

  async createTrial(
    studyId: number,
    template?: Partial<FrozenTrial>,
  ): Promise<{ trialId: number; number: number }> {
    const record = this.record(studyId);
    const trialId = this.nextTrialId++;
    const number = record.trialIds.length;
    const state = template?.state ?? "RUNNING";
    for (const [name, d] of Object.entries(template?.distributions ?? {}))
      this.checkStudyParam(record, name, d);
    const trial: FrozenTrial = {
      number,
      trialId,
      state,
      ...(template?.values === undefined ? {} : { values: [...template.values] }),
      ...(template?.datetimeStart !== undefined
        ? { datetimeStart: template.datetimeStart }
        : state === "WAITING"
          ? {}
          : { datetimeStart: new Date(this.now()) }),
      ...(template?.datetimeComplete !== undefined
        ? { datetimeComplete: template.datetimeComplete }
        : isFinished(state)
          ? { datetimeComplete: new Date(this.now()) }
          : {}),
      params: { ...template?.params },
      distributions: { ...template?.distributions },
      userAttrs: structuredClone({ ...template?.userAttrs }),
      systemAttrs: structuredClone({ ...template?.systemAttrs }),
      intermediateValues: new Map(template?.intermediateValues ?? []),
    };
    record.trialIds.push(trialId);
    this.trials.set(trialId, trial);
    this.trialStudy.set(trialId, studyId);
    return { trialId, number };
  }

  async setTrialParam(
    trialId: number,
    name: string,
    internalValue: number,
    distribution: Distribution,
  ): Promise<void> {
    const trial = this.updatable(trialId);
    const own = trial.distributions[name];
    if (own !== undefined) checkCompatible(name, own, distribution);
    this.checkStudyParam(this.record(this.studyOf(trialId)), name, distribution);
    this.put({
      ...trial,
      params: { ...trial.params, [name]: toExternal(distribution, internalValue) },
      distributions: { ...trial.distributions, [name]: distribution },
    });
  }

  async setTrialStateValues(
    trialId: number,
    state: TrialState,
    values?: readonly number[],
  ): Promise<boolean> {
    const trial = this.updatable(trialId);
    // A WAITING trial is taken by whoever moves it to RUNNING first; the others get false.
    if (state === "RUNNING" && trial.state !== "WAITING") return false;
    const now = new Date(this.now());
    this.put({
      ...trial,
      state,
      ...(values === undefined ? {} : { values: [...values] }),
      ...(state === "RUNNING" ? { datetimeStart: now } : {}),
      ...(isFinished(state) ? { datetimeComplete: now } : {}),
    });
    if (isFinished(state)) this.heartbeats.delete(trialId);
    return true;
  }

  async setTrialIntermediateValue(trialId: number, step: number, value: number): Promise<void> {
    const trial = this.updatable(trialId);
    const intermediateValues = new Map(trial.intermediateValues);
    intermediateValues.set(step, value);
    this.put({ ...trial, intermediateValues });
  }

  async setTrialUserAttr(trialId: number, key: string, value: unknown): Promise<void> {
    const trial = this.updatable(trialId);
    this.put({ ...trial, userAttrs: { ...trial.userAttrs, [key]: structuredClone(value) } });
  }

  async setTrialSystemAttr(trialId: number, key: string, value: unknown): Promise<void> {
    const trial = this.updatable(trialId);
    this.put({ ...trial, systemAttrs: { ...trial.systemAttrs, [key]: structuredClone(value) } });
  }

  async getTrial(trialId: number): Promise<FrozenTrial> {
    return this.trial(trialId);
  }

  async getAllTrials(studyId: number, states?: readonly TrialState[]): Promise<FrozenTrial[]> {
    const all = this.record(studyId).trialIds.map((id) => this.trial(id));
    return states === undefined ? all : all.filter((t) => states.includes(t.state));
  }

  async recordHeartbeat(trialId: number): Promise<void> {
    this.trial(trialId);
    this.heartbeats.set(trialId, this.now());
  }

  async failStaleTrials(studyId: number, graceSeconds: number): Promise<number[]> {
    const limit = this.now() - graceSeconds * 1000;
    const failed: number[] = [];
    for (const id of this.record(studyId).trialIds) {
      const beat = this.heartbeats.get(id);
      // Trials never heartbeaten are left alone: their process may not use heartbeats at all.
      if (beat === undefined || beat >= limit || this.trial(id).state !== "RUNNING") continue;
      await this.setTrialStateValues(id, "FAIL");
      failed.push(id);
    }
    return failed;
  }

  async close(): Promise<void> {}

  private record(studyId: number): StudyRecord {
    const r = this.studies.get(studyId);
    if (r === undefined) throw new TuningError("STUDY_NOT_FOUND", `no study with id ${studyId}`);
    return r;
  }

  private trial(trialId: number): FrozenTrial {
    const t = this.trials.get(trialId);
    if (t === undefined) throw new TuningError("TRIAL_NOT_FOUND", `no trial with id ${trialId}`);
    return t;
  }

  private studyOf(trialId: number): number {
    return this.trialStudy.get(trialId) ?? -1;
  }

  private updatable(trialId: number): FrozenTrial {
    const t = this.trial(trialId);
    if (isFinished(t.state)) {
      throw new TuningError(
        "TRIAL_FINISHED",
        `trial ${t.number} (id ${trialId}) is already ${t.state} and cannot change`,
        {
          hint: "ask a new trial instead",
        },
      );
    }
    return t;
  }

  private checkStudyParam(record: StudyRecord, name: string, d: Distribution): void {
    const seen = record.paramDistributions.get(name);
    if (seen === undefined) record.paramDistributions.set(name, d);
    else checkCompatible(name, seen, d);
  }

  private put(trial: FrozenTrial): void {
    this.trials.set(trial.trialId, trial);
  }
}
