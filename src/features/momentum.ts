import { EMA, MACD } from "trading-signals";
import { CryptomlError } from "../core/errors.js";
import { nanColumn, requireInteger } from "./params.js";

/** Options of {@link rsi}. */
export interface RsiOptions {
  /** Wilder smoothing period, an integer >= 2. Default 14. */
  period?: number;
}

/**
 * Wilder's RSI of close, 0..100, computed exactly as `ta.momentum.RSIIndicator`: the up and down moves
 * of each close are smoothed with pandas' `ewm(alpha=1/period, adjust=False, min_periods=period)`, which
 * starts at row 0 with a zero move (pandas' `diff` is NaN there and `ta` maps it to 0). The first value is
 * therefore at row `period − 1`; it is 100 whenever the average loss is 0.
 *
 * Hand-written rather than trading-signals' `RSI`: that one seeds with the mean of the first `period`
 * moves and starts a row later, differing from `ta` by up to 1e-2 in the first rows. The update below
 * reproduces pandas' arithmetic step for step (`(w·(1−α) + x·α) / ((1−α) + α)`, skipped when x equals
 * the average), so values agree with `ta` to rounding from the first one.
 *
 * A non-finite close makes the moves NaN, so RSI stays NaN from that row on (`ta` would count a zero move).
 */
export function rsi(close: Float64Array, options: RsiOptions = {}): Float64Array {
  const period = options.period ?? 14;
  requireInteger("rsi.period", period, 2);
  // pandas turns alpha into a centre of mass and back; doing the same keeps the last bit equal too.
  const alpha = 1 / (1 + (1 - 1 / period) / (1 / period));
  const keep = 1 - alpha;
  const smooth = (average: number, x: number) =>
    average === x ? average : (keep * average + alpha * x) / (keep + alpha);
  const out = nanColumn(close.length);
  let up = 0;
  let down = 0;
  for (let t = 1; t < close.length; t++) {
    const change = (close[t] as number) - (close[t - 1] as number);
    const finite = Number.isFinite(change);
    up = smooth(up, finite ? Math.max(change, 0) : Number.NaN);
    down = smooth(down, finite ? Math.max(-change, 0) : Number.NaN);
    if (t >= period - 1) out[t] = down === 0 ? 100 : 100 - 100 / (1 + up / down);
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
