import { DataFormatError } from "../../core/errors.js";
import { allocateSeries, type CandleSeries } from "../candles.js";
import { type Interval, isOnGrid } from "../intervals.js";
import type { RawCandle } from "./raw-rows.js";

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

function sameValues(a: RawCandle, b: RawCandle): boolean {
  const keys = ["open", "high", "low", "close", "volume", "quoteVolume", "trades"] as const;
  return keys.every((key) => Object.is(a[key], b[key]));
}

/**
 * Turns a reader's rows into a time-ordered series.
 * Strict (import): times must increase; an exact repeat is dropped and counted, anything else that
 * goes backwards or disagrees is an error naming the file and both lines.
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
        throw new DataFormatError(
          file,
          undefined,
          `${row.where}: open time ${new Date(row.openTime).toISOString()} is not on the ${interval} grid`,
          { hint: `check --interval: the file's candles do not start on ${interval} boundaries` },
        );
      }
      report.offGrid++;
    }
    const previous = ordered[ordered.length - 1];
    if (previous !== undefined && row.openTime <= previous.openTime) {
      if (row.openTime < previous.openTime) report.nonMonotonic++;
      if (mode === "strict") checkStrictOrder(row, previous, file, report);
      if (row.openTime === previous.openTime && mode === "strict") continue;
    }
    ordered.push(row);
  }
  if (mode === "lenient") ordered = dedupeSorted(ordered, report);
  return { series: toSeries(ordered, symbol, interval), report };
}

function checkStrictOrder(row: RawCandle, previous: RawCandle, file: string, report: OrderingReport): void {
  if (row.openTime < previous.openTime) {
    throw new DataFormatError(
      file,
      undefined,
      `${row.where}: timestamps go backwards: open time ${new Date(row.openTime).toISOString()} comes after ${
        previous.where
      } (${new Date(previous.openTime).toISOString()})`,
      { hint: "candles must be in time order; sort the file or import its parts separately" },
    );
  }
  if (!sameValues(row, previous)) {
    throw new DataFormatError(
      file,
      undefined,
      `${row.where}: duplicate open time ${new Date(row.openTime).toISOString()} with values that differ from ${previous.where}`,
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
