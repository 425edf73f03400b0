import { basename } from "node:path";
import { INTERVALS, type Interval, parseInterval } from "../intervals.js";

/** What a file's name says about its contents, when it follows a known naming scheme. */
export interface NameHints {
  symbol?: string;
  interval?: Interval;
}

const INTERVAL_PATTERN = [...INTERVALS].sort((a, b) => b.length - a.length).join("|");
// Binance data dump: BTCUSDT-5m-2021-01.zip, BTCUSDT-5m-2021-01-31.csv
const BINANCE_DUMP = new RegExp(
  `^([A-Z0-9]+)-(${INTERVAL_PATTERN}|1M)-\\d{4}-\\d{2}(?:-\\d{2})?\\.(?:zip|csv)$`,
);
// freqtrade/ccxt: BTC_USDT-5m.json(.gz), BTC_USDT-5m-futures.json
const FREQTRADE = new RegExp(
  `^([A-Z0-9]+)_([A-Z0-9]+)-(${INTERVAL_PATTERN}|1M)(?:-[a-z]+)?\\.json(?:\\.gz)?$`,
);

export function hintsFromFileName(path: string): NameHints {
  const name = basename(path);
  const dump = BINANCE_DUMP.exec(name);
  if (dump) return { symbol: dump[1] as string, interval: parseInterval(dump[2] as string) };
  const freqtrade = FREQTRADE.exec(name);
  if (freqtrade) {
    return { symbol: `${freqtrade[1]}${freqtrade[2]}`, interval: parseInterval(freqtrade[3] as string) };
  }
  return {};
}
