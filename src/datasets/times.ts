import { type Interval, intervalMs, nextOpenTime } from "../data/intervals.js";

/** Close time of the candle opening at `openTime`: the next open − 1 ms (Binance's convention). */
export function closeTime(interval: Interval, openTime: number): number {
  return nextOpenTime(interval, openTime) - 1;
}

/**
 * The open time `candles` candles before `openTime` (calendar months for `1mo`), used to place the
 * embargo line. `candles` ≥ 0.
 */
export function openTimeBefore(interval: Interval, openTime: number, candles: number): number {
  const step = intervalMs(interval);
  if (step !== undefined) return openTime - candles * step;
  const date = new Date(openTime);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - candles, 1);
}

/** ISO-8601 UTC text of an epoch-ms time. */
export function isoTime(time: number): string {
  return new Date(time).toISOString();
}
