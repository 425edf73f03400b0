import { describe, expect, it } from "vitest";
import { runBacktest } from "../backtest/engine.js";
import { computeMetrics } from "../backtest/metrics.js";
import type { SymbolBacktest } from "../backtest/report.js";
import { allocateSeries, type CandleSeries } from "../data/candles.js";
import { type CryptomlMetrics, createMetricsRegistry } from "./registry.js";
import { currentDrawdown, observeOrderExecution, recordTradingMetrics } from "./trading-metrics.js";

const HOUR = 3_600_000;
const LABELS = 'symbol="BTCUSDT",strategy="sign"';

function series(opens: readonly number[]): CandleSeries {
  const out = allocateSeries("BTCUSDT", "1h", opens.length);
  opens.forEach((open, i) => {
    out.openTime[i] = Date.UTC(2024, 0, 1) + i * HOUR;
    out.open[i] = open;
    out.close[i] = opens[i + 1] ?? open;
    out.high[i] = Math.max(open, out.close[i] as number);
    out.low[i] = Math.min(open, out.close[i] as number);
  });
  return out;
}

/** Long over +10%, +10%, −10%, then flat: equity 1000 → 1100 → 1210 → 1089, one trade, no costs. */
function backtest(): SymbolBacktest {
  const result = runBacktest({
    series: series([100, 100, 110, 121, 108.9, 108.9]),
    predictions: [0, 1, 2, 3].map((endRow) => ({ endRow, expectedReturn: endRow < 3 ? 0.01 : 0 })),
    strategy: { kind: "sign", threshold: 0 },
    costs: { feeBps: 0, slippageBps: 0 },
    startingBalance: 1000,
  });
  const metrics = computeMetrics({
    returns: result.candles.netReturn,
    positions: result.candles.position,
    intervalMs: HOUR,
    startingBalance: 1000,
    trades: result.trades,
  });
  return { symbol: "BTCUSDT", result, metrics, buyAndHold: metrics, assetReturns: new Float64Array() };
}

async function sample(metrics: CryptomlMetrics, name: string): Promise<number | undefined> {
  const { body } = await metrics.exposition();
  const prefix = `${name}{${LABELS}} `;
  const line = body.split("\n").find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

describe("recordTradingMetrics", () => {
  it("fills the trading gauges and the trades counter from one symbol's backtest", async () => {
    const metrics = createMetricsRegistry({ command: "backtest", version: "0", defaultMetrics: false });
    const report = backtest();
    recordTradingMetrics(metrics, { symbol: "BTCUSDT", strategy: "sign", report });
    expect(await sample(metrics, "cryptoml_trading_pnl")).toBeCloseTo(89, 9);
    expect(await sample(metrics, "cryptoml_trading_balance")).toBeCloseTo(1089, 9);
    expect(await sample(metrics, "cryptoml_trading_max_drawdown_ratio")).toBeCloseTo(0.1, 9);
    expect(await sample(metrics, "cryptoml_trading_drawdown_ratio")).toBeCloseTo(0.1, 9);
    expect(await sample(metrics, "cryptoml_trading_hit_rate")).toBe(1);
    expect(await sample(metrics, "cryptoml_trading_sharpe_ratio")).toBeCloseTo(report.metrics.sharpe, 9);
    expect(await sample(metrics, "cryptoml_trading_open_positions")).toBe(0);
    expect(await sample(metrics, "cryptoml_trading_trades_total")).toBe(1);
    // Backtests have no execution latency to report.
    expect(await sample(metrics, "cryptoml_trading_order_execution_seconds_count")).toBeUndefined();
  });

  it("observes live order execution times in the histogram", async () => {
    const metrics = createMetricsRegistry({ command: "trade", version: "0", defaultMetrics: false });
    observeOrderExecution(metrics, { symbol: "BTCUSDT", strategy: "sign" }, 0.003);
    const { body } = await metrics.exposition();
    expect(body).toContain(`cryptoml_trading_order_execution_seconds_bucket{le="0.001",${LABELS}} 0`);
    expect(body).toContain(`cryptoml_trading_order_execution_seconds_bucket{le="0.005",${LABELS}} 1`);
    expect(body).toContain(`cryptoml_trading_order_execution_seconds_count{${LABELS}} 1`);
  });
});

describe("currentDrawdown", () => {
  it("measures the end of the curve against its running peak, the start included", () => {
    expect(currentDrawdown(100, Float64Array.from([90, 80]))).toBeCloseTo(0.2, 12);
    expect(currentDrawdown(100, Float64Array.from([120, 90, 120]))).toBe(0);
    expect(currentDrawdown(100, new Float64Array())).toBe(0);
  });
});
