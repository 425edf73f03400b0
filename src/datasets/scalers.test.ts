import { describe, expect, it } from "vitest";
import { enumerateSamples } from "./samples.js";
import { fitScaler, quantile, type ScalerJson, scaleFrame, scalerFromJson, windowRows } from "./scalers.js";
import { makeFrame, makeSeries, rowFrame } from "./testing.js";

const frame = makeFrame({ a: [1, 2, 3, 4, 100, -50], flat: [7, 7, 7, 7, 7, 7] });
const firstFour = Int32Array.from([0, 1, 2, 3]);

describe("fitScaler", () => {
  it("standard: mean and population std of the given rows only", () => {
    const json = fitScaler("standard", frame, firstFour).toJSON();
    expect(json).toEqual({
      kind: "standard",
      features: [
        { name: "a", mean: 2.5, std: Math.sqrt(1.25) },
        { name: "flat", mean: 7, std: 0 },
      ],
    });
  });

  it("minmax maps training rows onto [0, 1]", () => {
    const scaler = fitScaler("minmax", frame, firstFour);
    expect(scaler.toJSON().features[0]).toEqual({ name: "a", min: 1, max: 4 });
    const scaled = scaleFrame(frame, scaler);
    expect([scaled[0], scaled[6]]).toEqual([0, 1]); // rows 0 and 3 of feature a (row-major, F = 2)
  });

  it("robust: median and IQR with numpy's linear quantiles", () => {
    const json = fitScaler("robust", frame, firstFour).toJSON();
    // numpy.percentile([1, 2, 3, 4], [25, 50, 75]) = [1.75, 2.5, 3.25]
    expect(json.features[0]).toEqual({ name: "a", median: 2.5, iqr: 1.5 });
    expect(quantile(Float64Array.from([1, 2, 3, 4, 5]), 0.5)).toBe(3);
  });

  it("centres a constant feature instead of dividing by zero", () => {
    const scaler = fitScaler("standard", frame, firstFour);
    expect(scaler.scale[1]).toBe(1);
    expect(scaleFrame(frame, scaler)[1]).toBe(0);
  });

  it("none is the identity", () => {
    const scaled = scaleFrame(frame, fitScaler("none", frame, new Int32Array(0)));
    expect(Array.from(scaled.filter((_, k) => k % 2 === 0))).toEqual([1, 2, 3, 4, 100, -50]);
  });

  it("refuses to fit on no rows", () => {
    expect(() => fitScaler("robust", frame, new Int32Array(0))).toThrow(/training part has no samples/);
  });
});

describe("scaler JSON", () => {
  it("round-trips every kind through JSON text", () => {
    for (const kind of ["standard", "minmax", "robust", "none"] as const) {
      const scaler = fitScaler(kind, frame, Int32Array.from([0, 2, 4]));
      const back = scalerFromJson(JSON.parse(JSON.stringify(scaler)) as ScalerJson);
      expect(back.toJSON()).toEqual(scaler.toJSON());
      expect(back.center).toEqual(scaler.center);
      expect(back.scale).toEqual(scaler.scale);
      expect(scaleFrame(frame, back)).toEqual(scaleFrame(frame, scaler));
    }
  });

  it("rejects unknown kinds, missing stats and mismatched features", () => {
    expect(() => scalerFromJson({ kind: "zscore", features: [] } as unknown as ScalerJson)).toThrow(
      /unknown kind "zscore"/,
    );
    expect(() =>
      scalerFromJson({ kind: "standard", features: [{ name: "a", mean: 1 }] } as ScalerJson),
    ).toThrow(/feature "a" has non-finite stats/);
    const other = scalerFromJson({ kind: "none", features: [{ name: "b" }, { name: "flat" }] });
    expect(() => scaleFrame(frame, other)).toThrow(/do not match/);
  });
});

describe("windowRows", () => {
  it("is the union of the samples' windows, without duplicates", () => {
    const series = makeSeries(
      Array.from({ length: 12 }, () => 1),
      Object.assign([], { 6: 3 }),
    );
    const { samples } = enumerateSamples(series, rowFrame(series), {
      window: 3,
      horizon: 1,
      target: { kind: "regression", dead_zone: 0 },
    });
    // End rows 2, 3, 4 | gap before row 6 | 8, 9, 10.
    expect(Array.from(samples.endRow)).toEqual([2, 3, 4, 8, 9, 10]);
    expect(Array.from(windowRows(samples, { start: 0, end: 6 }))).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(Array.from(windowRows(samples, { start: 1, end: 2 }))).toEqual([1, 2, 3]);
  });
});
