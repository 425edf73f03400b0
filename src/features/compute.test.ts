import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocateSeries, type CandleSeries } from "../data/candles.js";
import { computeFeatures } from "./compute.js";
import type { FeatureSpec } from "./types.js";

/** A deterministic random-walk series of 5m candles starting on a Monday (2021-01-04 00:00 UTC). */
function randomWalk(length: number, seed = 1): CandleSeries {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const series = allocateSeries("TESTUSDT", "5m", length);
  let price = 100;
  for (let t = 0; t < length; t++) {
    const open = price;
    price *= Math.exp((random() - 0.5) * 0.02);
    series.openTime[t] = Date.UTC(2021, 0, 4) + t * 300_000;
    series.open[t] = open;
    series.close[t] = price;
    series.high[t] = Math.max(open, price) * (1 + random() * 0.005);
    series.low[t] = Math.min(open, price) * (1 - random() * 0.005);
    series.volume[t] = 10 + random() * 90;
  }
  return series;
}

/** One spec of every type, with the default parameters of config/training.yaml. */
const DEFAULT_SPECS: FeatureSpec[] = [
  { type: "log_return", lags: [1, 3, 12, 48] },
  { type: "realized_volatility", windows: [12, 48] },
  { type: "rsi", period: 14 },
  { type: "macd", fast: 12, slow: 26, signal: 9, relative: true },
  { type: "bollinger_pct_b", period: 20, std_dev: 2 },
  { type: "atr", period: 14, relative: true },
  { type: "volume_zscore", window: 48 },
  { type: "time_of_day" },
  { type: "day_of_week" },
];

/** Short periods so that a short generated series gets past warm-up. */
const SHORT_SPECS: FeatureSpec[] = [
  { type: "log_return", lags: [1, 4] },
  { type: "realized_volatility", windows: [3, 5] },
  { type: "rsi", period: 5 },
  { type: "macd", fast: 3, slow: 6, signal: 3, relative: false },
  { type: "bollinger_pct_b", period: 5, std_dev: 2 },
  { type: "atr", period: 5, relative: true },
  { type: "volume_zscore", window: 5 },
  { type: "time_of_day" },
  { type: "day_of_week" },
];

