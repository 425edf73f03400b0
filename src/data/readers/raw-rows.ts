import { DataFormatError } from "../../core/errors.js";

/**
 * One candle as a reader found it, before ordering checks. `where` is how errors point at it:
 * `line 12` for CSV, `row 12` for JSON arrays (1-based either way).
 */
export interface RawCandle {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  closeTime: number;
  quoteVolume: number;
  trades: number;
  takerBuyBaseVolume: number;
  takerBuyQuoteVolume: number;
  where: string;
  location: number;
}

const FIELD_NAMES = [
  "open time",
  "open",
  "high",
  "low",
  "close",
  "volume",
  "close time",
  "quote asset volume",
  "number of trades",
  "taker buy base asset volume",
  "taker buy quote asset volume",
  "ignore",
] as const;

/**
 * An error about one row: CSV rows are named by their line (`file:12: problem`), JSON rows by their
 * index (`file: row 12: problem`), since a JSON file may hold every row on one line.
 */
export function rowError(
  file: string,
  where: string,
  problem: string,
  options: { hint?: string } = {},
): DataFormatError {
  const line = /^line (\d+)$/.exec(where);
  return line
    ? new DataFormatError(file, Number(line[1]), problem, options)
    : new DataFormatError(file, undefined, `${where}: ${problem}`, options);
}

/** Parses one numeric field strictly: `"12.5"` and `12.5` pass; `""`, `"abc"`, `"1e"` and non-finite values fail. */
export function parseNumberField(value: unknown, file: string, where: string, column: number): number {
  const name = FIELD_NAMES[column] ?? `column ${column + 1}`;
  let parsed = Number.NaN;
  if (typeof value === "number") parsed = value;
  else if (typeof value === "string" && value.trim() !== "") parsed = Number(value);
  if (!Number.isFinite(parsed)) {
    throw rowError(file, where, `column ${column + 1} (${name}): ${JSON.stringify(value)} is not a number`);
  }
  if (parsed < 0) {
    throw new DataFormatError(
      file,
      undefined,
      `${where}, column ${column + 1} (${name}): ${parsed} is negative`,
    );
  }
  return parsed;
}

/** Milliseconds-or-microseconds detection: µs epochs are ~1e15 today, ms epochs ~1e12. */
export type TimeUnit = "ms" | "us";
const MICROSECOND_THRESHOLD = 1e14;

export function detectTimeUnit(firstOpenTime: number): TimeUnit {
  return firstOpenTime >= MICROSECOND_THRESHOLD ? "us" : "ms";
}

/** Converts a timestamp to ms, insisting that the whole file uses one unit. */
export function toMilliseconds(value: number, unit: TimeUnit, file: string, where: string): number {
  const looksMicro = value >= MICROSECOND_THRESHOLD;
  if (looksMicro !== (unit === "us")) {
    throw rowError(
      file,
      where,
      `timestamp ${value} is in ${looksMicro ? "microseconds" : "milliseconds"} but earlier rows are in ${
        unit === "us" ? "microseconds" : "milliseconds"
      }`,
      { hint: "a file must use one time unit throughout; split it and import the parts separately" },
    );
  }
  return unit === "us" ? Math.floor(value / 1000) : value;
}

/**
 * Builds a RawCandle from a row's fields: the 12-field Binance layout (data-dump CSV and REST klines)
 * or, with 6 fields, ccxt's OHLCV, whose missing columns are NaN. The caller decides the time unit
 * from the first row.
 */
export function candleFromFields(
  fields: readonly unknown[],
  unit: TimeUnit,
  file: string,
  where: string,
  location: number,
): RawCandle {
  const full = fields.length >= 12;
  const num = (column: number) => parseNumberField(fields[column], file, where, column);
  const optional = (column: number) => (full ? num(column) : Number.NaN);
  return {
    openTime: toMilliseconds(num(0), unit, file, where),
    open: num(1),
    high: num(2),
    low: num(3),
    close: num(4),
    volume: num(5),
    closeTime: full ? toMilliseconds(num(6), unit, file, where) : Number.NaN,
    quoteVolume: optional(7),
    trades: optional(8),
    takerBuyBaseVolume: optional(9),
    takerBuyQuoteVolume: optional(10),
    where,
    location,
  };
}
