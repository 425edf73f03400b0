import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  makeData,
  makeVector,
  Table,
  TimestampMillisecond,
  tableFromIPC,
  tableToIPC,
  type Vector,
} from "apache-arrow";
import { syncDirectory, writeDurably } from "../../core/atomic-file.js";
import { CryptomlError } from "../../core/errors.js";
import {
  allocateSeries,
  CANDLE_VALUE_COLUMNS,
  type CandleSeries,
  type CandleValueColumn,
} from "../candles.js";
import { type Interval, isInterval } from "../intervals.js";
import { type DataObserver, NO_DATA_OBSERVER } from "../observer.js";
import { SYMBOL_PATTERN } from "../symbols.js";
import type { CandleStore, CandleStoreOptions, StoredSeriesInfo } from "./candle-store.js";
import { withFileLock } from "./lock.js";

/** Store format version written into each file's schema metadata; bump on incompatible changes. */
const FORMAT_VERSION = "1";

/** The `store` label of this store's operations. */
const STORE_NAME = "arrow-file";

/** snake_case column names, so pandas, polars and DuckDB users see familiar names. */
const COLUMN_NAMES: Record<CandleValueColumn, string> = {
  open: "open",
  high: "high",
  low: "low",
  close: "close",
  volume: "volume",
  quoteVolume: "quote_volume",
  trades: "trades",
  takerBuyBaseVolume: "taker_buy_base_volume",
  takerBuyQuoteVolume: "taker_buy_quote_volume",
};

/**
 * The embedded candle store: one Arrow IPC file (Feather v2) per symbol and interval, at
 * `<root>/<SYMBOL>/<interval>.arrow`, with `open_time` as timestamp[ms, UTC] and float64 values
 * (NaN where the source had no such column). `pandas.read_feather`, `polars.read_ipc` and DuckDB
 * read these files directly.
 */
export class ArrowFileCandleStore implements CandleStore {
  readonly #observer: DataObserver;

  /** `options.observer` hears of each completed read, write (one per series) and list; default nobody. */
  constructor(
    readonly root: string,
    options: CandleStoreOptions = {},
  ) {
    this.#observer = options.observer ?? NO_DATA_OBSERVER;
  }

  pathOf(symbol: string, interval: Interval): string {
    // The symbol becomes a directory name: never let it point outside the store.
    if (!SYMBOL_PATTERN.test(symbol)) {
      throw new CryptomlError("STORE", `"${symbol}" is not a symbol the store can hold`, {
        hint: "symbols are 2–20 upper-case letters and digits, e.g. BTCUSDT",
      });
    }
    return join(this.root, symbol, `${interval}.arrow`);
  }

  async list(): Promise<StoredSeriesInfo[]> {
    if (!existsSync(this.root)) return [];
    const out: StoredSeriesInfo[] = [];
    for (const symbol of (await readdir(this.root, { withFileTypes: true })).filter((e) => e.isDirectory())) {
      for (const file of await readdir(join(this.root, symbol.name))) {
        const interval = file.replace(/\.arrow$/, "");
        if (!file.endsWith(".arrow") || !isInterval(interval)) continue;
        // Part of the one list operation, not a read of its own.
        const series = await this.#readSeries(symbol.name, interval);
        if (series === undefined) continue;
        out.push({
          symbol: symbol.name,
          interval,
          rows: series.length,
          first: series.openTime[0] ?? Number.NaN,
          last: series.openTime[series.length - 1] ?? Number.NaN,
          location: this.pathOf(symbol.name, interval),
        });
      }
    }
    this.#observer.storeOperation(STORE_NAME, "list");
    return out.sort((a, b) => a.symbol.localeCompare(b.symbol) || a.interval.localeCompare(b.interval));
  }

  async read(symbol: string, interval: Interval): Promise<CandleSeries | undefined> {
    const series = await this.#readSeries(symbol, interval);
    this.#observer.storeOperation(STORE_NAME, "read");
    return series;
  }

