import { allocateSeries, CANDLE_VALUE_COLUMNS, type CandleSeries } from "./candles.js";

export interface MergeCounts {
  /** Candles whose open time was not in the store before. */
  added: number;
  /** Candles already stored whose values the new data changed. */
  replaced: number;
  /** Candles already stored with the same values. */
  unchanged: number;
}

/**
 * Merges time-ordered series of one symbol and interval into one, keyed by open time.
 * Later inputs win where they carry a value; a column the later source lacks (NaN) keeps the
 * earlier value, so importing ccxt OHLCV over a full Binance CSV loses no trade counts.
 */
export function mergeSeries(
  base: CandleSeries | undefined,
  incoming: CandleSeries,
): {
  merged: CandleSeries;
  counts: MergeCounts;
} {
  const counts: MergeCounts = { added: 0, replaced: 0, unchanged: 0 };
  const old = base ?? allocateSeries(incoming.symbol, incoming.interval, 0);
  const out = allocateSeries(incoming.symbol, incoming.interval, old.length + incoming.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < old.length || j < incoming.length) {
    const a = i < old.length ? (old.openTime[i] as number) : Number.POSITIVE_INFINITY;
    const b = j < incoming.length ? (incoming.openTime[j] as number) : Number.POSITIVE_INFINITY;
    if (a < b) {
      copyRow(old, i++, out, n++);
    } else if (b < a) {
      copyRow(incoming, j++, out, n++);
      counts.added++;
    } else {
      copyRow(old, i, out, n);
      let changed = false;
      for (const column of CANDLE_VALUE_COLUMNS) {
        const value = incoming[column][j] as number;
        if (Number.isNaN(value)) continue;
        if (!Object.is(value, out[column][n])) changed = true;
        out[column][n] = value;
      }
      if (changed) counts.replaced++;
      else counts.unchanged++;
      i++;
      j++;
      n++;
    }
  }
  return { merged: trim(out, n), counts };
}

function copyRow(from: CandleSeries, i: number, to: CandleSeries, n: number): void {
  to.openTime[n] = from.openTime[i] as number;
  for (const column of CANDLE_VALUE_COLUMNS) to[column][n] = from[column][i] as number;
}

function trim(series: CandleSeries, length: number): CandleSeries {
  if (length === series.length) return series;
  const out = allocateSeries(series.symbol, series.interval, length);
  out.openTime.set(series.openTime.subarray(0, length));
  for (const column of CANDLE_VALUE_COLUMNS) out[column].set(series[column].subarray(0, length));
  return out;
}
