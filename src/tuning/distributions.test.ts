import { describe, expect, it } from "vitest";
import {
  categoricalDistribution,
  compatible,
  contains,
  distributionFromJson,
  distributionToJson,
  floatDistribution,
  intDistribution,
  isSingle,
  pyFloat,
  pyJsonDumps,
  toExternal,
  toInternal,
  validateDistribution,
} from "./distributions.js";
import { TuningError } from "./errors.js";
import type { Distribution } from "./types.js";

const silent = () => {};

const reason = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof TuningError ? error.reason : String(error);
  }
  return undefined;
};

describe("distribution validation", () => {
  it("checks floats as Optuna does", () => {
    expect(reason(() => floatDistribution(2, 1))).toBe("INVALID_DISTRIBUTION");
    expect(reason(() => floatDistribution(0, 1, { log: true }))).toBe("INVALID_DISTRIBUTION");
    expect(reason(() => floatDistribution(1, 2, { log: true, step: 0.1 }))).toBe("INVALID_DISTRIBUTION");
    expect(reason(() => floatDistribution(0, 1, { step: 0 }))).toBe("INVALID_DISTRIBUTION");
    expect(floatDistribution(0, 1)).toEqual({ kind: "float", low: 0, high: 1, log: false, step: null });
  });

  it("checks ints, with step 1 by default and log needing low >= 1", () => {
    expect(intDistribution(0, 5)).toEqual({ kind: "int", low: 0, high: 5, log: false, step: 1 });
    expect(reason(() => intDistribution(0, 5, { log: true }))).toBe("INVALID_DISTRIBUTION");
    expect(reason(() => intDistribution(1, 5, { log: true, step: 2 }))).toBe("INVALID_DISTRIBUTION");
    expect(reason(() => intDistribution(0, 5.5))).toBe("INVALID_DISTRIBUTION");
    expect(reason(() => intDistribution(0, 5, { step: -1 }))).toBe("INVALID_DISTRIBUTION");
  });

  it("lowers high onto the step grid with a warning, in decimal arithmetic", () => {
    const warnings: string[] = [];
    expect(floatDistribution(0.1, 0.35, { step: 0.1 }, (m) => warnings.push(m)).high).toBe(0.3);
    expect(intDistribution(-3, 10, { step: 3 }, (m) => warnings.push(m)).high).toBe(9);
    expect(warnings).toHaveLength(2);
    expect(floatDistribution(0, 1, { step: 0.1 }, (m) => warnings.push(m)).high).toBe(1);
    expect(warnings).toHaveLength(2);
  });

  it("checks categorical choices", () => {
    expect(reason(() => categoricalDistribution([]))).toBe("INVALID_DISTRIBUTION");
    expect(reason(() => categoricalDistribution([{}]))).toBe("INVALID_DISTRIBUTION");
    expect(categoricalDistribution(["a", 1, true, null]).choices).toEqual(["a", 1, true, null]);
    expect(
      reason(() => validateDistribution({ kind: "float", low: 1, high: 0, log: false, step: null })),
    ).toBe("INVALID_DISTRIBUTION");
  });
});

describe("internal and external values", () => {
  const cat = categoricalDistribution(["a", 2, null, Number.NaN]);
  it("maps categoricals to indices and back", () => {
    expect(toInternal(cat, null)).toBe(2);
    expect(toInternal(cat, Number.NaN)).toBe(3);
    expect(toExternal(cat, 1)).toBe(2);
    expect(reason(() => toInternal(cat, "b"))).toBe("INVALID_VALUE");
    expect(reason(() => toExternal(cat, 4))).toBe("INVALID_VALUE");
  });

  it("keeps numbers, truncating ints, refusing NaN and non-positive log values", () => {
    const i = intDistribution(0, 10);
    expect(toExternal(i, 3.0)).toBe(3);
    expect(toInternal(i, 4)).toBe(4);
    expect(reason(() => toInternal(floatDistribution(0, 1), Number.NaN))).toBe("INVALID_VALUE");
    expect(reason(() => toInternal(floatDistribution(1, 2, { log: true }), 0))).toBe("INVALID_VALUE");
  });

  it("tells whether a value is in range and on the grid", () => {
    const f = floatDistribution(0, 1, { step: 0.1 });
    expect(contains(f, 0.3)).toBe(true);
    expect(contains(f, 0.35)).toBe(false);
    expect(contains(f, 1.1)).toBe(false);
    expect(contains(intDistribution(0, 10, { step: 2 }), 4)).toBe(true);
    expect(contains(intDistribution(0, 10, { step: 2 }), 5)).toBe(false);
    expect(contains(cat, 3)).toBe(true);
    expect(contains(cat, 4)).toBe(false);
  });

  it("knows single-valued distributions", () => {
    expect(isSingle(floatDistribution(1, 1))).toBe(true);
    expect(isSingle(floatDistribution(0, 0.2, { step: 0.3 }, silent))).toBe(true);
    expect(isSingle(floatDistribution(0, 1, { step: 0.3 }, silent))).toBe(false);
    expect(isSingle(intDistribution(0, 1, { step: 2 }, silent))).toBe(true);
    expect(isSingle(categoricalDistribution(["x"]))).toBe(true);
    expect(isSingle(intDistribution(1, 2))).toBe(false);
  });

  it("judges compatibility as Optuna's check_distribution_compatibility", () => {
    expect(compatible(floatDistribution(0, 1), floatDistribution(2, 5))).toBe(true);
    expect(compatible(floatDistribution(1, 2), floatDistribution(1, 2, { log: true }))).toBe(false);
    expect(compatible(floatDistribution(0, 1), intDistribution(0, 1))).toBe(false);
    expect(compatible(categoricalDistribution(["a", "b"]), categoricalDistribution(["a", "b"]))).toBe(true);
    expect(compatible(categoricalDistribution(["a", "b"]), categoricalDistribution(["b", "a"]))).toBe(false);
  });
});

