import { UsageError } from "../core/errors.js";

/** Binance kline intervals. `1mo` is the data-dump spelling of the REST API's `1M`. */
export const INTERVALS = [
  "1s",
  "1m",
  "3m",
  "5m",
  "15m",
  "30m",
  "1h",
  "2h",
  "4h",
  "6h",
  "8h",
  "12h",
  "1d",
  "3d",
  "1w",
  "1mo",
] as const;

export type Interval = (typeof INTERVALS)[number];

const FIXED_MS: Record<Exclude<Interval, "1mo">, number> = {
  "1s": 1_000,
  "1m": 60_000,
  "3m": 180_000,
  "5m": 300_000,
  "15m": 900_000,
  "30m": 1_800_000,
  "1h": 3_600_000,
  "2h": 7_200_000,
  "4h": 14_400_000,
  "6h": 21_600_000,
  "8h": 28_800_000,
  "12h": 43_200_000,
  "1d": 86_400_000,
  "3d": 259_200_000,
  "1w": 604_800_000,
};

export function isInterval(value: string): value is Interval {
  return (INTERVALS as readonly string[]).includes(value);
}

/** Parses an interval, accepting the REST spelling `1M` for months. */
export function parseInterval(value: string): Interval {
  const normalised = value === "1M" ? "1mo" : value;
  if (!isInterval(normalised)) {
    throw new UsageError(`unknown interval "${value}"`, { hint: `use one of ${INTERVALS.join(", ")}` });
  }
  return normalised;
}

/**
 * Length of one candle in milliseconds; undefined for `1mo`, whose candles differ in length.
 */
export function intervalMs(interval: Interval): number | undefined {
  return interval === "1mo" ? undefined : FIXED_MS[interval];
}

/** Open time of the candle that follows the one opening at `openTime` (UTC calendar months for `1mo`). */
export function nextOpenTime(interval: Interval, openTime: number): number {
  const step = intervalMs(interval);
  if (step !== undefined) return openTime + step;
  const date = new Date(openTime);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** Number of candles that would fit strictly between two open times (0 when they are consecutive). */
export function missingBetween(interval: Interval, previousOpen: number, nextOpen: number): number {
  const step = intervalMs(interval);
  if (step !== undefined) return Math.max(0, Math.round((nextOpen - previousOpen) / step) - 1);
  let missing = 0;
  for (let t = nextOpenTime(interval, previousOpen); t < nextOpen; t = nextOpenTime(interval, t)) missing++;
  return missing;
}

/** Whether `openTime` lies on the interval's grid (weekly candles open on Mondays, monthly on the 1st). */
export function isOnGrid(interval: Interval, openTime: number): boolean {
  if (interval === "1mo") {
    const date = new Date(openTime);
    return date.getTime() === Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  }
  // The epoch fell on a Thursday; Binance weeks start on Monday, four days later.
  const offset = interval === "1w" ? 4 * 86_400_000 : 0;
  return (openTime - offset) % FIXED_MS[interval] === 0;
}
