import { DataFormatError } from "../../core/errors.js";
import { allocateSeries, type CandleSeries } from "../candles.js";
import { type Interval, intervalMs, isOnGrid, nextOpenTime } from "../intervals.js";
import { type RawCandle, rowError } from "./raw-rows.js";

/** What was found while ordering a file's candles. Strict mode throws instead of counting. */
export interface OrderingReport {
  /** Rows repeating an earlier open time with identical values; dropped. */
  duplicates: number;
  /** Rows repeating an earlier open time with different values (lenient mode keeps the last). */
  conflictingDuplicates: number;
  /** Rows whose open time is earlier than the row before (lenient mode sorts them). */
  nonMonotonic: number;
  /** Rows whose open time is not on the interval's grid (lenient mode keeps them). */
  offGrid: number;
}

const iso = (time: number) => new Date(time).toISOString();

function sameValues(a: RawCandle, b: RawCandle): boolean {
  const keys = ["open", "high", "low", "close", "volume", "quoteVolume", "trades"] as const;
  return keys.every((key) => Object.is(a[key], b[key]));
}

/**
 * Turns a reader's rows into a time-ordered series of the given interval.
 * Strict (import): times must increase; an exact repeat is dropped and counted, anything else that
 * goes backwards or disagrees is an error naming the file and the line. Rows must also be candles of
 * `interval`: on its grid, with the matching close time (12-column layouts) and, for layouts without
 * close times, spaced mostly one interval apart — so a mislabelled file cannot overwrite good candles.
 * Lenient (inspecting a raw file): the same problems are counted, the rows sorted and de-duplicated.
 */
export function normaliseCandles(
  rows: readonly RawCandle[],
  file: string,
  symbol: string,
  interval: Interval,
  mode: "strict" | "lenient",
): { series: CandleSeries; report: OrderingReport } {
  const report: OrderingReport = { duplicates: 0, conflictingDuplicates: 0, nonMonotonic: 0, offGrid: 0 };
  let ordered: RawCandle[] = [];
  for (const row of rows) {
    if (!isOnGrid(interval, row.openTime)) {
      if (mode === "strict") {
        throw rowError(file, row.where, `open time ${iso(row.openTime)} is not on the ${interval} grid`, {
          hint: `check --interval: the file's candles do not start on ${interval} boundaries`,
        });
      }
      report.offGrid++;
    }
    if (mode === "strict") checkCloseTime(row, file, interval);
    const previous = ordered[ordered.length - 1];
    if (previous !== undefined && row.openTime <= previous.openTime) {
      if (row.openTime < previous.openTime) report.nonMonotonic++;
      if (mode === "strict") checkStrictOrder(row, previous, file, report);
      if (row.openTime === previous.openTime && mode === "strict") continue;
    }
    ordered.push(row);
  }
  if (mode === "lenient") ordered = dedupeSorted(ordered, report);
  else checkSpacing(ordered, file, interval);
  return { series: toSeries(ordered, symbol, interval), report };
}

/** A 12-column candle closes one millisecond before the next one opens. */
function checkCloseTime(row: RawCandle, file: string, interval: Interval): void {
  if (Number.isNaN(row.closeTime)) return;
  const expected = nextOpenTime(interval, row.openTime) - 1;
  if (row.closeTime !== expected) {
    throw rowError(
      file,
      row.where,
      `close time ${iso(row.closeTime)} does not fit a ${interval} candle opening at ${iso(row.openTime)} (expected ${iso(expected)})`,
      { hint: "the file holds candles of another interval; check --interval or the file name" },
    );
  }
}

/**
 * Without close times, the spacing tells the interval: most consecutive candles of a real series are
 * one interval apart (gaps are the exception), so a file whose usual spacing differs is mislabelled.
 */
function checkSpacing(rows: readonly RawCandle[], file: string, interval: Interval): void {
  const step = intervalMs(interval);
  if (step === undefined || rows.length < 3 || !Number.isNaN(rows[0]?.closeTime ?? Number.NaN)) return;
  const counts = new Map<number, number>();
  for (let i = 1; i < rows.length; i++) {
    const spacing = (rows[i] as RawCandle).openTime - (rows[i - 1] as RawCandle).openTime;
    counts.set(spacing, (counts.get(spacing) ?? 0) + 1);
  }
  const [usual] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] as [number, number];
  if (usual !== step) {
    throw new DataFormatError(
      file,
      undefined,
      `candles are usually ${formatSpan(usual)} apart, but the interval is ${interval} (${formatSpan(step)})`,
      { hint: "the file holds candles of another interval; check --interval or the file name" },
    );
  }
}

function formatSpan(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

function checkStrictOrder(row: RawCandle, previous: RawCandle, file: string, report: OrderingReport): void {
  if (row.openTime < previous.openTime) {
    throw rowError(
      file,
      row.where,
      `timestamps go backwards: open time ${iso(row.openTime)} comes after ${previous.where} (${iso(previous.openTime)})`,
      { hint: "candles must be in time order; sort the file or import its parts separately" },
    );
  }
  if (!sameValues(row, previous)) {
    throw rowError(
      file,
      row.where,
      `duplicate open time ${iso(row.openTime)} with values that differ from ${previous.where}`,
      { hint: "the file contradicts itself; fetch a fresh copy from the source" },
    );
  }
  report.duplicates++;
}

function dedupeSorted(rows: RawCandle[], report: OrderingReport): RawCandle[] {
  const sorted = [...rows].sort((a, b) => a.openTime - b.openTime || a.location - b.location);
  const out: RawCandle[] = [];
  for (const row of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last.openTime === row.openTime) {
      if (sameValues(last, row)) report.duplicates++;
      else report.conflictingDuplicates++;
      out[out.length - 1] = row;
      continue;
    }
    out.push(row);
  }
  return out;
}

function toSeries(rows: readonly RawCandle[], symbol: string, interval: Interval): CandleSeries {
  const series = allocateSeries(symbol, interval, rows.length);
  rows.forEach((row, i) => {
    series.openTime[i] = row.openTime;
    series.open[i] = row.open;
    series.high[i] = row.high;
    series.low[i] = row.low;
    series.close[i] = row.close;
    series.volume[i] = row.volume;
    series.quoteVolume[i] = row.quoteVolume;
    series.trades[i] = row.trades;
    series.takerBuyBaseVolume[i] = row.takerBuyBaseVolume;
    series.takerBuyQuoteVolume[i] = row.takerBuyQuoteVolume;
  });
  return series;
}
