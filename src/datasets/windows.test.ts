import { describe, expect, it } from "vitest";
import { enumerateSamples } from "./samples.js";
import { fitScaler } from "./scalers.js";
import { makeSeries, rowFrame } from "./testing.js";
import { WindowBatchSource } from "./windows.js";

const series = makeSeries(Array.from({ length: 10 }, (_, i) => 10 + i));
const frame = rowFrame(series);
const { samples } = enumerateSamples(series, frame, {
  window: 3,
  horizon: 2,
  target: { kind: "regression", dead_zone: 0 },
});
const source = (kind: "regression" | "classification" = "regression") =>
  new WindowBatchSource(samples, frame, fitScaler("none", frame, new Int32Array(0)), kind);

describe("WindowBatchSource", () => {
  it("lays windows out sample-major, then row, then feature", () => {
    // Samples end at rows 2..7; features are [row, close].
    const batch = source().batch([4, 0]);
    expect(batch.shape).toEqual([2, 3, 2]);
    expect(Array.from(batch.x)).toEqual([4, 14, 5, 15, 6, 16, 0, 10, 1, 11, 2, 12]);
    expect(Array.from(batch.endRow)).toEqual([6, 2]);
    expect(Array.from(batch.index)).toEqual([4, 0]);
    expect(batch.yReg[0]).toBe(Math.fround(Math.log(18 / 16)));
    expect(batch.y).toBe(batch.yReg);
    expect(source("classification").batch([0]).y).toEqual(Float32Array.from([1]));
  });

  it("scales with the given scaler", () => {
    const scaler = fitScaler("minmax", frame, Int32Array.from([0, 1, 2, 3, 4]));
    const batch = new WindowBatchSource(samples, frame, scaler, "regression").batch([2]);
    expect(Array.from(batch.x)).toEqual([0.5, 0.5, 0.75, 0.75, 1, 1]);
  });

  it("streams batches of at most batchSize", () => {
    const sizes = [...source().batches([0, 1, 2, 3, 4], 2)].map((batch) => Array.from(batch.index));
    expect(sizes).toEqual([[0, 1], [2, 3], [4]]);
    expect(() => [...source().batches([0], 0)]).toThrow(/batchSize=0 must be an integer >= 1/);
  });

  it("rejects indices outside the table", () => {
    expect(() => source().batch([0, 6])).toThrow(/sample index 6 at position 1 is outside 0..5/);
    expect(() => source().batch([-1])).toThrow(/sample index -1/);
  });
});

describe("WindowBatchSource with parts", () => {
  const parts = [
    { name: "train", range: { start: 0, end: 2 } },
    { name: "test", range: { start: 4, end: 6 } },
  ];
  const limited = new WindowBatchSource(
    samples,
    frame,
    fitScaler("none", frame, new Int32Array(0)),
    "regression",
    parts,
  );

  it("serves the samples of its parts and refuses the others, naming the parts", () => {
    expect(Array.from(limited.batch([5, 0, 1, 4]).index)).toEqual([5, 0, 1, 4]);
    expect(() => limited.batch([0, 2])).toThrow(
      "sample index 2 at position 1 is in none of this source's parts (train 0..1, test 4..5); its scaler was not fitted for it",
    );
    expect(() => [...limited.batches([4, 3], 1)]).toThrow(/sample index 3 at position 0/);
  });
});
