/**
 * Trading metrics from a backtest now, from live trading later. A backtest replays candles in one
 * synchronous pass, so it has no signal-to-order latency to report: backtests leave
 * `cryptoml_trading_order_execution_seconds` empty, and live execution calls {@link observeOrderExecution}.
 */
import type { SymbolBacktest } from "../backtest/report.js";
import type { CryptomlMetrics } from "./registry.js";

export interface TradingLabels {
  readonly symbol: string;
  /** The strategy's name (`sign`, `long_only`, `sized`), never a run ID. */
  readonly strategy: string;
}

export interface RecordTradingOptions extends TradingLabels {
  /** One symbol's backtest (an entry of RunBacktest.symbols). */
  readonly report: SymbolBacktest;
}

/** A trading account as the gauges show it; ratios as the backtest metrics define them. */
export interface TradingAccount {
  readonly pnl: number;
  readonly tradeHitRate: number;
  readonly sharpe: number;
  /** Maximum drawdown, either sign (exported as a positive ratio). */
  readonly maxDrawdown: number;
  /** Current drawdown from the peak, 0..1. */
  readonly drawdown: number;
  readonly balance: number;
  /** The position held now (signed fraction of the account). */
  readonly position: number;
  /** Trades to add to the trades counter. */
  readonly trades: number;
}

/**
 * Sets the trading gauges of `labels` from `account` and adds its trades to the trades counter.
 * Drawdowns are exported as positive ratios (0.2 = 20% below the peak). Undefined ratios (no trades: hit
 * rate; a flat equity curve: Sharpe) stay NaN, as the backtest reports them.
 */
export function recordTradingAccount(
  metrics: CryptomlMetrics,
  labels: TradingLabels,
  account: TradingAccount,
): void {
  const l = { symbol: labels.symbol, strategy: labels.strategy };
  metrics.gauge("cryptoml_trading_pnl").set(l, account.pnl);
  metrics.gauge("cryptoml_trading_hit_rate").set(l, account.tradeHitRate);
  metrics.gauge("cryptoml_trading_sharpe_ratio").set(l, account.sharpe);
  metrics.gauge("cryptoml_trading_max_drawdown_ratio").set(l, Math.abs(account.maxDrawdown));
  metrics.gauge("cryptoml_trading_drawdown_ratio").set(l, account.drawdown);
  metrics.gauge("cryptoml_trading_balance").set(l, account.balance);
  metrics.gauge("cryptoml_trading_open_positions").set(l, account.position);
  metrics.counter("cryptoml_trading_trades_total").inc(l, account.trades);
}

/**
 * The trading metrics of one symbol's finished backtest; the open position is the one held over the
 * last candle (the engine liquidates after the period).
 */
export function recordTradingMetrics(metrics: CryptomlMetrics, options: RecordTradingOptions): void {
  const { result, metrics: stats } = options.report;
  recordTradingAccount(metrics, options, {
    pnl: result.finalBalance - result.startingBalance,
    tradeHitRate: stats.tradeHitRate,
    sharpe: stats.sharpe,
    maxDrawdown: stats.maxDrawdown,
    drawdown: currentDrawdown(result.startingBalance, result.candles.equity),
    balance: result.finalBalance,
    position: result.candles.position.at(-1) ?? 0,
    trades: result.trades.length,
  });
}

/** Records one order's signal-to-execution time, in seconds (live trading). */
export function observeOrderExecution(
  metrics: CryptomlMetrics,
  labels: TradingLabels,
  seconds: number,
): void {
  metrics
    .histogram("cryptoml_trading_order_execution_seconds")
    .observe({ symbol: labels.symbol, strategy: labels.strategy }, seconds);
}

/** How far the end of the equity curve is below its running peak (the starting balance included), 0..1. */
export function currentDrawdown(startingBalance: number, equity: Float64Array): number {
  let peak = startingBalance;
  for (const value of equity) if (value > peak) peak = value;
  const last = equity.at(-1) ?? startingBalance;
  return peak > 0 ? Math.max(0, 1 - last / peak) : 0;
}
