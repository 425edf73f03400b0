/**
 * Trading metrics of a backtest from its per-candle net returns and positions. The return statistics
 * (total return, CAGR, volatility, Sharpe, Sortino, max drawdown, Calmar) follow quantstats 0.0.86 and are
 * checked against it to 1e-9 relative (test/integration/backtest-metrics-reference.test.ts); the
 * position statistics (hit rate, exposure, turnover, trades) are ours and defined on each field below.
 * Undefined ratios are NaN, never 0, so "no evidence" is never mistaken for "no skill".
 */
import { CryptomlError } from "../core/errors.js";
import { annualVolatility, cagr, drawdown, growth, perPeriodRate, sharpe, sortino } from "./metrics-stats.js";

/** 365.25 days: crypto trades every day, leap years included on average. */
const YEAR_MS = 365.25 * 24 * 60 * 60 * 1000;

export interface MetricsInput {
  /** Simple net return of the strategy over each candle (after costs): equityₜ = equityₜ₋₁ × (1 + rₜ). */
  readonly returns: Float64Array;
  /** Position held during each candle, in [−1, 1] (fraction of equity; negative is short). */
  readonly positions: Float64Array;
  /** Candle length in ms; periods per year = 365.25 days / intervalMs. */
  readonly intervalMs: number;
  /** Equity before the first candle, > 0. */
  readonly startingBalance: number;
  /** Annual risk-free rate for Sharpe and Sortino, compounded down to a per-candle rate. Default 0. */
  readonly riskFreeRate?: number;
  /** Closed trades, when the caller has them (the engine's `Trade` fits); only `pnl` is read. */
  readonly trades?: readonly { readonly pnl: number }[];
}

export interface TradingMetrics {
  readonly candles: number;
  readonly periodsPerYear: number;
  /** Compounded: ∏(1 + r) − 1. */
  readonly totalReturn: number;
  /** CAGR over candles / periodsPerYear years; NaN on negative terminal wealth. */
  readonly annualisedReturn: number;
  readonly finalBalance: number;
  /** finalBalance − startingBalance. */
  readonly pnl: number;
  /** Sample std (ddof = 1) × √periodsPerYear; NaN with < 2 candles. */
  readonly volatility: number;
  /** mean(r − rf) / std(r − rf) × √periodsPerYear; NaN when std is 0 or < 2 candles. */
  readonly sharpe: number;
  /** mean(r − rf) / √(Σ min(r − rf, 0)² / n) × √periodsPerYear; NaN when no candle lost. */
  readonly sortino: number;
  /** Deepest fall from the running peak (starting balance included), a fraction ≤ 0: −0.2 is 20% down. */
  readonly maxDrawdown: number;
  /** Length of that deepest drawdown in candles: peak to recovery, or to the end if not recovered. */
  readonly maxDrawdownCandles: number;
  /** maxDrawdownCandles × intervalMs. */
  readonly maxDrawdownMs: number;
  /** Longest run of candles below the running peak, of any depth (quantstats' "Longest DD"). */
  readonly longestDrawdownCandles: number;
  readonly longestDrawdownMs: number;
  /** annualisedReturn / |maxDrawdown|; NaN when there was no drawdown. */
  readonly calmar: number;
  /** Of the candles with a non-zero position, the share whose net return is > 0; NaN if never in. */
  readonly hitRate: number;
  /** Of the given trades, the share with pnl > 0; NaN when no trades were given (or the list is empty). */
  readonly tradeHitRate: number;
  /**
   * Σ gains / |Σ losses| of the per-candle PnL in account currency (equityₜ₋₁ × rₜ), over all candles
   * (costs on a flat candle count). Infinity when nothing lost but something gained; NaN when neither.
   */
  readonly profitFactor: number;
  /** The same over the given trades' pnl; NaN when no trades were given. */
  readonly tradeProfitFactor: number;
  /** Share of candles with a non-zero position. */
  readonly exposure: number;
  /** Σ |Δposition| / candles, starting flat (the initial entry counts, a final exit after the end does not). */
  readonly turnover: number;
  /**
   * Trades counted from positions: a maximal run of consecutive candles whose positions share a non-zero
   * sign. Resizing within a run is the same trade; a long → short flip ends one and starts another.
   */
  readonly trades: number;
  /** Candles with a non-zero position / trades; NaN with no trades. */
  readonly averageHoldingCandles: number;
}

function usage(message: string, hint: string): CryptomlError {
  return new CryptomlError("USAGE", message, { hint });
}

function validate(input: MetricsInput): void {
  const { returns, positions, intervalMs, startingBalance, riskFreeRate = 0 } = input;
  if (returns.length === 0) {
    throw usage(
      "returns is empty: metrics need at least one candle",
      "backtest a period with one or more candles",
    );
  }
  if (positions.length !== returns.length) {
    throw usage(
      `positions.length=${positions.length} must equal returns.length=${returns.length}`,
      "pass one position per candle, the one held during that candle",
    );
  }
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) {
    throw usage(
      `intervalMs=${intervalMs} must be a finite number > 0`,
      "pass the candle length, e.g. 300000 for 5m",
    );
  }
  if (!(Number.isFinite(startingBalance) && startingBalance > 0)) {
    throw usage(
      `startingBalance=${startingBalance} must be a finite number > 0`,
      "pass the account value at start",
    );
  }
  if (!(Number.isFinite(riskFreeRate) && riskFreeRate > -1)) {
    throw usage(
      `riskFreeRate=${riskFreeRate} must be a finite number > -1`,
      "pass an annual rate, 0.05 for 5%",
    );
  }
  const bad = returns.findIndex((r) => !Number.isFinite(r));
  if (bad >= 0) {
    throw usage(
      `returns[${bad}]=${returns[bad]} must be finite`,
      "fill gaps with 0 (flat) before computing metrics",
    );
  }
  const badPosition = positions.findIndex((p) => !(p >= -1 && p <= 1));
  if (badPosition >= 0) {
    throw usage(
      `positions[${badPosition}]=${positions[badPosition]} must be in [-1, 1]`,
      "clamp the strategy's sizes",
    );
  }
}

