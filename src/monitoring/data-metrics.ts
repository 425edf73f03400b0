/**
 * The data metrics of one process: a DataObserver (src/data/observer.ts) that writes what importing,
 * downloading and the candle store report into the catalog's `cryptoml_data_*` metrics. The data layer
 * cannot import monitoring, so commands build this observer and hand it down.
 */
import type { CandleSource, DataObserver, DataStage, StoreOperation } from "../data/observer.js";
import type { CryptomlMetrics } from "./registry.js";

export interface DataMetricsOptions {
  /** Epoch milliseconds clock for `cryptoml_data_last_update_timestamp_seconds`. Default Date.now. */
  readonly clock?: () => number;
}

/**
 * An observer that counts candles per symbol and source, observes stage durations in
 * `cryptoml_data_processing_seconds{stage}`, counts store operations, and stamps the symbol's
 * data heartbeat (`cryptoml_data_last_update_timestamp_seconds`) whenever candles of it arrive.
 */
export function dataMetricsObserver(
  metrics: CryptomlMetrics,
  options: DataMetricsOptions = {},
): DataObserver {
  const clock = options.clock ?? Date.now;
  const candles = metrics.counter("cryptoml_data_candles_total");
  const lastUpdate = metrics.gauge("cryptoml_data_last_update_timestamp_seconds");
  const processing = metrics.histogram("cryptoml_data_processing_seconds");
  const storeOperations = metrics.counter("cryptoml_data_store_operations_total");
  return {
    candlesReceived(symbol: string, source: CandleSource, count: number): void {
      candles.inc({ symbol, source }, count);
      // An empty file is no sign of a live feed: only candles that arrived move the heartbeat.
      if (count > 0) lastUpdate.set({ symbol }, clock() / 1000);
    },
    stageTimed(stage: DataStage, seconds: number): void {
      processing.observe({ stage }, seconds);
    },
    storeOperation(store: string, operation: StoreOperation): void {
      storeOperations.inc({ store, operation });
    },
  };
}
