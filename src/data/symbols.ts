/** Binance symbols: upper-case letters and digits, base then quote (`BTCUSDT`, `1000SATSUSDT`). */
export const SYMBOL_PATTERN = /^[A-Z0-9]{2,20}$/;
