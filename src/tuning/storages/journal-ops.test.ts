import { describe, expect, it } from "vitest";
import {
  categoricalDistribution,
  distributionToJson,
  floatDistribution,
  intDistribution,
} from "../distributions.js";
import { TuningError } from "../errors.js";
import {
  formatOptunaDate,
  PyFloat,
  parseOptunaDate,
  pythonJsonDumps,
  pythonJsonLoads,
} from "./journal-codec.js";
import { type JournalLog, OP, ops } from "./journal-log.js";
import { JournalReplay } from "./journal-ops.js";

const ME = "me";
const OTHER = "other";
const T0 = "2026-01-02T03:04:05.123456+00:00";
const T1 = "2026-01-02T03:04:06.000000+00:00";

/** A log line as it would be read back: encoded the way the file backend writes it, then parsed. */
const as = (worker: string, op: { op_code: number } & Record<string, unknown>): JournalLog =>
  pythonJsonLoads(pythonJsonDumps({ ...op, worker_id: worker })) as JournalLog;

const reasonOf = (fn: () => void): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof TuningError ? error.reason : String(error);
  }
  return undefined;
};

function withStudy(): JournalReplay {
  const r = new JournalReplay(ME);
  r.apply([as(OTHER, ops.createStudy(["minimize", "maximize"], "s"))]);
  return r;
}

