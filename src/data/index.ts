export * from "./candles.js";
export * from "./checksum.js";
export { type ImportedSeries, type ImportOptions, type ImportReport, importFiles } from "./import.js";
export * from "./inspect.js";
export * from "./intervals.js";
export { mergeSeries } from "./merge.js";
export {
  type CandleSource,
  type DataObserver,
  type DataStage,
  NO_DATA_OBSERVER,
  type StoreOperation,
} from "./observer.js";
export { type ReadOptions, type ReadResult, readCandleFile } from "./readers/index.js";
export { ArrowFileCandleStore } from "./store/arrow-file-store.js";
export type { CandleStore, StoredSeriesInfo } from "./store/candle-store.js";
export { MemoryCandleStore } from "./store/memory-store.js";
