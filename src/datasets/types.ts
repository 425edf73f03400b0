/**
 * Shapes shared by the dataset builder: the table of valid samples and the sample-index ranges that
 * splits and folds are made of. The settings (`DatasetConfig`), their defaults and their enums come from
 * the one schema in src/config/schema/dataset.ts.
 */
import { type DatasetConfig, datasetSchema } from "../config/schema/dataset.js";

export {
  type DatasetConfig,
  SCALER_KINDS,
  type ScalerKind,
  TARGET_KINDS,
  type TargetKind,
  WALK_FORWARD_MODES,
  WALK_FORWARD_SPANS,
  type WalkForwardMode,
  type WalkForwardSpan,
} from "../config/schema/dataset.js";

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** The documented defaults: the schema's output for an empty `dataset:` section (frozen). */
export const DEFAULT_DATASET_CONFIG: Readonly<DatasetConfig> = deepFreeze(datasetSchema.parse({}));

/**
 * Valid samples in time order (index i is "sample i" everywhere in this module). A sample is named by
 * its end row t: features come from rows t−T+1..t, the target from close[t] and close[t+h].
 */
export interface SampleTable {
  readonly count: number;
  readonly window: number;
  readonly horizon: number;
  /** Row t of the window's last candle. Strictly increasing. */
  readonly endRow: Int32Array;
  /** Open time of row t−T+1 (UTC ms). */
  readonly firstFeatureTime: Float64Array;
  /** Open time of row t (UTC ms). */
  readonly endTime: Float64Array;
  /** Close time of row t+h: its open time + interval − 1 ms (next month's open − 1 for `1mo`). */
  readonly labelTime: Float64Array;
  /** ln(close[t+h] / close[t]). */
  readonly yReg: Float32Array;
  /**
   * 1 if y > dead_zone, 0 if y < −dead_zone (y ≤ 0 when dead_zone is 0); NaN inside the dead zone.
   * Dead-zone samples stay in the table: only training index lists leave them out.
   */
  readonly yCls: Float32Array;
}

/**
 * Why candidate end rows were not made into samples. A candidate is any t with a full window and
 * horizon inside the series (T−1 ≤ t ≤ rows−h−1); each is counted once, in this order of checks.
 */
export interface SampleDrops {
  /**
   * Two consecutive rows of t−T+1−L..t+h are not adjacent candles, L being the frame's lookback: the
   * window or the label spans a gap, or a feature of the window was computed across one.
   */
  gaps: number;
  /** The window starts before `frame.warmup` or holds a non-finite feature. */
  warmup: number;
  /** close[t] or close[t+h] is missing, zero or negative, so no log return exists. */
  invalidTarget: number;
}

/** Samples `start..end−1` of the {@link SampleTable} (end exclusive); empty when start === end. */
export interface SampleRange {
  readonly start: number;
  readonly end: number;
}

/** Samples removed from the end of a part so that its labels stay clear of the next part. */
export interface BoundaryDrops {
  /** labelTime ≥ the next part's first feature time (the label overlaps the next part's inputs). */
  purged: number;
  /** labelTime within `embargo` candles before the next part's first feature time. */
  embargoed: number;
}
