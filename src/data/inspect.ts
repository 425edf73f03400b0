import type { CandleSeries } from "./candles.js";
import { type Interval, missingBetween, nextOpenTime } from "./intervals.js";
import type { OrderingReport } from "./readers/normalise.js";

export interface Gap {
  /** Open time of the last candle before the gap (ISO-8601 UTC). */
  from: string;
  /** Open time of the first candle after the gap. */
  to: string;
  /** Candles that should exist between `from` and `to` but do not. */
  missing: number;
  /** Open times of the first and last missing candle. */
  firstMissing: string;
  lastMissing: string;
}

export interface OhlcViolation {
  time: string;
  problem: string;
}

/** The data-quality report of one series. Problems are reported, never repaired. */
export interface InspectionReport {
  symbol: string;
  interval: Interval;
  rows: number;
  first: string | null;
  last: string | null;
  /** Candles the range from first to last should hold, gaps included. */
  expectedRows: number;
  gaps: Gap[];
  missingCandles: number;
  duplicates: number;
  conflictingDuplicates: number;
  nonMonotonic: number;
  offGrid: number;
  zeroVolume: number;
  ohlcViolations: number;
  /** The first few violations, for a person to look at. */
  ohlcViolationSamples: OhlcViolation[];
  nonPositivePrices: number;
}

const iso = (time: number) => new Date(time).toISOString();
const SAMPLE_LIMIT = 10;

/**
 * Inspects a time-ordered series. `ordering` carries what the reader counted before it sorted
 * the rows (only a raw file inspected leniently can have duplicates or rows out of order; the
 * store never holds them).
 */
export function inspectSeries(series: CandleSeries, ordering?: OrderingReport): InspectionReport {
  const gaps: Gap[] = [];
  let zeroVolume = 0;
  let ohlcViolations = 0;
  let nonPositivePrices = 0;
  const samples: OhlcViolation[] = [];
  for (let i = 0; i < series.length; i++) {
    const time = series.openTime[i] as number;
    if (i > 0) {
      const previous = series.openTime[i - 1] as number;
      const missing = missingBetween(series.interval, previous, time);
      if (missing > 0) {
        let lastMissing = nextOpenTime(series.interval, previous);
        for (let k = 1; k < missing; k++) lastMissing = nextOpenTime(series.interval, lastMissing);
        gaps.push({
          from: iso(previous),
          to: iso(time),
          missing,
          firstMissing: iso(nextOpenTime(series.interval, previous)),
          lastMissing: iso(lastMissing),
        });
      }
    }
    if (series.volume[i] === 0) zeroVolume++;
    const problem = ohlcProblem(series, i);
    if (problem !== undefined) {
      ohlcViolations++;
      if (samples.length < SAMPLE_LIMIT) samples.push({ time: iso(time), problem });
    }
    if (
      !((series.open[i] as number) > 0 && (series.close[i] as number) > 0 && (series.low[i] as number) > 0)
    ) {
      nonPositivePrices++;
    }
  }
  const missingCandles = gaps.reduce((sum, gap) => sum + gap.missing, 0);
  return {
    symbol: series.symbol,
    interval: series.interval,
    rows: series.length,
    first: series.length > 0 ? iso(series.openTime[0] as number) : null,
    last: series.length > 0 ? iso(series.openTime[series.length - 1] as number) : null,
    expectedRows: series.length + missingCandles,
    gaps,
    missingCandles,
    duplicates: ordering?.duplicates ?? 0,
    conflictingDuplicates: ordering?.conflictingDuplicates ?? 0,
    nonMonotonic: ordering?.nonMonotonic ?? 0,
    offGrid: ordering?.offGrid ?? 0,
    zeroVolume,
    ohlcViolations,
    ohlcViolationSamples: samples,
    nonPositivePrices,
  };
}

function ohlcProblem(series: CandleSeries, i: number): string | undefined {
  const open = series.open[i] as number;
  const high = series.high[i] as number;
  const low = series.low[i] as number;
  const close = series.close[i] as number;
  if (low > high) return `low ${low} > high ${high}`;
  if (open > high || open < low) return `open ${open} outside [low ${low}, high ${high}]`;
  if (close > high || close < low) return `close ${close} outside [low ${low}, high ${high}]`;
  return undefined;
}
