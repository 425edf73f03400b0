/**
 * Statistics of a simple-return series, one value per candle, with quantstats' conventions (the reference
 * that test/integration/backtest-metrics-reference.test.ts checks them against to 1e-9 relative):
 * sample standard deviation (ddof = 1), annualisation by √(periods per year), Sortino's downside deviation
 * over *all* periods, and drawdowns measured from the starting equity. Pure functions over Float64Array;
 * src/backtest/metrics.ts assembles them into TradingMetrics.
 */

/** Mean of `values`, NaN when empty. */
export function mean(values: Float64Array): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * Sample standard deviation (ddof = 1), NaN with fewer than two values. Two passes (mean first, then
 * squared deviations) as pandas does, so the result agrees with the reference to rounding. A constant
 * series is exactly 0: the rounded mean of equal values can differ from them by an ulp, and pandas would
 * then report a std of ~1e-18 and a Sharpe of ~1e16 where the honest answer is "undefined".
 */
export function sampleStd(values: Float64Array): number {
  const n = values.length;
  if (n < 2) return Number.NaN;
  const first = values[0] as number;
  if (values.every((v) => v === first)) return 0;
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) * (v - m);
  return Math.sqrt(squares / (n - 1));
}

/** Growth factor of the whole series: ∏(1 + rᵢ). Total compounded return is this minus 1. */
export function growth(returns: Float64Array): number {
  let factor = 1;
  for (const r of returns) factor *= 1 + r;
  return factor;
}

/**
 * CAGR: growth^(1/years) − 1 with years = candles / periodsPerYear, as quantstats' `cagr` counts years
 * (by observations, not calendar dates). NaN for an empty series or a negative terminal wealth, which a
 * per-candle return below −100% can produce and which has no real growth rate; a total wipeout is −1.
 */
export function cagr(returns: Float64Array, periodsPerYear: number): number {
  if (returns.length === 0) return Number.NaN;
  const wealth = growth(returns);
  if (wealth < 0) return Number.NaN;
  return wealth ** (periodsPerYear / returns.length) - 1;
}

/** Annualised volatility: sample std × √periodsPerYear; NaN with fewer than two candles. */
export function annualVolatility(returns: Float64Array, periodsPerYear: number): number {
  return sampleStd(returns) * Math.sqrt(periodsPerYear);
}

/**
 * Per-period risk-free rate from an annual one, compounded: (1 + annual)^(1/periodsPerYear) − 1, which is
 * how quantstats' `to_excess_returns` de-annualises `rf`.
 */
export function perPeriodRate(annualRate: number, periodsPerYear: number): number {
  return annualRate === 0 ? 0 : (1 + annualRate) ** (1 / periodsPerYear) - 1;
}

function excess(returns: Float64Array, rate: number): Float64Array {
  if (rate === 0) return returns;
  return returns.map((r) => r - rate);
}

/**
 * Annualised Sharpe ratio: mean(r − rf) / std(r − rf, ddof = 1) × √periodsPerYear.
 * NaN when it is undefined rather than infinite: fewer than two candles, or a standard deviation of 0
 * (a constant series, e.g. never in the market), so a flat strategy never ranks first by Sharpe.
 */
export function sharpe(returns: Float64Array, periodsPerYear: number, riskFreePerPeriod = 0): number {
  const adjusted = excess(returns, riskFreePerPeriod);
  const std = sampleStd(adjusted);
  if (!(std > 0)) return Number.NaN;
  return (mean(adjusted) / std) * Math.sqrt(periodsPerYear);
}

/**
 * Downside deviation per period: √(Σ min(rᵢ − rf, 0)² / n), the mean taken over *all* n candles, not
 * only the losing ones (quantstats' `sortino`, empyrical's `downside_risk`, Sortino & Price).
 */
export function downsideDeviation(returns: Float64Array, riskFreePerPeriod = 0): number {
  if (returns.length === 0) return Number.NaN;
  let squares = 0;
  for (const r of returns) {
    const d = r - riskFreePerPeriod;
    if (d < 0) squares += d * d;
  }
  return Math.sqrt(squares / returns.length);
}

/**
 * Annualised Sortino ratio: mean(r − rf) / downsideDeviation × √periodsPerYear. NaN when no candle
 * lost (downside deviation 0), as quantstats returns.
 */
export function sortino(returns: Float64Array, periodsPerYear: number, riskFreePerPeriod = 0): number {
  const downside = downsideDeviation(returns, riskFreePerPeriod);
  if (!(downside > 0)) return Number.NaN;
  return (mean(excess(returns, riskFreePerPeriod)) / downside) * Math.sqrt(periodsPerYear);
}

export interface Drawdown {
  /** Deepest fall of equity from its running peak, as a fraction ≤ 0 (−0.25 = 25% below the peak). */
  readonly maxDrawdown: number;
  /** Longest run of consecutive candles closing below the running peak (may be a shallower episode). */
  readonly longestCandles: number;
  /** Candles the deepest drawdown lasted, from the peak to recovery, or to the end if it never recovered. */
  readonly maxDrawdownCandles: number;
}

/**
 * Drawdowns of the equity curve start × ∏(1 + r). The running peak starts at the starting equity (a
 * phantom candle before the first, as quantstats and empyrical both add), so a loss on the first candle
 * counts as a drawdown.
 */
export function drawdown(returns: Float64Array): Drawdown {
  let equity = 1;
  let peak = 1;
  let maxDrawdown = 0;
  let run = 0;
  let longest = 0;
  let deepestRun = 0;
  let inDeepest = false;
  for (const r of returns) {
    equity *= 1 + r;
    if (equity >= peak) {
      peak = equity;
      run = 0;
      inDeepest = false;
      continue;
    }
    run += 1;
    longest = Math.max(longest, run);
    const dd = equity / peak - 1;
    if (dd < maxDrawdown) {
      maxDrawdown = dd;
      inDeepest = true;
    }
    // The deepest episode's length is its run length when it last was (or became) the deepest.
    if (inDeepest) deepestRun = run;
  }
  return { maxDrawdown, longestCandles: longest, maxDrawdownCandles: deepestRun };
}
