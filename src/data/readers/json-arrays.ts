import { DataFormatError } from "../../core/errors.js";
import {
  candleFromFields,
  detectTimeUnit,
  parseNumberField,
  type RawCandle,
  type TimeUnit,
} from "./raw-rows.js";

/**
 * Reads JSON arrays of candles in either of two layouts, told apart by row length:
 * - ccxt/freqtrade OHLCV: `[open_time, open, high, low, close, volume]` (numbers);
 * - Binance REST `/api/v3/klines`: 12 fields, prices as strings.
 */
export function parseJsonCandles(text: string, file: string): RawCandle[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DataFormatError(file, undefined, `not valid JSON (${(error as Error).message})`, {
      hint: "a truncated download ends mid-array; fetch the file again",
    });
  }
  if (!Array.isArray(parsed)) {
    throw new DataFormatError(file, undefined, "expected a JSON array of candle arrays at the top level");
  }
  if (parsed.length === 0) throw new DataFormatError(file, undefined, "no candles in file");
  const first = parsed[0];
  const width = Array.isArray(first) ? first.length : -1;
  if (width !== 6 && width !== 12) {
    throw new DataFormatError(
      file,
      undefined,
      "row 1: expected [time, open, high, low, close, volume] (ccxt) or the 12-field /api/v3/klines layout",
    );
  }
  let unit: TimeUnit | undefined;
  const candles: RawCandle[] = [];
  for (let index = 0; index < parsed.length; index++) {
    const row: unknown = parsed[index];
    const where = `row ${index + 1}`;
    if (!Array.isArray(row) || row.length !== width) {
      throw new DataFormatError(
        file,
        undefined,
        `${where}: expected an array of ${width} fields like row 1, found ${JSON.stringify(row)?.slice(0, 80)}`,
      );
    }
    unit ??= detectTimeUnit(parseNumberField(row[0], file, where, 0));
    candles.push(candleFromFields(row, unit, file, where, index + 1));
  }
  return candles;
}
