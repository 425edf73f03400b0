/**
 * Shapes shared by the dataset builder: the `dataset:` section of config/training.yaml, the table of
 * valid samples, and the sample-index ranges that splits and folds are made of.
 */

/** What the model predicts. `both` keeps the regression target and also drops dead-zone samples. */
export type TargetKind = "both" | "regression" | "classification";

export type ScalerKind = "standard" | "minmax" | "robust" | "none";

export type WalkForwardMode = "expanding" | "rolling";

/**
 * The `dataset:` section of config/training.yaml (snake_case, as validated by the config module,
 * whose zod output is structurally identical).
 */
export interface DatasetConfig {
  /** T, candles per sample window. Default 64. */
  window: number;
  /** h, candles between the window's last candle and the candle whose close is the target. Default 12. */
  horizon: number;
  /**
   * `dead_zone` (≥ 0, log-return units): with a classification target (`classification` or `both`) and
   * `dead_zone > 0`, samples with |y| ≤ dead_zone are dropped. Default `{ kind: "both", dead_zone: 0 }`.
   */
  target: { kind: TargetKind; dead_zone: number };
  /** Per-feature scaling fitted on training rows only. Default "standard". */
  scaler: ScalerKind;
  /** Fractions of the valid samples, in time order; their sum is ≤ 1. Default 0.7 / 0.15 / 0.15. */
  split: { train: number; validation: number; test: number };
  /** Extra candles kept clear between a part's last label and the next part's first feature. Default 0. */
  embargo: number;
  /**
   * Walk-forward evaluation. `folds: 0` disables it. `train_size` / `test_size` are in candles (series
   * rows); null picks the documented defaults. Default `{ folds: 5, mode: "expanding", null, null }`.
   */
  walk_forward: {
    folds: number;
    mode: WalkForwardMode;
    train_size: number | null;
    test_size: number | null;
  };
}

/** The documented defaults of {@link DatasetConfig}. */
export const DEFAULT_DATASET_CONFIG: Readonly<DatasetConfig> = Object.freeze<DatasetConfig>({
  window: 64,
  horizon: 12,
  target: { kind: "both", dead_zone: 0 },
  scaler: "standard",
  split: { train: 0.7, validation: 0.15, test: 0.15 },
  embargo: 0,
  walk_forward: { folds: 5, mode: "expanding", train_size: null, test_size: null },
});

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
  /** 1 if y > dead_zone, 0 if y < −dead_zone (y ≤ 0 when dead_zone is 0); NaN inside the dead zone. */
  readonly yCls: Float32Array;
}

/**
 * Why candidate end rows were not made into samples. A candidate is any t with a full window and
 * horizon inside the series (T−1 ≤ t ≤ rows−h−1); each is counted once, in this order of checks.
 */
export interface SampleDrops {
  /** Two consecutive rows of t−T+1..t+h are not adjacent candles. */
  gaps: number;
  /** The window starts before `frame.warmup` or holds a non-finite feature. */
  warmup: number;
  /** close[t] or close[t+h] is missing, zero or negative, so no log return exists. */
  invalidTarget: number;
  /** |y| ≤ dead_zone with a classification target. */
  deadZone: number;
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
