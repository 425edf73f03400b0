import { EMA, MACD, RSI } from "trading-signals";
import { CryptomlError } from "../core/errors.js";
import { nanColumn, requireInteger } from "./params.js";

/** Options of {@link rsi}. */
export interface RsiOptions {
  /** Wilder smoothing period. Default 14. */
  period?: number;
}

/**
 * Wilder's RSI of close, 0..100, from trading-signals' `RSI` (Wilder smoothing, seeded with the simple mean
 * of the first `period` gains and losses). First value at row `period`.
 *
 * `ta.momentum.RSIIndicator` seeds its recursion with the first gain instead of a mean; the difference
 * decays by (1 - 1/period) per row, so the two agree to 1e-12 relative after a few hundred rows
 * (checked in test/integration/indicators-reference.test.ts). Both give 100 when the average loss is 0.
 */
export function rsi(close: Float64Array, options: RsiOptions = {}): Float64Array {
  const period = options.period ?? 14;
  requireInteger("rsi.period", period, 1);
  const indicator = new RSI(period);
  const out = nanColumn(close.length);
  for (let t = 0; t < close.length; t++) {
    const value = indicator.add(close[t] as number);
    if (value !== null) out[t] = value;
  }
  return out;
}

/** Options of {@link macd}. */
export interface MacdOptions {
  /** Fast EMA span. Default 12. */
  fast?: number;
  /** Slow EMA span; must exceed `fast`. Default 26. */
  slow?: number;
  /** EMA span of the signal line. Default 9. */
  signal?: number;
  /** Divide all three lines by close[t], making them scale-free across symbols and years. Default false. */
  relative?: boolean;
}

/** Throws unless the spans are positive integers with `fast < slow`. */
export function requireMacdSpans(fast: number, slow: number, signal: number): void {
  requireInteger("macd.fast", fast, 1);
  requireInteger("macd.slow", slow, 2);
  requireInteger("macd.signal", signal, 1);
  if (fast >= slow) {
    throw new CryptomlError("DATASET", `macd.fast=${fast} must be < macd.slow=${slow}`, {
      hint: "the fast EMA needs the shorter span (the usual choice is fast 12, slow 26)",
    });
  }
}

/** The three MACD lines, each aligned to the input rows. */
export interface MacdColumns {
  readonly macd: Float64Array;
  readonly signal: Float64Array;
  readonly histogram: Float64Array;
}

/**
 * MACD as `ta.trend.MACD`: `macd = EMA(close, fast) - EMA(close, slow)`, `signal = EMA(macd, signal)`,
 * `histogram = macd - signal`, every EMA with `alpha = 2 / (span + 1)` seeded with its first input.
 * Computed with trading-signals' `MACD`/`EMA`, which seed the same way, so values match `ta` from the first
 * row. The MACD line starts at row `slow - 1`; signal and histogram at row `slow + signal - 2` (earlier the
 * signal EMA has seen fewer than `signal` values, which `ta` also reports as NaN).
 */
export function macd(close: Float64Array, options: MacdOptions = {}): MacdColumns {
  const fast = options.fast ?? 12;
  const slow = options.slow ?? 26;
  const signalSpan = options.signal ?? 9;
  requireMacdSpans(fast, slow, signalSpan);
  const n = close.length;
  const out = { macd: nanColumn(n), signal: nanColumn(n), histogram: nanColumn(n) };
  const indicator = new MACD(new EMA(fast), new EMA(slow), new EMA(signalSpan));
  const signalStart = slow + signalSpan - 2;
  for (let t = 0; t < n; t++) {
    const result = indicator.add(close[t] as number);
    if (result === null) continue;
    const scale = options.relative === true ? (close[t] as number) : 1;
    out.macd[t] = result.macd / scale;
    if (t >= signalStart) {
      out.signal[t] = result.signal / scale;
      out.histogram[t] = result.histogram / scale;
    }
  }
  return out;
}
