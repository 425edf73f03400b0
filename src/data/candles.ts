import type { Interval } from "./intervals.js";

/**
 * A time-ordered series of candles of one symbol and interval, stored column-wise.
 * Times are UTC epoch milliseconds of each candle's open. Columns a source does not carry
 * (ccxt OHLCV arrays have no trade counts, for example) are NaN throughout.
 */
export interface CandleSeries {
  readonly symbol: string;
  readonly interval: Interval;
  readonly length: number;
  readonly openTime: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  /** Base-asset volume. */
  readonly volume: Float64Array;
  readonly quoteVolume: Float64Array;
  readonly trades: Float64Array;
  readonly takerBuyBaseVolume: Float64Array;
  readonly takerBuyQuoteVolume: Float64Array;
}

/** The value columns of a candle, in store order; `openTime` is the key. */
export const CANDLE_VALUE_COLUMNS = [
  "open",
  "high",
  "low",
  "close",
  "volume",
  "quoteVolume",
  "trades",
  "takerBuyBaseVolume",
  "takerBuyQuoteVolume",
] as const;

export type CandleValueColumn = (typeof CANDLE_VALUE_COLUMNS)[number];

/** Allocates a series of `length` candles with every value NaN, to be filled by a reader. */
export function allocateSeries(symbol: string, interval: Interval, length: number): CandleSeries {
  const column = () => new Float64Array(length).fill(Number.NaN);
  return {
    symbol,
    interval,
    length,
    openTime: new Float64Array(length),
    open: column(),
    high: column(),
    low: column(),
    close: column(),
    volume: column(),
    quoteVolume: column(),
    trades: column(),
    takerBuyBaseVolume: column(),
    takerBuyQuoteVolume: column(),
  };
}

/** Copies rows `[start, end)` into a new series. */
export function sliceSeries(series: CandleSeries, start: number, end: number): CandleSeries {
  const out = allocateSeries(series.symbol, series.interval, Math.max(0, end - start));
  out.openTime.set(series.openTime.subarray(start, end));
  for (const name of CANDLE_VALUE_COLUMNS) out[name].set(series[name].subarray(start, end));
  return out;
}
