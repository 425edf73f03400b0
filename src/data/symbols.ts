import { UsageError } from "../core/errors.js";

/** Binance symbols: upper-case letters and digits, base then quote (`BTCUSDT`, `1000SATSUSDT`). */
export const SYMBOL_PATTERN = /^[A-Z0-9]{2,20}$/;

/**
 * Upper-cases, de-duplicates and validates symbols; rejects `BTC/USDT` (ccxt spelling) with a hint.
 * Accepts one comma-separated string or a list.
 */
export function parseSymbols(input: string | readonly string[]): string[] {
  const parts = (typeof input === "string" ? input.split(",") : input).map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) {
    throw new UsageError("no symbols given", { hint: "pass --symbols BTCUSDT,ETHUSDT" });
  }
  const symbols: string[] = [];
  for (const part of parts) {
    const symbol = part.toUpperCase();
    if (!SYMBOL_PATTERN.test(symbol)) {
      const hint = /[/_-]/.test(symbol)
        ? `use the Binance spelling without a separator, e.g. ${symbol.replace(/[/_-]/g, "")}`
        : "a Binance symbol is 2–20 upper-case letters and digits, e.g. BTCUSDT";
      throw new UsageError(`symbol "${part}" is not a Binance spot symbol`, { hint });
    }
    if (!symbols.includes(symbol)) symbols.push(symbol);
  }
  return symbols;
}
