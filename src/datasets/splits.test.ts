import { describe, expect, it } from "vitest";
import { foldSpanEnd, walkForwardFolds } from "./folds.js";
import { enumerateSamples } from "./samples.js";
import { chronologicalSplit, purgeBefore, rangeIndices } from "./splits.js";
import { makeSeries, rowFrame, walkForward } from "./testing.js";

// 40 contiguous hourly candles, T = 4, h = 3: end rows 3..36, so sample i ends at row i + 3, its
// first feature is row i and its label candle is row i + 6. 34 samples.
const series = makeSeries(Array.from({ length: 40 }, (_, i) => 100 + i));
const { samples } = enumerateSamples(series, rowFrame(series), {
  window: 4,
  horizon: 3,
  target: { kind: "regression", dead_zone: 0 },
});
const split = (embargo: number, fractions = { train: 0.5, validation: 0.25, test: 0.25 }) =>
  chronologicalSplit(samples, fractions, embargo, "1h");
const folds = (options: Partial<Parameters<typeof walkForwardFolds>[1]>, embargo = 0) =>
  walkForwardFolds(
    samples,
    { folds: 3, mode: "expanding", train_size: null, test_size: null, span: "all", ...options },
    embargo,
    "1h",
  );

describe("chronologicalSplit", () => {
  it("purges the T + h − 1 samples whose labels reach the next part", () => {
    expect(samples.count).toBe(34);
    // Raw parts: [0, 17) [17, 26) [26, 34). Train sample i is purged when row i + 6 ≥ 17.
    const result = split(0);
    expect(result.train).toEqual({ start: 0, end: 11 });
    expect(result.validation).toEqual({ start: 17, end: 20 });
    expect(result.test).toEqual({ start: 26, end: 34 });
    expect(result.unused).toEqual({ start: 34, end: 34 });
    expect(result.drops).toEqual({
      train: { purged: 6, embargoed: 0 },
      validation: { purged: 6, embargoed: 0 },
    });
  });

  it("embargoes `embargo` more candles before each boundary", () => {
    const result = split(2);
    expect(result.train).toEqual({ start: 0, end: 9 });
    expect(result.validation).toEqual({ start: 17, end: 18 });
    expect(result.drops).toEqual({
      train: { purged: 6, embargoed: 2 },
      validation: { purged: 6, embargoed: 2 },
    });
    // The last kept train label (row 14) closes 2 full candles (15, 16) before validation's row 17.
    const lastLabelOpen = (samples.labelTime[8] as number) + 1 - 3_600_000;
    expect(lastLabelOpen).toBe(series.openTime[14]);
  });

  it("purges train against test when validation is empty, and leaves the rest unused", () => {
    const result = split(0, { train: 0.5, validation: 0, test: 0.25 });
    expect(result.validation).toEqual({ start: 17, end: 17 });
    expect(result.train).toEqual({ start: 0, end: 11 });
    expect(result.test).toEqual({ start: 17, end: 26 });
    expect(result.unused).toEqual({ start: 26, end: 34 });
  });

  it("purgeBefore keeps everything that ends well before the next part", () => {
    const far = purgeBefore(samples, { start: 0, end: 5 }, series.openTime[30] as number, 3, "1h");
    expect(far).toEqual({ range: { start: 0, end: 5 }, drops: { purged: 0, embargoed: 0 } });
  });

  it("rangeIndices lists a range", () => {
    expect(Array.from(rangeIndices({ start: 3, end: 6 }))).toEqual([3, 4, 5]);
    expect(rangeIndices({ start: 3, end: 3 }).length).toBe(0);
  });
});

describe("walkForwardFolds", () => {
  it("cuts N into folds + 1 sample blocks (expanding)", () => {
    // m = floor(34 / 4) = 8: test blocks [10, 18) [18, 26) [26, 34); train purged by 6 before each.
    const result = folds({});
    expect(result.map((fold) => fold.test)).toEqual([
      { start: 10, end: 18 },
      { start: 18, end: 26 },
      { start: 26, end: 34 },
    ]);
    expect(result.map((fold) => fold.train)).toEqual([
      { start: 0, end: 4 },
      { start: 0, end: 12 },
      { start: 0, end: 20 },
    ]);
    expect(result[0]?.testRows).toEqual({ start: 13, end: 21 });
    expect(result.every((fold) => fold.drops.purged === 6 && fold.drops.embargoed === 0)).toBe(true);
  });

  it("rolls a window as long as fold 0's training span when train_size is null", () => {
    // Fold 0 trains on end rows 3..12 (10 candles); fold 1's block starts at row 21 → rows 11..20.
    const result = folds({ mode: "rolling" });
    expect(result.map((fold) => fold.train)).toEqual([
      { start: 0, end: 4 },
      { start: 8, end: 12 },
      { start: 16, end: 20 },
    ]);
  });

  it("rolls train_size candles and places test_size-candle blocks at the end", () => {
    // Blocks of 5 end rows ending at row 36: [22, 27) [27, 32) [32, 37) → samples [19, 24) ...
    const result = folds({ mode: "rolling", train_size: 12, test_size: 5 }, 1);
    expect(result.map((fold) => fold.testRows)).toEqual([
      { start: 22, end: 27 },
      { start: 27, end: 32 },
      { start: 32, end: 37 },
    ]);
    expect(result.map((fold) => fold.test)).toEqual([
      { start: 19, end: 24 },
      { start: 24, end: 29 },
      { start: 29, end: 34 },
    ]);
    // Fold 0: end rows 10..21 (samples 7..18), cut to labels before row 19 − 1 embargo → i + 6 < 18.
    expect(result[0]?.train).toEqual({ start: 7, end: 12 });
    expect(result[0]?.drops).toEqual({ purged: 6, embargoed: 1 });
  });

  it("lays the blocks over the first `end` samples only, and foldSpanEnd stops before the test part", () => {
    const result = walkForwardFolds(samples, walkForward({ folds: 2 }), 0, "1h", 20);
    // m = floor(20 / 3) = 6: blocks [8, 14) and [14, 20); nothing at or after sample 20.
    expect(result.map((fold) => fold.test)).toEqual([
      { start: 8, end: 14 },
      { start: 14, end: 20 },
    ]);
    const parts = split(0);
    expect(foldSpanEnd(parts, "before_test", 34)).toBe(parts.validation.end);
    expect(foldSpanEnd(split(0, { train: 0.5, validation: 0, test: 0.25 }), "before_test", 34)).toBe(11);
    expect(foldSpanEnd(parts, "all", 34)).toBe(34);
  });

  it("returns no folds when folds = 0", () => {
    expect(folds({ folds: 0 })).toEqual([]);
  });

  it("refuses blocks that leave no room for training, naming the numbers", () => {
    expect(() => folds({ test_size: 12 })).toThrow(/folds × test_size = 3 × 12 = 36 candles/);
    expect(() => folds({ folds: 40 })).toThrow(/needs at least folds \+ 1 = 41 valid samples, found 34/);
    // Blocks of 11 candles start at row 4: fold 0 has only sample 0 before it, and it is purged.
    expect(() => folds({ test_size: 11 })).toThrow(/fold 0 has no training samples left/);
  });
});
