import { nanColumn, requireInteger } from "./params.js";
import { rollingMoments } from "./rolling.js";

/**
 * Log return over `lag` candles: `ln(close[t] / close[t - lag])`, NaN for the first `lag` rows.
 * Reference: `np.log(close / close.shift(lag))`.
 */
export function logReturn(close: Float64Array, lag: number): Float64Array {
  requireInteger("log_return.lag", lag, 1);
  const out = nanColumn(close.length);
  for (let t = lag; t < close.length; t++) {
    out[t] = Math.log((close[t] as number) / (close[t - lag] as number));
  }
  return out;
}

/**
 * Realized volatility: population standard deviation (ddof 0) of the last `window` one-candle log returns,
 * rows `t - window + 1 .. t`. Not annualised, so it stays comparable across intervals only after scaling.
 * The first return exists at row 1, so the first value is at row `window`.
 * Reference: `np.log(close / close.shift(1)).rolling(window).std(ddof=0)`.
 *
 * ddof 0 because the window is the whole population the feature describes (as Bollinger Bands in `ta`),
 * and it keeps a window of 2 defined.
 */
export function realizedVolatility(close: Float64Array, window: number): Float64Array {
  requireInteger("realized_volatility.window", window, 2);
  const returns = logReturn(close, 1);
  const out = nanColumn(close.length);
  if (close.length <= 1) return out;
  // Row 0 has no return; roll over rows 1.. and shift the result back into place.
  const { std } = rollingMoments(returns.subarray(1), window);
  out.set(std, 1);
  return out;
}
