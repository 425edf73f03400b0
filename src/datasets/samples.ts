import type { CandleSeries } from "../data/candles.js";
import { missingBetween } from "../data/intervals.js";
import type { FeatureFrame } from "../features/types.js";
import { rangeIndices } from "./splits.js";
import { closeTime } from "./times.js";
import type { DatasetConfig, SampleDrops, SampleRange, SampleTable } from "./types.js";

/** The valid samples of a series and why the other candidate end rows were dropped. */
export interface SampleEnumeration {
  readonly samples: SampleTable;
  readonly drops: SampleDrops;
  /** End rows with a full window and horizon inside the series: samples.count + all drops. */
  readonly candidates: number;
}

/**
 * Finds every valid sample. A candidate end row t is kept only when rows t−T+1−L..t+h are adjacent
 * candles, L = `frame.lookback` (gaps are never filled: an interpolated candle would be invented data,
 * and a feature computed across a gap — a 48-candle return that really spans 94, an EMA that slept
 * through an outage — is as unsound as a window spanning one); every feature of rows t−T+1..t is finite
 * and past warm-up; and both closes are positive. Near the series start the lookback is not required:
 * there is no gap before row 0, and warm-up covers it. Inputs are assumed checked by `validateInputs`.
 *
 * The dead zone selects no sample here: a sample's class is NaN inside it, and only training index
 * lists ({@link trainingIndices}) leave such samples out, so evaluation is never chosen by its label.
 */
export function enumerateSamples(
  series: CandleSeries,
  frame: FeatureFrame,
  config: Pick<DatasetConfig, "window" | "horizon" | "target">,
): SampleEnumeration {
  const { window, horizon } = config;
  const breaks = breakPrefix(series);
  const bad = badRowPrefix(frame);
  const lastEnd = series.length - horizon - 1;
  const candidates = Math.max(0, lastEnd - (window - 1) + 1);
  const table = new TableBuilder(candidates, window, horizon);
  const drops: SampleDrops = { gaps: 0, warmup: 0, invalidTarget: 0 };
  const deadZone = config.target.dead_zone;

  for (let t = window - 1; t <= lastEnd; t++) {
    const first = t - window + 1;
    const reach = Math.max(0, first - frame.lookback);
    // Prefix counts make each check O(1), so a 500k-candle series enumerates in milliseconds.
    if (at(breaks, t + horizon) !== at(breaks, reach)) drops.gaps++;
    else if (at(bad, t + 1) !== at(bad, first)) drops.warmup++;
    else {
      const now = series.close[t] as number;
      const later = series.close[t + horizon] as number;
      const y = Math.log(later / now);
      if (!(now > 0 && later > 0 && Number.isFinite(y))) drops.invalidTarget++;
      else table.push(series, t, y, classify(y, deadZone));
    }
  }
  return { samples: table.finish(), drops, candidates };
}

/** Whether the dead zone removes training samples: a classifying target and dead_zone > 0. */
export function usesDeadZone(target: DatasetConfig["target"]): boolean {
  return target.kind !== "regression" && target.dead_zone > 0;
}

/**
 * The samples of a training range a model may learn from, ascending: all of them, except — with a
 * classifying target and dead_zone > 0 — those inside the dead zone (class NaN). Only training ranges
 * go through this; validation and test keep every sample, whatever its label.
 */
export function trainingIndices(
  samples: SampleTable,
  range: SampleRange,
  target: DatasetConfig["target"],
): Int32Array {
  const all = rangeIndices(range);
  return usesDeadZone(target) ? all.filter((i) => !Number.isNaN(samples.yCls[i])) : all;
}

/** 1 above the dead zone, 0 below it, NaN inside (with dead_zone 0, y = 0 counts as "not up": 0). */
export function classify(y: number, deadZone: number): number {
  if (y > deadZone) return 1;
  if (deadZone === 0 || y < -deadZone) return 0;
  return Number.NaN;
}

/** `prefix[i]` = how many of the boundaries between rows 0..i are gaps (prefix[0] = 0). */
function breakPrefix(series: CandleSeries): Int32Array {
  const prefix = new Int32Array(series.length);
  for (let i = 1; i < series.length; i++) {
    const gap = missingBetween(series.interval, at(series.openTime, i - 1), at(series.openTime, i)) > 0;
    prefix[i] = at(prefix, i - 1) + (gap ? 1 : 0);
  }
  return prefix;
}

/** `prefix[i]` = how many of rows 0..i−1 are warm-up rows or hold a non-finite feature. */
function badRowPrefix(frame: FeatureFrame): Int32Array {
  const prefix = new Int32Array(frame.rows + 1);
  for (let row = 0; row < frame.rows; row++) {
    let bad = row < frame.warmup;
    for (let f = 0; !bad && f < frame.columns.length; f++) bad = !Number.isFinite(frame.columns[f]?.[row]);
    prefix[row + 1] = at(prefix, row) + (bad ? 1 : 0);
  }
  return prefix;
}

function at(array: ArrayLike<number>, index: number): number {
  return array[index] as number;
}

/** Fills preallocated columns, then trims them so no slack outlives the build. */
class TableBuilder {
  private count = 0;
  private readonly endRow: Int32Array;
  private readonly firstFeatureTime: Float64Array;
  private readonly endTime: Float64Array;
  private readonly labelTime: Float64Array;
  private readonly yReg: Float32Array;
  private readonly yCls: Float32Array;

  constructor(
    capacity: number,
    private readonly window: number,
    private readonly horizon: number,
  ) {
    this.endRow = new Int32Array(capacity);
    this.firstFeatureTime = new Float64Array(capacity);
    this.endTime = new Float64Array(capacity);
    this.labelTime = new Float64Array(capacity);
    this.yReg = new Float32Array(capacity);
    this.yCls = new Float32Array(capacity);
  }

  push(series: CandleSeries, t: number, y: number, cls: number): void {
    const i = this.count++;
    this.endRow[i] = t;
    this.firstFeatureTime[i] = at(series.openTime, t - this.window + 1);
    this.endTime[i] = at(series.openTime, t);
    this.labelTime[i] = closeTime(series.interval, at(series.openTime, t + this.horizon));
    this.yReg[i] = y;
    this.yCls[i] = cls;
  }

  finish(): SampleTable {
    const n = this.count;
    return {
      count: n,
      window: this.window,
      horizon: this.horizon,
      endRow: this.endRow.slice(0, n),
      firstFeatureTime: this.firstFeatureTime.slice(0, n),
      endTime: this.endTime.slice(0, n),
      labelTime: this.labelTime.slice(0, n),
      yReg: this.yReg.slice(0, n),
      yCls: this.yCls.slice(0, n),
    };
  }
}
