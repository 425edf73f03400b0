import { describe, expect, it } from "vitest";
import { computeFeatures } from "../features/compute.js";
import { classify, enumerateSamples, trainingIndices } from "./samples.js";
import { makeFrame, makeSeries, rowFrame, T0 } from "./testing.js";
import type { DatasetConfig } from "./types.js";

const HOUR = 3_600_000;
const regression = (
  window: number,
  horizon: number,
): Pick<DatasetConfig, "window" | "horizon" | "target"> => ({
  window,
  horizon,
  target: { kind: "regression", dead_zone: 0 },
});
const closes = (n: number) => Array.from({ length: n }, (_, i) => 100 + i);

describe("enumerateSamples", () => {
  // 20 hourly candles, 2 candles missing before row 10; T = 3, h = 2.
  // Candidate end rows 2..17 (16). Rows t−2..t+2 straddle the 9|10 gap for t = 8..11 (4 dropped).
  const series = makeSeries(closes(20), Object.assign([], { 10: 2 }));

  it("drops exactly the windows and horizons that span a gap", () => {
    const { samples, drops, candidates } = enumerateSamples(series, rowFrame(series), regression(3, 2));
    expect(candidates).toBe(16);
    expect(drops).toEqual({ gaps: 4, warmup: 0, invalidTarget: 0 });
    expect(Array.from(samples.endRow)).toEqual([2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 16, 17]);
  });

  it("also drops windows whose features were computed across a gap (the frame's lookback)", () => {
    // Lookback 2: rows t−2−2..t+2 must be gap-free, so the 9|10 gap breaks t = 8..13 (T + h + L − 1 = 6).
    // Row 0 has no gap before it: t = 2, 3 stay valid although t − T + 1 − L < 0.
    const { samples, drops } = enumerateSamples(series, rowFrame(series, 0, 2), regression(3, 2));
    expect(drops).toEqual({ gaps: 6, warmup: 0, invalidTarget: 0 });
    expect(Array.from(samples.endRow)).toEqual([2, 3, 4, 5, 6, 7, 14, 15, 16, 17]);
  });

  it("drops the first rows after a gap for a real 48-candle return, which would span the outage", () => {
    // 120 candles, 20 missing before row 60: log_return_48 at rows 60..107 compares candles across it.
    const long = makeSeries(closes(120), Object.assign([], { 60: 20 }));
    const frame = computeFeatures(long, [{ type: "log_return", lags: [48] }]);
    expect(frame.lookback).toBe(48);
    const { samples } = enumerateSamples(long, frame, regression(4, 1));
    const after = Array.from(samples.endRow).filter((t) => t >= 60);
    // The first sample after the gap starts its window at row 108 = 60 + 48, where the return is clean.
    expect(after[0]).toBe(60 + 48 + 4 - 1);
    for (const t of samples.endRow) {
      const reads = t - 4 + 1 - 48; // oldest candle a window feature reads
      expect(t < 60 || reads >= 60, `sample ${t}`).toBe(true);
    }
  });

  it("drops windows that start in warm-up, counting gaps first", () => {
    // Warm-up rows 0..3: windows starting before row 4 (t < 6) are warm-up unless they span the gap.
    const { samples, drops } = enumerateSamples(series, rowFrame(series, 4), regression(3, 2));
    expect(drops).toEqual({ gaps: 4, warmup: 4, invalidTarget: 0 });
    expect(Array.from(samples.endRow)).toEqual([6, 7, 12, 13, 14, 15, 16, 17]);
  });

  it("drops windows holding a non-finite feature after warm-up", () => {
    const row = Array.from({ length: 20 }, (_, i) => (i === 14 ? Number.POSITIVE_INFINITY : i));
    const frame = { ...makeFrame({ row }), warmup: 0 };
    const { samples, drops } = enumerateSamples(series, frame, regression(3, 2));
    // Row 14 sits in the windows ending at 14, 15, 16.
    expect(drops.warmup).toBe(3);
    expect(Array.from(samples.endRow)).toEqual([2, 3, 4, 5, 6, 7, 12, 13, 17]);
  });

  it("computes the log-return target and the sample times", () => {
    const { samples } = enumerateSamples(series, rowFrame(series), regression(3, 2));
    const i = 6; // end row 12, the first sample after the gap (rows 10.. are 2 hours late)
    expect(samples.endRow[i]).toBe(12);
    expect(samples.yReg[i]).toBe(Math.fround(Math.log(114 / 112)));
    expect(samples.firstFeatureTime[i]).toBe(T0 + 12 * HOUR);
    expect(samples.endTime[i]).toBe(T0 + 14 * HOUR);
    expect(samples.labelTime[i]).toBe(T0 + 17 * HOUR - 1);
    expect(samples.yCls[i]).toBe(1);
  });

  it("drops targets without a positive close", () => {
    const values = closes(20);
    values[5] = 0;
    values[6] = Number.NaN;
    const broken = makeSeries(values);
    const frame = makeFrame({ row: closes(20) }); // features stay finite: only the targets break
    const { drops, samples } = enumerateSamples(broken, frame, regression(1, 1));
    // Targets touching close 5 or 6: t = 4 (4→5), 5 (5→6), 6 (6→7).
    expect(drops).toEqual({ gaps: 0, warmup: 0, invalidTarget: 3 });
    expect(samples.count).toBe(19 - 3);
  });

  describe("dead zone", () => {
    // Log-returns of consecutive closes; T = 1, h = 1 so sample t's target is step t.
    const steps = [0.02, -0.005, 0.0099, -0.03, 0, 0.0101, -0.0101];
    const prices = [100];
    for (const step of steps) prices.push((prices.at(-1) as number) * Math.exp(step));
    const walk = makeSeries(prices);
    const frame = rowFrame(walk);

    it("selects no sample by its label: dead-zone samples stay, with class NaN", () => {
      for (const kind of ["classification", "both", "regression"] as const) {
        const { samples, drops } = enumerateSamples(walk, frame, {
          window: 1,
          horizon: 1,
          target: { kind, dead_zone: 0.01 },
        });
        expect(drops).toEqual({ gaps: 0, warmup: 0, invalidTarget: 0 });
        expect(samples.count).toBe(7);
        expect(Array.from(samples.yCls)).toEqual([1, Number.NaN, Number.NaN, 0, Number.NaN, 1, 0]);
      }
    });

    it("leaves dead-zone samples out of training indices only with a classifying target", () => {
      const target = (kind: "classification" | "both" | "regression") => ({ kind, dead_zone: 0.01 });
      const { samples } = enumerateSamples(walk, frame, { window: 1, horizon: 1, target: target("both") });
      const all = { start: 0, end: 7 };
      expect(Array.from(trainingIndices(samples, all, target("classification")))).toEqual([0, 3, 5, 6]);
      expect(Array.from(trainingIndices(samples, all, target("both")))).toEqual([0, 3, 5, 6]);
      expect(Array.from(trainingIndices(samples, all, target("regression")))).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(Array.from(trainingIndices(samples, { start: 2, end: 5 }, target("both")))).toEqual([3]);
    });

    it("labels with dead_zone 0 as up (y > 0) or not", () => {
      const { samples } = enumerateSamples(walk, frame, {
        window: 1,
        horizon: 1,
        target: { kind: "classification", dead_zone: 0 },
      });
      expect(Array.from(samples.yCls)).toEqual([1, 0, 1, 0, 0, 1, 0]);
    });

    it("classify puts the boundary inside the dead zone", () => {
      expect(classify(0.01, 0.01)).toBeNaN();
      expect(classify(-0.01, 0.01)).toBeNaN();
      expect(classify(0.0100001, 0.01)).toBe(1);
      expect(classify(0, 0)).toBe(0);
    });
  });

  it("uses calendar months for 1mo (contiguity and label close time)", () => {
    // Jan..Apr 2024, then June..September (May missing). T = 2, h = 1: end rows 1..6 are candidates;
    // rows t−1..t+1 straddle the Apr|Jun gap for t = 3 and 4.
    const months = makeSeries(closes(8), Object.assign([], { 4: 1 }), "1mo");
    expect(months.openTime[4]).toBe(Date.UTC(2024, 5, 1));
    const { samples, drops } = enumerateSamples(months, rowFrame(months), regression(2, 1));
    expect(drops.gaps).toBe(2);
    expect(Array.from(samples.endRow)).toEqual([1, 2, 5, 6]);
    expect(samples.labelTime[0]).toBe(Date.UTC(2024, 3, 1) - 1); // March closes at April 1 − 1 ms
    expect(samples.labelTime[1]).toBe(Date.UTC(2024, 4, 1) - 1); // April (31 days later than March's)
    expect(samples.labelTime[2]).toBe(Date.UTC(2024, 8, 1) - 1); // August
    expect(samples.firstFeatureTime[2]).toBe(Date.UTC(2024, 5, 1));
  });
});
