import { type CandleSeries, sliceSeries } from "../candles.js";
import type { Interval } from "../intervals.js";
import { type DataObserver, NO_DATA_OBSERVER } from "../observer.js";
import type { CandleStore, CandleStoreOptions, StoredSeriesInfo } from "./candle-store.js";

/** The `store` label of this store's operations. */
const STORE_NAME = "memory";

/** A store in memory: for tests and for throw-away pipelines that should leave nothing on disk. */
export class MemoryCandleStore implements CandleStore {
  readonly #series = new Map<string, CandleSeries>();
  #locked: Promise<unknown> = Promise.resolve();
  readonly #observer: DataObserver;

  constructor(options: CandleStoreOptions = {}) {
    this.#observer = options.observer ?? NO_DATA_OBSERVER;
  }

  async list(): Promise<StoredSeriesInfo[]> {
    this.#observer.storeOperation(STORE_NAME, "list");
    return [...this.#series.values()]
      .map((series) => ({
        symbol: series.symbol,
        interval: series.interval,
        rows: series.length,
        first: series.openTime[0] ?? Number.NaN,
        last: series.openTime[series.length - 1] ?? Number.NaN,
        location: `memory:${series.symbol}/${series.interval}`,
      }))
      .sort((a, b) => a.symbol.localeCompare(b.symbol) || a.interval.localeCompare(b.interval));
  }

  async read(symbol: string, interval: Interval): Promise<CandleSeries | undefined> {
    const series = this.#series.get(`${symbol}/${interval}`);
    this.#observer.storeOperation(STORE_NAME, "read");
    // A copy, so callers cannot change what is stored behind the store's back.
    return series === undefined ? undefined : sliceSeries(series, 0, series.length);
  }

  async replace(series: readonly CandleSeries[]): Promise<void> {
    for (const item of series) {
      this.#series.set(`${item.symbol}/${item.interval}`, sliceSeries(item, 0, item.length));
      this.#observer.storeOperation(STORE_NAME, "write");
    }
  }

  async withWriteLock<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#locked.then(work, work);
    this.#locked = run.catch(() => undefined);
    return run;
  }
}