describe("JournalReplay", () => {
  it("numbers Optuna's operations 0..10", () => {
    expect(Object.values(OP)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("CREATE_STUDY: ids in order, directions decoded, a duplicate skipped (raised only to its writer)", () => {
    const r = withStudy();
    expect(r.getStudy(0)).toEqual({
      studyId: 0,
      studyName: "s",
      directions: ["minimize", "maximize"],
      userAttrs: {},
      systemAttrs: {},
    });
    r.apply([as(OTHER, ops.createStudy(["minimize"], "s"))]);
    expect(r.getAllStudies()).toHaveLength(1);
    expect(reasonOf(() => r.apply([as(ME, ops.createStudy(["minimize"], "s"))]))).toBe("DUPLICATED_STUDY");
    r.apply([as(OTHER, ops.createStudy(["maximize"], "t"))]);
    expect(r.getStudy(1).directions).toEqual(["maximize"]);
    expect(r.logsRead).toBe(4);
  });

  it("DELETE_STUDY removes it; a missing study is an error only for its writer", () => {
    const r = withStudy();
    r.apply([as(OTHER, ops.deleteStudy(0)), as(OTHER, ops.deleteStudy(5))]);
    expect(r.getAllStudies()).toEqual([]);
    expect(reasonOf(() => r.getStudy(0))).toBe("STUDY_NOT_FOUND");
    expect(reasonOf(() => r.apply([as(ME, ops.deleteStudy(0))]))).toBe("STUDY_NOT_FOUND");
  });

  it("SET_STUDY_USER_ATTR / SET_STUDY_SYSTEM_ATTR merge one key each", () => {
    const r = withStudy();
    r.apply([
      as(OTHER, ops.setStudyUserAttr(0, "a", 1)),
      as(OTHER, ops.setStudyUserAttr(0, "b", { x: [1] })),
      as(OTHER, ops.setStudySystemAttr(0, "c", "z")),
    ]);
    expect(r.getStudy(0)).toMatchObject({ userAttrs: { a: 1, b: { x: [1] } }, systemAttrs: { c: "z" } });
  });

  it("CREATE_TRIAL: global ids, per-study numbers, the writer's own trial found by worker_id", () => {
    const r = withStudy();
    r.apply([as(OTHER, ops.createStudy(["minimize"], "t"))]);
    r.apply([{ op_code: OP.CREATE_TRIAL, worker_id: OTHER, study_id: 1, datetime_start: T0 }]);
    r.apply([{ op_code: OP.CREATE_TRIAL, worker_id: ME, study_id: 0, datetime_start: T0 }]);
    expect(r.lastCreatedTrialId).toBe(1);
    expect(r.ownedTrialId).toBe(1);
    const t = r.getTrial(1);
    expect(t).toMatchObject({
      trialId: 1,
      number: 0,
      state: "RUNNING",
      params: {},
      userAttrs: {},
      systemAttrs: {},
    });
    expect(t.datetimeStart?.toISOString()).toBe("2026-01-02T03:04:05.123Z");
    expect(t.values).toBeUndefined();
  });

  it("CREATE_TRIAL from a template: state, value, params (internal → external), attrs, intermediate values", () => {
    const r = withStudy();
    const act = categoricalDistribution(["relu", null, 2]);
    const op = ops.createTrial(0, {
      state: "COMPLETE",
      values: [0.5],
      params: { act: null, n: 3 },
      distributions: { act, n: intDistribution(1, 5) },
      userAttrs: { u: 1 },
      systemAttrs: { s: 2 },
      intermediateValues: new Map([[2, 0.25]]),
      datetimeStart: new Date(T0),
      datetimeComplete: new Date(T1),
    });
    expect(op).toMatchObject({
      state: 1,
      value: new PyFloat(0.5),
      values: null,
      params: { act: new PyFloat(1), n: new PyFloat(3) },
    });
    expect(op.distributions).toEqual({
      act: distributionToJson(act),
      n: distributionToJson(intDistribution(1, 5)),
    });
    r.apply([as(OTHER, op)]);
    const t = r.getTrial(0);
    expect(t).toMatchObject({
      state: "COMPLETE",
      values: [0.5],
      params: { act: null, n: 3 },
      userAttrs: { u: 1 },
      systemAttrs: { s: 2 },
    });
    expect(t.distributions.act).toEqual(act);
    expect([...t.intermediateValues]).toEqual([[2, 0.25]]);
    expect(t.datetimeComplete?.toISOString()).toBe("2026-01-02T03:04:06.000Z");
    // Several objectives go to `values`, with `value` null, as Optuna writes them.
    expect(ops.createTrial(0, { state: "COMPLETE", values: [1, 2] })).toMatchObject({
      value: null,
      values: [new PyFloat(1), new PyFloat(2)],
    });
    // A WAITING template has no start.
    expect(ops.createTrial(0, { state: "WAITING" })).toMatchObject({ state: 4, datetime_start: null });
  });

  it("SET_TRIAL_PARAM: external value, first distribution wins, incompatible ones skipped", () => {
    const r = withStudy();
    r.apply([{ op_code: OP.CREATE_TRIAL, worker_id: ME, study_id: 0, datetime_start: T0 }]);
    r.apply([{ op_code: OP.CREATE_TRIAL, worker_id: ME, study_id: 0, datetime_start: T0 }]);
    r.apply([as(OTHER, ops.setTrialParam(0, "c", 1, categoricalDistribution(["a", "b"])))]);
    r.apply([as(OTHER, ops.setTrialParam(0, "n", 2.0, intDistribution(0, 4)))]);
    expect(r.getTrial(0).params).toEqual({ c: "b", n: 2 });
    r.apply([as(OTHER, ops.setTrialParam(1, "c", 0, categoricalDistribution(["x"])))]);
    expect(r.getTrial(1).params).toEqual({});
    expect(reasonOf(() => r.apply([as(ME, ops.setTrialParam(1, "n", 0.5, floatDistribution(0, 1)))]))).toBe(
      "INCOMPATIBLE_DISTRIBUTION",
    );
    expect(reasonOf(() => r.apply([as(ME, ops.setTrialParam(9, "n", 1, intDistribution(0, 4)))]))).toBe(
      "TRIAL_NOT_FOUND",
    );
  });

  it("SET_TRIAL_STATE_VALUES: finish with values, WAITING taken once, finished trials frozen", () => {
    const r = withStudy();
    r.apply([as(OTHER, ops.createTrial(0, { state: "WAITING" })), as(OTHER, ops.createTrial(0))]);
    r.apply([
      {
        op_code: OP.SET_TRIAL_STATE_VALUES,
        worker_id: OTHER,
        trial_id: 0,
        state: 0,
        values: null,
        datetime_start: T0,
      },
    ]);
    r.apply([
      {
        op_code: OP.SET_TRIAL_STATE_VALUES,
        worker_id: ME,
        trial_id: 0,
        state: 0,
        values: null,
        datetime_start: T1,
      },
    ]);
    expect(r.ownedTrialId).toBeUndefined();
    expect(r.getTrial(0).datetimeStart?.toISOString()).toBe("2026-01-02T03:04:05.123Z");
    r.apply([
      {
        op_code: OP.SET_TRIAL_STATE_VALUES,
        worker_id: OTHER,
        trial_id: 1,
        state: 2,
        values: [0.5],
        datetime_complete: T1,
      },
    ]);
    expect(r.getTrial(1)).toMatchObject({ state: "PRUNED", values: [0.5] });
    r.apply([as(OTHER, ops.setTrialStateValues(1, "COMPLETE", [9]))]);
    expect(r.getTrial(1).state).toBe("PRUNED");
    expect(reasonOf(() => r.apply([as(ME, ops.setTrialStateValues(1, "FAIL"))]))).toBe("TRIAL_FINISHED");
  });

  it("SET_TRIAL_INTERMEDIATE_VALUE / SET_TRIAL_USER_ATTR / SET_TRIAL_SYSTEM_ATTR", () => {
    const r = withStudy();
    r.apply([as(OTHER, ops.createTrial(0))]);
    r.apply([
      as(OTHER, ops.setTrialIntermediateValue(0, 1, 0.5)),
      as(OTHER, ops.setTrialIntermediateValue(0, 1, Number.NaN)),
      as(OTHER, ops.setTrialIntermediateValue(0, 0, Number.POSITIVE_INFINITY)),
      as(OTHER, ops.setTrialUserAttr(0, "u", [1, "x"])),
      as(OTHER, ops.setTrialSystemAttr(0, "s", { k: null })),
    ]);
    const t = r.getTrial(0);
    expect(t.intermediateValues.get(1)).toBeNaN();
    expect(t.intermediateValues.get(0)).toBe(Number.POSITIVE_INFINITY);
    expect(t).toMatchObject({ userAttrs: { u: [1, "x"] }, systemAttrs: { s: { k: null } } });
  });

  it("applies the rest of a batch before raising its writer's failure; skips DISCARD_TRIALS; rejects unknown codes", () => {
    const r = withStudy();
    expect(
      reasonOf(() => r.apply([as(ME, ops.deleteStudy(7)), as(OTHER, ops.createStudy(["minimize"], "u"))])),
    ).toBe("STUDY_NOT_FOUND");
    expect(r.getAllStudies().map((s) => s.studyName)).toEqual(["s", "u"]);
    r.apply([{ op_code: OP.DISCARD_TRIALS, worker_id: OTHER }]);
    expect(reasonOf(() => r.apply([{ op_code: 42, worker_id: OTHER }]))).toBe("STORAGE");
  });
});

describe("journal codec", () => {
  it("writes JSON as Python's json.dumps does", () => {
    const value = {
      a: new PyFloat(1),
      b: 2,
      c: [Number.NaN, Number.NEGATIVE_INFINITY, 1e-7],
      d: 'é\n"',
      e: null,
      f: undefined,
    };
    expect(pythonJsonDumps(value)).toBe(
      '{"a":1.0,"b":2,"c":[NaN,-Infinity,1e-07],"d":"\\u00e9\\n\\"","e":null}',
    );
    expect(pythonJsonDumps({ a: [1, 2] }, "python-default")).toBe('{"a": [1, 2]}');
  });

  it("reads Python's non-finite tokens, but not inside strings", () => {
    expect(pythonJsonLoads('{"v": [NaN, Infinity, -Infinity], "s": "NaN Infinity"}')).toEqual({
      v: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
      s: "NaN Infinity",
    });
  });

  it("formats and parses Optuna's datetimes", () => {
    expect(formatOptunaDate(new Date("2026-01-02T03:04:05.123Z"))).toBe("2026-01-02T03:04:05.123000+00:00");
    expect(parseOptunaDate("2026-01-02T05:04:05.123999+02:00").toISOString()).toBe(
      "2026-01-02T03:04:05.123Z",
    );
    expect(parseOptunaDate("2026-01-02T03:04:05+00:00").toISOString()).toBe("2026-01-02T03:04:05.000Z");
    expect(() => parseOptunaDate("yesterday")).toThrow(RangeError);
  });
});