  async #readSeries(symbol: string, interval: Interval): Promise<CandleSeries | undefined> {
    const path = this.pathOf(symbol, interval);
    if (!existsSync(path)) return undefined;
    let table: Table;
    try {
      table = tableFromIPC(await readFile(path));
    } catch (error) {
      throw new CryptomlError(
        "STORE",
        `${path}: not a readable Arrow IPC file (${(error as Error).message})`,
        {
          hint: "the store file is damaged; delete it and import the data again",
          cause: error,
        },
      );
    }
    return seriesFromTable(table, symbol, interval, path);
  }

  async replace(series: readonly CandleSeries[]): Promise<void> {
    await this.removeStaleTemporaries(series);
    // Stage every file first (write + fsync), then rename each over its target: a failure while
    // staging leaves all stored series untouched, and each rename is atomic on its own. A crash
    // between two renames leaves some series new and the others old, each one whole.
    const staged: { temp: string; target: string }[] = [];
    try {
      for (const item of series) {
        const target = this.pathOf(item.symbol, item.interval);
        const temp = `${target}.${process.pid}.tmp`;
        await mkdir(join(this.root, item.symbol), { recursive: true });
        await writeDurably(temp, tableToIPC(tableFromSeries(item), "file"));
        staged.push({ temp, target });
      }
    } catch (error) {
      await Promise.all(staged.map(({ temp }) => rm(temp, { force: true })));
      throw new CryptomlError(
        "STORE",
        `could not write the candle store at ${this.root}: ${(error as Error).message}`,
        {
          hint: "nothing was changed; check free disk space and permissions, then import again",
          cause: error,
        },
      );
    }
    for (const { temp, target } of staged) await rename(temp, target);
    // The renames are durable only once their directories are synced.
    for (const dir of new Set(staged.map(({ target }) => dirname(target)))) await syncDirectory(dir);
    for (const _ of staged) this.#observer.storeOperation(STORE_NAME, "write");
  }

  /** Temporary files an interrupted import left behind (`<interval>.arrow.<pid>.tmp`); callers hold the lock. */
  private async removeStaleTemporaries(series: readonly CandleSeries[]): Promise<void> {
    for (const symbol of new Set(series.map((item) => item.symbol))) {
      const dir = join(this.root, symbol);
      if (!existsSync(dir)) continue;
      for (const file of await readdir(dir)) {
        if (/\.arrow\.\d+\.tmp$/.test(file)) await rm(join(dir, file), { force: true });
      }
    }
  }

  async withWriteLock<T>(work: () => Promise<T>): Promise<T> {
    await mkdir(this.root, { recursive: true });
    return withFileLock(join(this.root, ".lock"), `the candle store ${this.root}`, work);
  }
}

function tableFromSeries(series: CandleSeries): Table {
  const times = makeVector(
    makeData({
      type: new TimestampMillisecond("UTC"),
      length: series.length,
      data: BigInt64Array.from(series.openTime, (t) => BigInt(t)),
    }),
  );
  const columns: Record<string, Vector> = { open_time: times };
  for (const name of CANDLE_VALUE_COLUMNS) columns[COLUMN_NAMES[name]] = makeVector(series[name]);
  const table = new Table(columns);
  // Provenance for readers of the file: which series it is and the layout version.
  table.schema.metadata.set("cryptoml.format", FORMAT_VERSION);
  table.schema.metadata.set("cryptoml.symbol", series.symbol);
  table.schema.metadata.set("cryptoml.interval", series.interval);
  return table;
}

function seriesFromTable(table: Table, symbol: string, interval: Interval, path: string): CandleSeries {
  const version = table.schema.metadata.get("cryptoml.format");
  if (version !== FORMAT_VERSION) {
    throw new CryptomlError(
      "STORE",
      `${path}: store format "${version ?? "none"}" is not ${FORMAT_VERSION}`,
      {
        hint: "this file was written by another cryptoml version or tool; import the data again",
      },
    );
  }
  const series = allocateSeries(symbol, interval, table.numRows);
  const times = table.getChild("open_time")?.toArray() as BigInt64Array | undefined;
  if (times === undefined) throw new CryptomlError("STORE", `${path}: no open_time column`);
  for (let i = 0; i < times.length; i++) series.openTime[i] = Number(times[i]);
  for (const name of CANDLE_VALUE_COLUMNS) {
    const column = table.getChild(COLUMN_NAMES[name]);
    if (column === null) throw new CryptomlError("STORE", `${path}: no ${COLUMN_NAMES[name]} column`);
    series[name].set(column.toArray() as Float64Array);
  }
  return series;
}
