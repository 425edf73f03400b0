import * as z from "zod";
import { INTERVALS } from "../../data/intervals.js";
import { SYMBOL_PATTERN } from "../../data/symbols.js";
import { matching, oneOf, text } from "./rules.js";

const SYMBOL = SYMBOL_PATTERN;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

const httpUrl = z
  .string({ error: "must be an http(s) URL" })
  .refine(isHttpUrl, { error: "must be an http(s) URL (e.g. https://data.binance.vision)" });

/**
 * `data:` in training.yaml — where candles come from and where they are kept.
 * Defaults: the three bundled symbols at 5-minute candles, stored under `.cryptoml/`.
 */
export const dataSchema = z.strictObject({
  /** Candle store (Arrow files), relative to the working directory. Default `.cryptoml/store`. */
  store_dir: text("a non-empty path").default(".cryptoml/store"),
  /** Where downloaded archives are kept before import. Default `.cryptoml/downloads`. */
  download_dir: text("a non-empty path").default(".cryptoml/downloads"),
  /** Binance data-dump mirror. Default `https://data.binance.vision`. */
  base_url: httpUrl.default("https://data.binance.vision"),
  /** Symbols to download, import and train on. Default BTCUSDT, ETHUSDT, ADAUSDT. */
  symbols: z
    .array(matching(SYMBOL, 'must be 2-20 upper-case letters or digits (e.g. "BTCUSDT")'), {
      error: "must be a list of symbols",
    })
    .min(1, { error: "must list at least one symbol" })
    .default(() => ["BTCUSDT", "ETHUSDT", "ADAUSDT"]),
  /** Candle interval. Default `5m`. */
  interval: oneOf(INTERVALS).default("5m"),
});

export type DataConfig = z.output<typeof dataSchema>;
