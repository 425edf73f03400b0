/**
 * Feature specifications as they appear (snake_case) under `features:` in config/training.yaml.
 * Each entry produces one or more named columns; docs/features.md has the formulas.
 */
export type FeatureSpec =
  | { type: "log_return"; lags: number[] }
  | { type: "realized_volatility"; windows: number[] }
  | { type: "rsi"; period: number }
  | { type: "macd"; fast: number; slow: number; signal: number; relative: boolean }
  | { type: "bollinger_pct_b"; period: number; std_dev: number }
  | { type: "atr"; period: number; relative: boolean }
  | { type: "volume_zscore"; window: number }
  | { type: "time_of_day" }
  | { type: "day_of_week" };

/**
 * Computed features aligned row for row with a CandleSeries. A value is NaN while its indicator
 * is still warming up; every value at row i depends only on candles 0..i (never on later ones).
 */
export interface FeatureFrame {
  readonly names: readonly string[];
  /** One column per name, each `rows` long. */
  readonly columns: readonly Float64Array[];
  readonly rows: number;
  /** First row at which every column is finite (rows before it are warm-up). */
  readonly warmup: number;
  /**
   * Per column, how many candles before row t its value at t reads (or, for the recursive EMA/Wilder
   * indicators, needs to settle after a cold start). A value at t is computed within one gap-free
   * stretch only when rows t − lookback .. t are adjacent candles; the dataset builder uses this to
   * drop samples whose features were computed across a gap.
   */
  readonly lookbacks: readonly number[];
  /** The largest of `lookbacks` (0 for a frame without columns). */
  readonly lookback: number;
  /** The specifications the columns were computed from; empty for hand-built frames. */
  readonly specs: readonly FeatureSpec[];
}
