import { DataFormatError } from "../../core/errors.js";
import { candleFromFields, detectTimeUnit, parseNumberField, type RawCandle } from "./raw-rows.js";

const KLINE_COLUMNS = 12;

/**
 * Reads a Binance data-dump kline CSV: 12 columns, an optional header row (files from 2025 on may
 * carry one), open/close times in milliseconds or microseconds (detected from the first data row).
 */
export function parseBinanceKlineCsv(text: string, file: string): RawCandle[] {
  const lines = text.split("\n");
  const candles: RawCandle[] = [];
  let unit: ReturnType<typeof detectTimeUnit> | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] as string).replace(/\r$/, "");
    if (line.trim() === "") continue;
    const lineNumber = index + 1;
    const fields = line.split(",");
    if (candles.length === 0 && unit === undefined && isHeader(fields)) continue;
    if (fields.length !== KLINE_COLUMNS) {
      throw new DataFormatError(
        file,
        lineNumber,
        `expected ${KLINE_COLUMNS} comma-separated columns (Binance kline layout), found ${fields.length}`,
        { hint: "is this a kline file? aggTrades and trades files have other layouts" },
      );
    }
    const where = `line ${lineNumber}`;
    unit ??= detectTimeUnit(parseNumberField(fields[0], file, where, 0));
    candles.push(candleFromFields(fields, unit, file, where, lineNumber));
  }
  if (candles.length === 0) throw new DataFormatError(file, undefined, "no candles in file");
  return candles;
}

/** A header row names its columns; a data row starts with a number. */
function isHeader(fields: readonly string[]): boolean {
  const first = (fields[0] ?? "").trim().toLowerCase();
  return first !== "" && Number.isNaN(Number(first)) && /open|time/.test(first);
}