describe("computeFeatures", () => {
  it("names the columns in spec order", () => {
    const frame = computeFeatures(randomWalk(200), DEFAULT_SPECS);
    expect(frame.names).toEqual([
      "log_return_1",
      "log_return_3",
      "log_return_12",
      "log_return_48",
      "realized_volatility_12",
      "realized_volatility_48",
      "rsi_14",
      "macd_rel_12_26_9",
      "macd_signal_rel_12_26_9",
      "macd_hist_rel_12_26_9",
      "bollinger_pct_b_20_2",
      "atr_rel_14",
      "volume_zscore_48",
      "time_of_day_sin",
      "time_of_day_cos",
      "day_of_week_sin",
      "day_of_week_cos",
    ]);
    expect(frame.rows).toBe(200);
    expect(frame.columns.every((column) => column.length === 200)).toBe(true);
    expect(frame.specs).toEqual(DEFAULT_SPECS);
  });

  it("names absolute and relative MACD/ATR differently, so both may be asked for", () => {
    const frame = computeFeatures(randomWalk(100), [
      { type: "macd", fast: 3, slow: 6, signal: 3, relative: false },
      { type: "macd", fast: 3, slow: 6, signal: 3, relative: true },
      { type: "atr", period: 5, relative: false },
      { type: "atr", period: 5, relative: true },
    ]);
    expect(frame.names).toEqual([
      "macd_3_6_3",
      "macd_signal_3_6_3",
      "macd_hist_3_6_3",
      "macd_rel_3_6_3",
      "macd_signal_rel_3_6_3",
      "macd_hist_rel_3_6_3",
      "atr_5",
      "atr_rel_5",
    ]);
    const close = randomWalk(100).close;
    const at = (name: string) => frame.columns[frame.names.indexOf(name)] as Float64Array;
    expect(at("atr_rel_5")[50]).toBeCloseTo((at("atr_5")[50] as number) / (close[50] as number), 15);
  });

  it("gives each column the lookback a value reads, and the frame the largest", () => {
    const frame = computeFeatures(randomWalk(200), DEFAULT_SPECS);
    expect(Object.fromEntries(frame.names.map((name, k) => [name, frame.lookbacks[k]]))).toEqual({
      log_return_1: 1,
      log_return_3: 3,
      log_return_12: 12,
      log_return_48: 48,
      realized_volatility_12: 12, // 12 one-candle returns read 13 closes
      realized_volatility_48: 48,
      rsi_14: 14, // one more than its warm-up: the first move reads the close before it
      macd_rel_12_26_9: 25,
      macd_signal_rel_12_26_9: 33,
      macd_hist_rel_12_26_9: 33,
      bollinger_pct_b_20_2: 19,
      atr_rel_14: 14, // likewise: the first true range reads the previous close
      volume_zscore_48: 47,
      time_of_day_sin: 0,
      time_of_day_cos: 0,
      day_of_week_sin: 0,
      day_of_week_cos: 0,
    });
    expect(frame.lookback).toBe(48);
  });

  it("a column's value at t changes with no candle older than t − lookback (and the lookback is tight)", () => {
    const series = randomWalk(120, 3);
    const frame = computeFeatures(series, SHORT_SPECS);
    const t = 100;
    frame.names.forEach((name, k) => {
      const lookback = frame.lookbacks[k] as number;
      if (/^(rsi|macd|atr)/.test(name)) return; // recursive: they remember every candle (see docs)
      const changed = randomWalk(120, 3);
      for (const key of ["open", "high", "low", "close", "volume"] as const) {
        for (let row = 0; row < t - lookback; row++) changed[key][row] = (changed[key][row] as number) * 1.5;
        if (lookback > 0) changed[key][t - lookback] = (changed[key][t - lookback] as number) * 1.5;
      }
      const after = computeFeatures(changed, SHORT_SPECS);
      const original = frame.columns[k]?.[t] as number;
      // Changing row t − lookback (and older) moves the value: the lookback is not overstated...
      const moved = after.columns[k]?.[t] as number;
      if (lookback > 0) expect(Math.abs(moved - original), name).toBeGreaterThan(1e-6 * Math.abs(original));
      const only = randomWalk(120, 3);
      for (const key of ["open", "high", "low", "close", "volume"] as const) {
        for (let row = 0; row < t - lookback; row++) only[key][row] = (only[key][row] as number) * 1.5;
      }
      // ...and changing only rows older than t − lookback does not: it is not understated. (Rolling
      // windows keep a running state, so older rows may still move the last bits through rounding.)
      const unchanged = computeFeatures(only, SHORT_SPECS).columns[k]?.[t] as number;
      expect(Math.abs(unchanged - original), name).toBeLessThanOrEqual(1e-12 * Math.abs(original));
    });
  });

  it("sets warmup to the first row where every column is finite", () => {
    const frame = computeFeatures(randomWalk(200), DEFAULT_SPECS);
    // log_return_48 and realized_volatility_48 both start at row 48; MACD's signal at 26 + 9 - 2 = 33.
    expect(frame.warmup).toBe(48);
    for (const column of frame.columns) {
      expect(Number.isFinite(column[48])).toBe(true);
      for (let t = 48; t < 200; t++) expect(Number.isFinite(column[t])).toBe(true);
    }
    expect(frame.columns.some((column) => !Number.isFinite(column[47]))).toBe(true);
  });

  it("finds the warmup from the data when a candle is not finite", () => {
    const series = randomWalk(30);
    series.volume[1] = Number.NaN; // Poisons the z-score windows that hold row 1: rows 1..3.
    const frame = computeFeatures(series, [{ type: "volume_zscore", window: 3 }]);
    expect(frame.warmup).toBe(4);
  });

  it("is causal: changing candles after row t never changes a feature at rows <= t", () => {
    const length = 60;
    const base = randomWalk(length, 7);
    const before = computeFeatures(base, SHORT_SPECS);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: length - 2 }),
        fc.array(fc.double({ min: 0.5, max: 2, noNaN: true }), { minLength: length, maxLength: length }),
        (t, factors) => {
          const changed = randomWalk(length, 7);
          for (let k = t + 1; k < length; k++) {
            const f = factors[k] as number;
            // Scale prices and volume, keep high >= close/open >= low, and move the open time too.
            for (const name of ["open", "high", "low", "close", "volume"] as const)
              changed[name][k] = (changed[name][k] as number) * f;
            changed.high[k] = (changed.high[k] as number) * 1.01;
            changed.openTime[k] = (changed.openTime[k] as number) + f * 1e6;
          }
          const after = computeFeatures(changed, SHORT_SPECS);
          before.columns.forEach((column, c) => {
            for (let row = 0; row <= t; row++) {
              expect(Object.is(after.columns[c]?.[row], column[row]), `${before.names[c]} row ${row}`).toBe(
                true,
              );
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it("computes the 65,741-row default set in well under a second", () => {
    const series = randomWalk(65_741);
    const start = performance.now();
    const frame = computeFeatures(series, DEFAULT_SPECS);
    expect(performance.now() - start).toBeLessThan(1000);
    expect(frame.warmup).toBe(48);
  });
});

describe("computeFeatures rejects bad specs and short series", () => {
  const series = randomWalk(100);
  const cases: [string, FeatureSpec[], string][] = [
    ["lag 0", [{ type: "log_return", lags: [1, 0] }], "log_return.lags[1]=0 must be an integer >= 1"],
    ["no lags", [{ type: "log_return", lags: [] }], "log_return.lags must be a non-empty list of integers"],
    ["window 1", [{ type: "realized_volatility", windows: [1] }], "realized_volatility.windows[0]=1 must be"],
    [
      "fast >= slow",
      [{ type: "macd", fast: 26, slow: 12, signal: 9, relative: false }],
      "macd.fast=26 must be < macd.slow=12",
    ],
    ["std_dev 0", [{ type: "bollinger_pct_b", period: 20, std_dev: 0 }], "bollinger_pct_b.std_dev=0 must be"],
    [
      "fractional period",
      [{ type: "atr", period: 2.5, relative: false }],
      "atr.period=2.5 must be an integer >= 1",
    ],
    ["unknown type", [{ type: "obv" } as unknown as FeatureSpec], 'unknown feature type "obv"'],
    ["no specs", [], "no features specified"],
    [
      "a duplicate column",
      [
        { type: "atr", period: 14, relative: true },
        { type: "atr", period: 14, relative: true },
      ],
      'feature column "atr_rel_14" is produced twice',
    ],
    [
      "a series too short",
      [{ type: "log_return", lags: [1, 100] }],
      "TESTUSDT 5m: 100 candles are too few for the features; log_return_100 needs at least 101",
    ],
  ];

  it.each(cases)("%s", (_, specs, message) => {
    expect(() => computeFeatures(series, specs)).toThrow(
      expect.objectContaining({ code: "DATASET", message: expect.stringContaining(message) }),
    );
  });

  it("says which column never becomes finite when the candles are not finite", () => {
    const bad = randomWalk(50);
    bad.close.fill(Number.NaN);
    expect(() => computeFeatures(bad, [{ type: "rsi", period: 5 }, { type: "time_of_day" }])).toThrow(
      "no row of 50 candles has every feature finite (first never-finite column: rsi_5)",
    );
  });
});