describe("Optuna JSON", () => {
  // Written by optuna 5.0.0's distribution_to_json for the same distributions.
  const cases: [Distribution, string][] = [
    [
      floatDistribution(0, 1),
      '{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 1.0, "log": false}}',
    ],
    [
      floatDistribution(-2.5, 10, { step: 0.5 }),
      '{"name": "FloatDistribution", "attributes": {"step": 0.5, "low": -2.5, "high": 10.0, "log": false}}',
    ],
    [
      floatDistribution(1e-5, 1e17, { log: true }),
      '{"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 1e+17, "log": true}}',
    ],
    [
      floatDistribution(0.1, 0.35, { step: 0.1 }, silent),
      '{"name": "FloatDistribution", "attributes": {"step": 0.1, "low": 0.1, "high": 0.3, "log": false}}',
    ],
    [
      intDistribution(-3, 10, { step: 3 }, silent),
      '{"name": "IntDistribution", "attributes": {"log": false, "step": 3, "low": -3, "high": 9}}',
    ],
    [
      intDistribution(1, 1024, { log: true }),
      '{"name": "IntDistribution", "attributes": {"log": true, "step": 1, "low": 1, "high": 1024}}',
    ],
    [
      categoricalDistribution(["adam", "sgd", 1, 2.5, null, true, 'é"x']),
      '{"name": "CategoricalDistribution", "attributes": {"choices": ["adam", "sgd", 1, 2.5, null, true, "\\u00e9\\"x"]}}',
    ],
  ];

  it.each(cases)("writes %j byte for byte and reads it back", (d, json) => {
    expect(distributionToJson(d)).toBe(json);
    expect(distributionFromJson(json)).toEqual(d);
  });

  it("reads Optuna's legacy distribution names", () => {
    const legacy = (name: string, attributes: object) =>
      distributionFromJson(JSON.stringify({ name, attributes }));
    expect(legacy("UniformDistribution", { low: 0, high: 1 })).toEqual(floatDistribution(0, 1));
    expect(legacy("LogUniformDistribution", { low: 1e-3, high: 1 })).toEqual(
      floatDistribution(1e-3, 1, { log: true }),
    );
    expect(legacy("DiscreteUniformDistribution", { low: 0, high: 1, q: 0.25 })).toEqual(
      floatDistribution(0, 1, { step: 0.25 }),
    );
    expect(legacy("IntUniformDistribution", { low: 0, high: 9, step: 3 })).toEqual(
      intDistribution(0, 9, { step: 3 }),
    );
    expect(legacy("IntLogUniformDistribution", { low: 1, high: 64, step: 1 })).toEqual(
      intDistribution(1, 64, { log: true }),
    );
    expect(() => legacy("BetaDistribution", {})).toThrow(/unknown distribution class/);
  });

  it("reads the short `type` form", () => {
    expect(distributionFromJson({ type: "int", low: 0, high: 4 })).toEqual(intDistribution(0, 4));
    expect(distributionFromJson({ type: "float", low: 0, high: 1, step: 0.5 })).toEqual(
      floatDistribution(0, 1, { step: 0.5 }),
    );
    expect(distributionFromJson({ type: "categorical", choices: ["a"] })).toEqual(
      categoricalDistribution(["a"]),
    );
  });

  it("writes floats as Python's repr does", () => {
    const expected: [number, string][] = [
      [1e16, "1e+16"],
      [123456789.125, "123456789.125"],
      [1e-4, "0.0001"],
      [0.0001234, "0.0001234"],
      [-2.5e-7, "-2.5e-07"],
      [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"],
      [100, "100.0"],
      [1e15, "1000000000000000.0"],
      [Number.POSITIVE_INFINITY, "Infinity"],
    ];
    for (const [x, repr] of expected) expect(pyFloat(x)).toBe(repr);
    expect(pyJsonDumps({ a: [1, 0.5, "\n"], b: null })).toBe('{"a": [1, 0.5, "\\n"], "b": null}');
  });
});
