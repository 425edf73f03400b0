import { nanColumn, requireInteger } from "./params.js";
import { rollingMoments } from "./rolling.js";

/**
 * Volume z-score: `(volume[t] - mean) / std` over the last `window` candles including t, std the
 * population std (ddof 0, as the other rolling features). First value at row `window - 1`.
 * When the window's volume is constant (std 0, e.g. a halted market trading nothing) the z-score is 0:
 * the candle is exactly as usual, and the feature stays finite after warm-up.
 * Reference: pandas `rolling(window).mean()` and `.std(ddof=0)`.
 */
export function volumeZScore(volume: Float64Array, window: number): Float64Array {
  requireInteger("volume_zscore.window", window, 2);
  const { mean, std } = rollingMoments(volume, window);
  const out = nanColumn(volume.length);
  for (let t = window - 1; t < volume.length; t++) {
    const sd = std[t] as number;
    out[t] = sd === 0 ? 0 : ((volume[t] as number) - (mean[t] as number)) / sd;
  }
  return out;
}
