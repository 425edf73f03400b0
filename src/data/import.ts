import { allocateSeries, CANDLE_VALUE_COLUMNS, type CandleSeries } from "./candles.js";
import type { Interval } from "./intervals.js";
import { type MergeCounts, mergeSeries } from "./merge.js";
import { type CandleSource, type DataObserver, NO_DATA_OBSERVER, startStage } from "./observer.js";
import { type ReadResult, readCandleFile, type SourceFormat } from "./readers/index.js";
import { ArrowFileCandleStore } from "./store/arrow-file-store.js";
import type { CandleStore } from "./store/candle-store.js";

export interface ImportOptions {
  /** Directory of the embedded store (config `data.store_dir`), used when `store` is not given. */
  storeDir: string;
  /** Another store implementation (tests, in-memory pipelines). */
  store?: CandleStore;
  /** Override what the file names say. */
  symbol?: string;
  interval?: Interval;
  /** One line per file read (the caller reports the totals). */
  onProgress?: (message: string) => void;
  /**
   * Told how long each stage took and how many candles each file brought, once they are stored. A
   * store built here (no `store` given) reports its operations to it too. Default: nobody.
   */
  observer?: DataObserver;
  /**
   * The `source` each file's candles are counted under. Default: the file's format (`binance-csv`,
   * `binance-zip`, `json`); commands that know better say `bundled` or `binance-data-dump`.
   */
  sourceOf?: (path: string, format: SourceFormat) => CandleSource;
}

export interface ImportedSeries extends MergeCounts {
  symbol: string;
  interval: Interval;
  /** Rows stored for the series after the import. */
  rows: number;
}

export interface ImportReport {
  files: number;
  series: ImportedSeries[];
  /** Identical rows repeated inside a source file, dropped. */
  duplicatesInFiles: number;
  /** Zip archives imported without a `.CHECKSUM` beside them, so not verified. */
  unverifiedArchives: string[];
}

/**
 * Monthly archives of one series do not overlap: joining them first costs one copy, where merging
 * each into the growing series would copy it once per file. Overlapping parts stay separate.
 */
function combineDisjoint(parts: CandleSeries[]): CandleSeries[] {
  const sorted = [...parts].sort((a, b) => (a.openTime[0] ?? 0) - (b.openTime[0] ?? 0));
  const disjoint = sorted.every(
    (part, i) => i === 0 || (part.openTime[0] ?? 0) > ((sorted[i - 1] as CandleSeries).openTime.at(-1) ?? 0),
  );
  if (!disjoint || sorted.length < 2) return sorted;
  const first = sorted[0] as CandleSeries;
  const joined = allocateSeries(
    first.symbol,
    first.interval,
    sorted.reduce((n, part) => n + part.length, 0),
  );
  let offset = 0;
  for (const part of sorted) {
    joined.openTime.set(part.openTime, offset);
    for (const column of CANDLE_VALUE_COLUMNS) joined[column].set(part[column], offset);
    offset += part.length;
  }
  return [joined];
}

/**
 * Imports market-data files into the candle store. Every file is read and validated before
 * anything is written, and all touched series are swapped in together: a bad file anywhere
 * leaves the store exactly as it was. Re-importing the same data changes nothing.
 */
export async function importFiles(paths: readonly string[], options: ImportOptions): Promise<ImportReport> {
  const observer = options.observer ?? NO_DATA_OBSERVER;
  const store = options.store ?? new ArrowFileCandleStore(options.storeDir, { observer });
  const sourceOf = options.sourceOf ?? ((_path: string, format: SourceFormat) => format);
  const results: ReadResult[] = [];
  const sources: CandleSource[] = [];
  for (const path of paths) {
    const read = await readCandleFile(path, { symbol: options.symbol, interval: options.interval, observer });
    for (const result of read) {
      options.onProgress?.(
        `read ${result.source}: ${result.series.length} candles (${result.symbol} ${result.interval})`,
      );
      sources.push(sourceOf(path, result.format));
    }
    results.push(...read);
  }
  const report = await store.withWriteLock(async () => {
    // Timed inside the lock: waiting for another writer is not processing.
    const stored = startStage(observer, "store");
    const outcome = await mergeIntoStore(store, results);
    stored();
    return outcome;
  });
  // Counted once stored, so a failed import leaves the counters and the data heartbeat alone.
  results.forEach((result, index) => {
    observer.candlesReceived(result.symbol, sources[index] as CandleSource, result.series.length);
  });
  return {
    files: paths.length,
    series: report,
    duplicatesInFiles: results.reduce((sum, r) => sum + r.ordering.duplicates, 0),
    unverifiedArchives: results.filter((r) => r.checksum === "absent").map((r) => r.source),
  };
}

/** Merges every read series into what the store holds and writes back the series that changed. */
async function mergeIntoStore(store: CandleStore, results: readonly ReadResult[]): Promise<ImportedSeries[]> {
  const groups = new Map<string, CandleSeries[]>();
  for (const result of results) {
    const key = `${result.symbol}/${result.interval}`;
    groups.set(key, [...(groups.get(key) ?? []), result.series]);
  }
  const merged: CandleSeries[] = [];
  const series: ImportedSeries[] = [];
  for (const parts of groups.values()) {
    const first = parts[0] as CandleSeries;
    let current = await store.read(first.symbol, first.interval);
    const total: MergeCounts = { added: 0, replaced: 0, unchanged: 0 };
    for (const part of combineDisjoint(parts)) {
      const { merged: next, counts } = mergeSeries(current, part);
      current = next;
      total.added += counts.added;
      total.replaced += counts.replaced;
      total.unchanged += counts.unchanged;
    }
    const result = current as CandleSeries;
    merged.push(result);
    series.push({ symbol: first.symbol, interval: first.interval, rows: result.length, ...total });
  }
  // Nothing changed: leave the files (and their modification times) alone.
  const changed = merged.filter(
    (_, index) => (series[index]?.added ?? 0) + (series[index]?.replaced ?? 0) > 0,
  );
  await store.replace(changed);
  return series;
}
