/**
 * The operations of Optuna's journal as they are written: op codes, the fields of each operation, and
 * their encodings (directions and states as Optuna's enum values, datetimes in its ISO form,
 * distributions as `distribution_to_json` strings, floats as Python floats). The builders mirror the
 * writes of Optuna 5.0's `JournalStorage` field for field; journal-ops.ts replays them.
 */
import { randomUUID } from "node:crypto";
import { distributionToJson, toInternal } from "../distributions.js";
import { TuningError } from "../errors.js";
import type { Distribution, FrozenTrial, StudyDirection, TrialState } from "../types.js";
import { TRIAL_STATES } from "../types.js";
import { formatOptunaDate, PyFloat } from "./journal-codec.js";

/** Optuna's `JournalOperation` numbering. */
export const OP = {
  CREATE_STUDY: 0,
  DELETE_STUDY: 1,
  SET_STUDY_USER_ATTR: 2,
  SET_STUDY_SYSTEM_ATTR: 3,
  CREATE_TRIAL: 4,
  SET_TRIAL_PARAM: 5,
  SET_TRIAL_STATE_VALUES: 6,
  SET_TRIAL_INTERMEDIATE_VALUE: 7,
  SET_TRIAL_USER_ATTR: 8,
  SET_TRIAL_SYSTEM_ATTR: 9,
  /** Written only by Rustuna; Optuna skips it, and so do we. */
  DISCARD_TRIALS: 10,
} as const;

/** One operation as it sits in the log: `op_code`, `worker_id` and the operation's fields. */
export type JournalLog = { readonly op_code: number; readonly worker_id: string } & Readonly<
  Record<string, unknown>
>;

/** Optuna's StudyDirection values (NOT_SET=0 is never written for a created study). */
const DIRECTION_CODE: Record<StudyDirection, number> = { minimize: 1, maximize: 2 };

/** Optuna's worker id: a per-storage UUID prefix and a per-thread suffix (here the process id). */
export const newWorkerId = (): string => `${randomUUID()}-${process.pid}`;

const now = (): string => formatOptunaDate(new Date());
const floats = (values: readonly number[] | undefined): PyFloat[] | null =>
  values === undefined ? null : values.map((v) => new PyFloat(v));

/** Builders of the operations exactly as Optuna's JournalStorage writes them (field names, nulls, dates). */
export const ops = {
  createStudy: (directions: readonly StudyDirection[], studyName: string) => ({
    op_code: OP.CREATE_STUDY,
    study_name: studyName,
    directions: directions.map((d) => DIRECTION_CODE[d]),
  }),
  deleteStudy: (studyId: number) => ({ op_code: OP.DELETE_STUDY, study_id: studyId }),
  setStudyUserAttr: (studyId: number, key: string, value: unknown) => ({
    op_code: OP.SET_STUDY_USER_ATTR,
    study_id: studyId,
    user_attr: { [key]: value },
  }),
  setStudySystemAttr: (studyId: number, key: string, value: unknown) => ({
    op_code: OP.SET_STUDY_SYSTEM_ATTR,
    study_id: studyId,
    system_attr: { [key]: value },
  }),
  createTrial: (
    studyId: number,
    template?: Partial<FrozenTrial>,
  ): { op_code: number } & Record<string, unknown> => {
    if (template === undefined) return { op_code: OP.CREATE_TRIAL, study_id: studyId, datetime_start: now() };
    const state = template.state ?? "RUNNING";
    const values = template.values;
    const distributions = template.distributions ?? {};
    const params: Record<string, PyFloat> = {};
    for (const [name, value] of Object.entries(template.params ?? {})) {
      const d = distributions[name];
      if (d === undefined) {
        throw new TuningError("INVALID_DISTRIBUTION", `template parameter "${name}" has no distribution`, {
          hint: "give the template a distribution for every parameter",
        });
      }
      params[name] = new PyFloat(toInternal(d, value));
    }
    // A WAITING (enqueued) trial has no start yet; Optuna writes null for it.
    const start = template.datetimeStart ?? (state === "RUNNING" ? new Date() : undefined);
    return {
      op_code: OP.CREATE_TRIAL,
      study_id: studyId,
      datetime_start: start === undefined ? null : formatOptunaDate(start),
      state: TRIAL_STATES.indexOf(state),
      // Optuna writes `value` for one objective and `values` (with value null) for several.
      value: values !== undefined && values.length === 1 ? new PyFloat(values[0] as number) : null,
      values: values !== undefined && values.length > 1 ? floats(values) : null,
      ...(template.datetimeComplete
        ? { datetime_complete: formatOptunaDate(template.datetimeComplete) }
        : {}),
      distributions: Object.fromEntries(
        Object.entries(distributions).map(([k, d]) => [k, distributionToJson(d)]),
      ),
      params,
      user_attrs: template.userAttrs ?? {},
      system_attrs: template.systemAttrs ?? {},
      intermediate_values: Object.fromEntries(
        [...(template.intermediateValues ?? new Map<number, number>())].map(([step, v]) => [
          String(step),
          new PyFloat(v),
        ]),
      ),
    };
  },
  setTrialParam: (trialId: number, name: string, internalValue: number, distribution: Distribution) => ({
    op_code: OP.SET_TRIAL_PARAM,
    trial_id: trialId,
    param_name: name,
    param_value_internal: new PyFloat(internalValue),
    distribution: distributionToJson(distribution),
  }),
  setTrialStateValues: (trialId: number, state: TrialState, values?: readonly number[]) => ({
    op_code: OP.SET_TRIAL_STATE_VALUES,
    trial_id: trialId,
    state: TRIAL_STATES.indexOf(state),
    values: floats(values),
    ...(state === "RUNNING"
      ? { datetime_start: now() }
      : state !== "WAITING"
        ? { datetime_complete: now() }
        : {}),
  }),
  setTrialIntermediateValue: (trialId: number, step: number, value: number) => ({
    op_code: OP.SET_TRIAL_INTERMEDIATE_VALUE,
    trial_id: trialId,
    step,
    intermediate_value: new PyFloat(value),
  }),
  setTrialUserAttr: (trialId: number, key: string, value: unknown) => ({
    op_code: OP.SET_TRIAL_USER_ATTR,
    trial_id: trialId,
    user_attr: { [key]: value },
  }),
  setTrialSystemAttr: (trialId: number, key: string, value: unknown) => ({
    op_code: OP.SET_TRIAL_SYSTEM_ATTR,
    trial_id: trialId,
    system_attr: { [key]: value },
  }),
};
