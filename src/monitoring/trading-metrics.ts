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

/**
 * Sets the trading gauges of `symbol`/`strategy` from a finished backtest and adds its trades to the
 * trades counter. Drawdowns are exported as positive ratios (0.2 = 20% below the peak); the open position
 * is the one held over the last candle (the engine liquidates after the period). Undefined ratios (no
 * trades: hit rate; a flat equity curve: Sharpe) stay NaN, as the backtest reports them.
 */
export function recordTradingMetrics(metrics: CryptomlMetrics, options: RecordTradingOptions): void {
  const labels = { symbol: options.symbol, strategy: options.strategy };
  const { result, metrics: stats } = options.report;
  metrics.gauge("cryptoml_trading_pnl").set(labels, result.finalBalance - result.startingBalance);
  metrics.gauge("cryptoml_trading_hit_rate").set(labels, stats.tradeHitRate);
  metrics.gauge("cryptoml_trading_sharpe_ratio").set(labels, stats.sharpe);
  metrics.gauge("cryptoml_trading_max_drawdown_ratio").set(labels, Math.abs(stats.maxDrawdown));
  metrics
    .gauge("cryptoml_trading_drawdown_ratio")
    .set(labels, currentDrawdown(result.startingBalance, result.candles.equity));
  metrics.gauge("cryptoml_trading_balance").set(labels, result.finalBalance);
  metrics.gauge("cryptoml_trading_open_positions").set(labels, result.candles.position.at(-1) ?? 0);
  metrics.counter("cryptoml_trading_trades_total").inc(labels, result.trades.length);
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
