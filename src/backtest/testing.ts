/** Fixtures for backtest tests (not part of the package's surface). */
import { allocateSeries, type CandleSeries } from "../data/candles.js";

export const T0 = Date.UTC(2024, 0, 1);
export const HOUR = 3_600_000;

/** Hourly BTCUSDT candles with the given opens; each close is the next open (the last close its own open). */
export function hourlySeries(opens: readonly number[], times?: readonly number[]): CandleSeries {
  const out = allocateSeries("BTCUSDT", "1h", opens.length);
  opens.forEach((open, i) => {
    out.openTime[i] = times?.[i] ?? T0 + i * HOUR;
    out.open[i] = open;
    out.close[i] = opens[i + 1] ?? open;
    out.high[i] = Math.max(open, out.close[i] as number);
    out.low[i] = Math.min(open, out.close[i] as number);
  });
  return out;
}
