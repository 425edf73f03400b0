import type { CandleSeries } from "../candles.js";
import type { Interval } from "../intervals.js";
import type { DataObserver } from "../observer.js";

/** One stored series, as listed without reading its candles. */
export interface StoredSeriesInfo {
  symbol: string;
  interval: Interval;
  rows: number;
  /** Open time of the first and last candle, epoch ms. */
  first: number;
  last: number;
  /** Where it lives, for people and other tools (a file path for file stores). */
  location: string;
}

/**
 * Where imported candles are kept. Stores only persist: validation, merging and gap reports live
 * elsewhere. `replace` swaps a whole series atomically, so a crash leaves the old or the new one.
 */
export interface CandleStore {
  list(): Promise<StoredSeriesInfo[]>;
  /** The stored series, or undefined when nothing was imported for that symbol and interval. */
  read(symbol: string, interval: Interval): Promise<CandleSeries | undefined>;
  /**
   * Replaces several series at once: all are staged first, then swapped in, so that a failure while
   * staging leaves every stored series as it was.
   */
  replace(series: readonly CandleSeries[]): Promise<void>;
  /** Runs `work` while holding the store's writer lock (one writer across processes). */
  withWriteLock<T>(work: () => Promise<T>): Promise<T>;
}

/** Options every store constructor takes. */
export interface CandleStoreOptions {
  /** Told about each completed read, write (one per series) and list. Default: nobody. */
  observer?: DataObserver;
}
