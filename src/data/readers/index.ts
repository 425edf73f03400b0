import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { gunzipSync } from "node:zlib";
import { unzipSync } from "fflate";
import { DataFormatError, NotFoundError, UsageError } from "../../core/errors.js";
import type { CandleSeries } from "../candles.js";
import { verifyAgainstChecksumFile } from "../checksum.js";
import type { Interval } from "../intervals.js";
import { type DataObserver, NO_DATA_OBSERVER, startStage } from "../observer.js";
import { parseSymbols } from "../symbols.js";
import { parseBinanceKlineCsv } from "./binance-csv.js";
import { hintsFromFileName } from "./file-names.js";
import { parseJsonCandles } from "./json-arrays.js";
import { normaliseCandles, type OrderingReport } from "./normalise.js";
import type { RawCandle } from "./raw-rows.js";

export { hintsFromFileName } from "./file-names.js";
export type { OrderingReport } from "./normalise.js";

export type SourceFormat = "binance-csv" | "binance-zip" | "json";

export interface ReadOptions {
  /** Overrides what the file name says. Required when the name follows no known scheme. */
  symbol?: string;
  interval?: Interval;
  /** `strict` (default) rejects out-of-order or conflicting rows; `lenient` counts them (for inspection). */
  mode?: "strict" | "lenient";
  /** Told how long parsing and validating each file took. Default: nobody. */
  observer?: DataObserver;
}

export interface ReadResult {
  /** The file (and for archives the entry) the candles came from, as used in messages. */
  source: string;
  format: SourceFormat;
  symbol: string;
  interval: Interval;
  series: CandleSeries;
  ordering: OrderingReport;
  /** For zip archives: whether a sibling `.CHECKSUM` was found and matched. */
  checksum: "verified" | "absent" | "not-applicable";
}

/**
 * Reads one market-data file of any supported format into time-ordered candles.
 * A zip archive is checked against its sibling `.CHECKSUM` before it is opened.
 */
export async function readCandleFile(path: string, options: ReadOptions = {}): Promise<ReadResult[]> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw new NotFoundError(`${path}: no such file`);
  if (!info.isFile()) {
    throw new UsageError(`${path}: not a file`, { hint: "name the files to import, e.g. data/*.zip" });
  }
  const lower = path.toLowerCase();
  const format = formatOf(lower);
  if (format === undefined) {
    throw new UsageError(`${path}: unknown file type`, {
      hint: "supported: Binance kline .csv and .zip, ccxt/REST klines .json and .json.gz",
    });
  }
  const { symbol, interval } = identify(path, options);
  const mode = options.mode ?? "strict";
  const observer = options.observer ?? NO_DATA_OBSERVER;
  const finish = (
    source: string,
    format: SourceFormat,
    rows: RawCandle[],
    checksum: ReadResult["checksum"],
  ): ReadResult => {
    const validated = startStage(observer, "validate");
    const { series, report } = normaliseCandles(rows, source, symbol, interval, mode);
    validated();
    return { source, format, symbol, interval, series, ordering: report, checksum };
  };
  if (format === "binance-zip") return readZip(path, observer, finish);
  const parsed = startStage(observer, "parse");
  const bytes = await readFile(path);
  const text = decodeText(path, lower.endsWith(".gz") ? gunzip(path, bytes) : bytes);
  const rows = format === "binance-csv" ? parseBinanceKlineCsv(text, path) : parseJsonCandles(text, path);
  parsed();
  return [finish(path, format, rows, "not-applicable")];
}

function formatOf(lowerPath: string): SourceFormat | undefined {
  if (lowerPath.endsWith(".zip")) return "binance-zip";
  if (lowerPath.endsWith(".csv") || lowerPath.endsWith(".csv.gz")) return "binance-csv";
  if (lowerPath.endsWith(".json") || lowerPath.endsWith(".json.gz")) return "json";
  return undefined;
}

/**
 * Symbol and interval from the options or the file name. A flag that contradicts the name is an
 * error: importing `BTC_USDT-1h.json.gz` as 5m would overwrite real 5-minute candles.
 */
function identify(path: string, options: ReadOptions): { symbol: string; interval: Interval } {
  const hints = hintsFromFileName(path);
  const flagSymbol = options.symbol === undefined ? undefined : parseSymbols(options.symbol)[0];
  for (const [what, flag, named] of [
    ["symbol", flagSymbol, hints.symbol],
    ["interval", options.interval, hints.interval],
  ] as const) {
    if (flag !== undefined && named !== undefined && flag !== named) {
      throw new UsageError(`${path}: the file name says ${what} ${named}, but --${what} says ${flag}`, {
        hint: `drop --${what}, or rename the file if its name is wrong`,
      });
    }
  }
  const symbol = flagSymbol ?? hints.symbol;
  const interval = options.interval ?? hints.interval;
  if (symbol === undefined || interval === undefined) {
    throw new UsageError(
      `${path}: cannot tell the ${symbol === undefined ? "symbol" : "interval"} from the file name`,
      {
        hint: "pass --symbol and --interval (names like BTCUSDT-5m-2021-01.zip or BTC_USDT-5m.json.gz are recognised)",
      },
    );
  }
  return { symbol, interval };
}

async function readZip(
  path: string,
  observer: DataObserver,
  finish: (
    source: string,
    format: SourceFormat,
    rows: RawCandle[],
    checksum: ReadResult["checksum"],
  ) => ReadResult,
): Promise<ReadResult[]> {
  const checksumPath = `${path}.CHECKSUM`;
  const checksum = existsSync(checksumPath) ? "verified" : "absent";
  if (checksum === "verified") {
    const verified = startStage(observer, "validate");
    await verifyAgainstChecksumFile(path, checksumPath);
    verified();
  }
  const parsed = startStage(observer, "parse");
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(await readFile(path));
  } catch (error) {
    throw new DataFormatError(path, undefined, `not a readable zip archive (${(error as Error).message})`, {
      hint: "the archive is truncated or corrupt; delete it and download it again",
    });
  }
  const csvNames = Object.keys(entries).filter((name) => name.toLowerCase().endsWith(".csv"));
  if (csvNames.length === 0) throw new DataFormatError(path, undefined, "the archive holds no .csv file");
  const parts = csvNames.map((name) => {
    const source = `${path}!${basename(name)}`;
    const text = decodeText(source, entries[name] as Uint8Array);
    return { source, rows: parseBinanceKlineCsv(text, source) };
  });
  // One parse observation per archive (unzip included), like one per plain file.
  parsed();
  return parts.map(({ source, rows }) => finish(source, "binance-zip", rows, checksum));
}

function gunzip(path: string, bytes: Buffer): Buffer {
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new DataFormatError(path, undefined, `not a readable gzip file (${(error as Error).message})`, {
      hint: "the file is truncated or corrupt; fetch it again",
    });
  }
}

function decodeText(source: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new DataFormatError(source, undefined, "not UTF-8 text; is this a binary file?");
  }
}
