/**
 * Feature specifications as they appear (snake_case) under `features:` in config/training.yaml.
 * Each entry produces one or more named columns; see src/features/README in docs for the formulas.
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
}
