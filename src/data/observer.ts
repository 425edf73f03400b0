/**
 * What the data layer tells whoever watches it: candles that arrived, how long each processing stage
 * took, and which store operations ran. The data layer must not know about Prometheus (modules reach
 * only forward in the flow), so monitoring implements this interface and the data functions take it
 * as an option. Calls are per file, batch or store operation — never per candle — so watching is cheap.
 */
import { performance } from "node:perf_hooks";

/**
 * A processing stage: `download` (one HTTP fetch of an archive or its checksum), `parse` (reading,
 * decompressing and parsing one file into rows), `validate` (checksum verification and ordering the
 * rows of one file into a series), `store` (merging one import into the store and writing it back).
 */
export type DataStage = "download" | "parse" | "validate" | "store";

/** A store operation: `read` one series, `write` one series, `list` the stored series. */
export type StoreOperation = "read" | "write" | "list";

/**
 * Where candles came from, a low-cardinality label: the file formats the readers know
 * (`binance-csv`, `binance-zip`, `json`), or what a command knows better (`bundled` for the candles
 * shipped with cryptoml, `binance-data-dump` for archives `data download` fetched).
 */
export type CandleSource = "binance-csv" | "binance-zip" | "json" | "bundled" | "binance-data-dump";

export interface DataObserver {
  /** `count` candles of `symbol` from `source` arrived and are now in the store. */
  candlesReceived(symbol: string, source: CandleSource, count: number): void;
  /** One completed run of `stage` took `seconds`; failed runs are not reported. */
  stageTimed(stage: DataStage, seconds: number): void;
  /** `store` (`arrow-file`, `memory`) completed one `operation`. */
  storeOperation(store: string, operation: StoreOperation): void;
}

/** The observer of code nobody watches: every call does nothing. */
export const NO_DATA_OBSERVER: DataObserver = {
  candlesReceived() {},
  stageTimed() {},
  storeOperation() {},
};

/**
 * Starts timing `stage`; call the returned function when the stage completed to report its duration.
 * A stage that throws is simply never reported. `now` (milliseconds, default `performance.now`) is a
 * seam for tests.
 */
export function startStage(
  observer: DataObserver,
  stage: DataStage,
  now: () => number = () => performance.now(),
): () => void {
  const started = now();
  return () => observer.stageTimed(stage, Math.max(0, now() - started) / 1000);
}

/** Runs `work` and reports its duration as `stage` when it resolves. */
export async function timeStage<T>(
  observer: DataObserver,
  stage: DataStage,
  work: () => Promise<T>,
): Promise<T> {
  const done = startStage(observer, stage);
  const result = await work();
  done();
  return result;
}
