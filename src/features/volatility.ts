import { ATR } from "trading-signals";
import { nanColumn, requireInteger, requirePositive, requireSameLength } from "./params.js";
import { rollingMoments } from "./rolling.js";

/** Options of {@link bollingerPctB}. */
export interface BollingerOptions {
  /** Window of the moving average and standard deviation. Default 20. */
  period?: number;
  /** Band half-width in standard deviations. Default 2. */
  stdDev?: number;
}

/**
 * Bollinger %B: `(close - lower) / (upper - lower)` with `middle = SMA(close, period)`,
 * `upper/lower = middle ± stdDev · std(close, period)` and std the population std (ddof 0), as
 * `ta.volatility.BollingerBands(...).bollinger_pband()`. 0 at the lower band, 1 at the upper band.
 * First value at row `period - 1`. When the band has zero width (close flat over the window) %B is 0.5,
 * "in the middle", where `ta` gives NaN: a model input must stay finite after warm-up.
 *
 * Not trading-signals' `BollingerBands`: it recomputes mean and std over the whole window on every row
 * (O(n·period)) and allocates a result object per row; {@link rollingMoments} is O(n) and shared with the
 * other rolling features. Its numbers agree with the library's (see volatility.test.ts).
 */
export function bollingerPctB(close: Float64Array, options: BollingerOptions = {}): Float64Array {
  const period = options.period ?? 20;
  const stdDev = options.stdDev ?? 2;
  requireInteger("bollinger_pct_b.period", period, 2);
  requirePositive("bollinger_pct_b.std_dev", stdDev);
  const { mean, std } = rollingMoments(close, period);
  const out = nanColumn(close.length);
  for (let t = period - 1; t < close.length; t++) {
    const sd = std[t] as number;
    const lower = (mean[t] as number) - stdDev * sd;
    const upper = (mean[t] as number) + stdDev * sd;
    out[t] = sd === 0 ? 0.5 : ((close[t] as number) - lower) / (upper - lower);
  }
  return out;
}

/** Options of {@link atr}. */
export interface AtrOptions {
  /** Wilder smoothing period. Default 14. */
  period?: number;
  /** Divide by close[t], giving the typical range as a fraction of price. Default false. */
  relative?: boolean;
}

/**
 * Average true range with Wilder smoothing, from trading-signals' `ATR`: true range
 * `max(high - low, |high - close[t-1]|, |low - close[t-1]|)` (just `high - low` on row 0), seeded with the
 * mean of the first `period` true ranges at row `period - 1`, then `atr = atr[t-1] + (tr - atr[t-1]) / period`.
 * Identical recursion and seed to `ta.volatility.AverageTrueRange`. First value at row `period - 1`.
 */
export function atr(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  options: AtrOptions = {},
): Float64Array {
  const period = options.period ?? 14;
  requireInteger("atr.period", period, 1);
  const n = requireSameLength("atr", high, low, close);
  const indicator = new ATR(period);
  const out = nanColumn(n);
  for (let t = 0; t < n; t++) {
    const c = close[t] as number;
    const value = indicator.add({ high: high[t] as number, low: low[t] as number, close: c });
    if (value !== null) out[t] = options.relative === true ? value / c : value;
  }
  return out;
}