/** Σ gains / |Σ losses|, with the edge cases documented on TradingMetrics.profitFactor. */
function ratioOfGains(gains: number, losses: number): number {
  if (losses === 0) return gains > 0 ? Number.POSITIVE_INFINITY : Number.NaN;
  return gains / losses;
}

interface PositionStats {
  inMarket: number;
  winningInMarket: number;
  turnover: number;
  trades: number;
}

function positionStats(returns: Float64Array, positions: Float64Array): PositionStats {
  const stats: PositionStats = { inMarket: 0, winningInMarket: 0, turnover: 0, trades: 0 };
  let previous = 0;
  positions.forEach((position, i) => {
    stats.turnover += Math.abs(position - previous);
    if (position !== 0) {
      stats.inMarket += 1;
      if ((returns[i] as number) > 0) stats.winningInMarket += 1;
      if (Math.sign(position) !== Math.sign(previous)) stats.trades += 1;
    }
    previous = position;
  });
  return stats;
}

function currencyProfitFactor(returns: Float64Array, startingBalance: number): number {
  let equity = startingBalance;
  let gains = 0;
  let losses = 0;
  for (const r of returns) {
    const pnl = equity * r;
    if (pnl > 0) gains += pnl;
    else losses -= pnl;
    equity += pnl;
  }
  return ratioOfGains(gains, losses);
}

function tradeStats(trades: readonly { readonly pnl: number }[] | undefined): [number, number] {
  if (trades === undefined || trades.length === 0) return [Number.NaN, Number.NaN];
  let wins = 0;
  let gains = 0;
  let losses = 0;
  for (const { pnl } of trades) {
    if (pnl > 0) {
      wins += 1;
      gains += pnl;
    } else {
      losses -= pnl;
    }
  }
  return [wins / trades.length, ratioOfGains(gains, losses)];
}

/** Periods per year of a candle length: 365.25 days / intervalMs (105,192 for 5m, 8,766 for 1h). */
export function periodsPerYear(intervalMs: number): number {
  return YEAR_MS / intervalMs;
}

/**
 * Every metric of one backtest. Throws a USAGE CryptomlError on an empty series, mismatched lengths,
 * non-finite returns, positions outside [−1, 1], or a non-positive interval or balance.
 */
export function computeMetrics(input: MetricsInput): TradingMetrics {
  validate(input);
  const { returns, positions, intervalMs, startingBalance } = input;
  const n = returns.length;
  const ppy = periodsPerYear(intervalMs);
  const rf = perPeriodRate(input.riskFreeRate ?? 0, ppy);
  const totalReturn = growth(returns) - 1;
  const annualisedReturn = cagr(returns, ppy);
  const dd = drawdown(returns);
  const pos = positionStats(returns, positions);
  const [tradeHitRate, tradeProfitFactor] = tradeStats(input.trades);
  const finalBalance = startingBalance * (1 + totalReturn);
  return {
    candles: n,
    periodsPerYear: ppy,
    totalReturn,
    annualisedReturn,
    finalBalance,
    pnl: finalBalance - startingBalance,
    volatility: annualVolatility(returns, ppy),
    sharpe: sharpe(returns, ppy, rf),
    sortino: sortino(returns, ppy, rf),
    maxDrawdown: dd.maxDrawdown,
    maxDrawdownCandles: dd.maxDrawdownCandles,
    maxDrawdownMs: dd.maxDrawdownCandles * intervalMs,
    longestDrawdownCandles: dd.longestCandles,
    longestDrawdownMs: dd.longestCandles * intervalMs,
    calmar: dd.maxDrawdown < 0 ? annualisedReturn / Math.abs(dd.maxDrawdown) : Number.NaN,
    hitRate: pos.inMarket > 0 ? pos.winningInMarket / pos.inMarket : Number.NaN,
    tradeHitRate,
    profitFactor: currencyProfitFactor(returns, startingBalance),
    tradeProfitFactor,
    exposure: pos.inMarket / n,
    turnover: pos.turnover / n,
    trades: pos.trades,
    averageHoldingCandles: pos.trades > 0 ? pos.inMarket / pos.trades : Number.NaN,
  };
}

export interface BuyAndHoldInput {
  /** Simple return of the asset over each candle (close-to-close or open-to-open, as the backtest uses). */
  readonly returns: Float64Array;
  readonly intervalMs: number;
  readonly startingBalance: number;
  readonly riskFreeRate?: number;
}

/**
 * The benchmark: fully long (+1) on every candle, no costs, through the same computeMetrics, so a strategy
 * and its buy-and-hold are compared on identical definitions. One trade; turnover 1/candles.
 */
export function buyAndHold(input: BuyAndHoldInput): TradingMetrics {
  return computeMetrics({ ...input, positions: new Float64Array(input.returns.length).fill(1) });
}
