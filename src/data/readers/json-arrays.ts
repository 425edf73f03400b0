import { DataFormatError } from "../../core/errors.js";
import {
  candleFromKlineFields,
  detectTimeUnit,
  parseNumberField,
  type RawCandle,
  type TimeUnit,
  toMilliseconds,
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
    candles.push(
      width === 12
        ? candleFromKlineFields(row, unit, file, where, index + 1)
        : fromOhlcv(row, unit, file, where, index + 1),
    );
  }
  return candles;
}

function fromOhlcv(row: unknown[], unit: TimeUnit, file: string, where: string, location: number): RawCandle {
  const num = (column: number) => parseNumberField(row[column], file, where, column);
  return {
    openTime: toMilliseconds(num(0), unit, file, where),
    open: num(1),
    high: num(2),
    low: num(3),
    close: num(4),
    volume: num(5),
    closeTime: Number.NaN,
    quoteVolume: Number.NaN,
    trades: Number.NaN,
    takerBuyBaseVolume: Number.NaN,
    takerBuyQuoteVolume: Number.NaN,
    where,
    location,
  };
}
