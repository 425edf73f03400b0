import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { allocateSeries, type CandleSeries } from "../../src/data/candles.js";

/** Folder of the candles shipped with the package: gzip JSON `[[open_time_ms, o, h, l, c, v], ...]`. */
export const BUNDLED_DIR = fileURLToPath(new URL("../../data/bundled/binance-spot-5m/", import.meta.url));

/** Path of a bundled file, e.g. `bundledPath("BTC_USDT")` → `.../BTC_USDT-5m.json.gz`. */
export function bundledPath(pair: string): string {
  return `${BUNDLED_DIR}${pair}-5m.json.gz`;
}

/**
 * Loads a bundled 5m series for tests, without the data layer's validation (tests of features should not
 * depend on it). `pair` as in the file name, `BTC_USDT`; the series' symbol drops the underscore.
 */
export function loadBundled(pair = "BTC_USDT"): CandleSeries {
  const rows = JSON.parse(gunzipSync(readFileSync(bundledPath(pair))).toString("utf8")) as number[][];
  const series = allocateSeries(pair.replace("_", ""), "5m", rows.length);
  const columns = [series.openTime, series.open, series.high, series.low, series.close, series.volume];
  rows.forEach((row, i) => {
    columns.forEach((column, k) => {
      column[i] = row[k] as number;
    });
  });
  return series;
}
