import { allocateSeries, type CandleSeries } from "../data/candles.js";
import { type Interval, nextOpenTime } from "../data/intervals.js";
import type { FeatureFrame } from "../features/types.js";
import { type DatasetConfig, DEFAULT_DATASET_CONFIG } from "./types.js";

/**
 * Test support (no test-runner imports, so other modules' tests may use it too): hand-built series
 * and frames with gaps exactly where a test wants them.
 */

/** 2024-01-01T00:00:00Z, on every interval's grid except weekly. */
export const T0 = Date.UTC(2024, 0, 1);

/**
 * A series of `closes.length` candles starting at T0. `gapsBefore[i]` candles are missing just
 * before row i (absent entries mean none). Every other column gets a plausible copy of the close.
 */
export function makeSeries(
  closes: readonly number[],
  gapsBefore: readonly number[] = [],
  interval: Interval = "1h",
) {
  const series = allocateSeries("TESTUSDT", interval, closes.length);
  let time = T0;
  closes.forEach((close, i) => {
    for (let skip = 0; skip < (i === 0 ? 0 : (gapsBefore[i] ?? 0)); skip++)
      time = nextOpenTime(interval, time);
    series.openTime[i] = time;
    for (const column of [series.open, series.high, series.low, series.close]) column[i] = close;
    series.volume[i] = 1;
    time = nextOpenTime(interval, time);
  });
  return series;
}

/**
 * A frame with the given columns; warmup is the first row where all are finite (rows when none is).
 * `lookbacks` (default 0 each) says how many earlier candles each column is taken to read.
 */
export function makeFrame(
  columns: Record<string, readonly number[]>,
  lookbacks: Record<string, number> = {},
): FeatureFrame {
  const names = Object.keys(columns);
  const arrays = names.map((name) => Float64Array.from(columns[name] ?? []));
  const rows = arrays[0]?.length ?? 0;
  let warmup = 0;
  while (warmup < rows && arrays.some((column) => !Number.isFinite(column[warmup]))) warmup++;
  const perColumn = names.map((name) => lookbacks[name] ?? 0);
  return {
    names,
    columns: arrays,
    rows,
    warmup,
    lookbacks: perColumn,
    lookback: Math.max(0, ...perColumn),
    specs: [],
  };
}

/**
 * Feature "row" = the row number and "close" = the close, so a window shows which rows it holds.
 * `lookback` is given to the "close" column, as if it were computed from that many earlier candles.
 */
export function rowFrame(series: CandleSeries, warmup = 0, lookback = 0): FeatureFrame {
  const row = Array.from({ length: series.length }, (_, i) => (i < warmup ? Number.NaN : i));
  return makeFrame({ row, close: Array.from(series.close) }, { close: lookback });
}

/** The documented defaults with overrides (nested objects replaced whole). */
export function datasetConfig(overrides: Partial<DatasetConfig> = {}): DatasetConfig {
  return { ...structuredClone(DEFAULT_DATASET_CONFIG), ...overrides } as DatasetConfig;
}

/** The default walk_forward section with overrides. */
export function walkForward(
  overrides: Partial<DatasetConfig["walk_forward"]> = {},
): DatasetConfig["walk_forward"] {
  return { ...DEFAULT_DATASET_CONFIG.walk_forward, ...overrides };
}
