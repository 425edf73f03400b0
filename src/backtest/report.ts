/**
 * A backtest of a trained run, per symbol and as a portfolio, and its report (a text table or JSON).
 *
 * Per symbol: `runBacktest` over the candles the predictions decide (from the open after the first
 * prediction's row to the open after the last one's), `computeMetrics` on its net returns, positions and
 * trades, and `buyAndHold` on the same candles' open-to-open returns.
 *
 * Portfolio: equal weight, rebalanced every candle. Its return on a candle is the plain average of the
 * symbols' net returns on candles with the same open time, over the open times every symbol holds (the
 * intersection: a candle missing from one symbol is left out of the portfolio). Its position is the
 * average position; its buy-and-hold the average open-to-open return over the same candles.
 */

import { UsageError } from "../core/errors.js";
import { intervalMs } from "../data/intervals.js";
import { runBacktest } from "./engine.js";
import { buyAndHold, computeMetrics, type TradingMetrics } from "./metrics.js";
import type { SymbolPredictions } from "./predict.js";
import type { BacktestResult, CostModel, StrategySpec } from "./types.js";

export interface SymbolBacktest {
  readonly symbol: string;
  readonly result: BacktestResult;
  readonly metrics: TradingMetrics;
  readonly buyAndHold: TradingMetrics;
  /** Open-to-open returns of the asset over the held candles. */
  readonly assetReturns: Float64Array;
  /** Set when only part of the predictions could be backtested (gaps in the candles). */
  readonly note?: string;
}

export interface PortfolioBacktest {
  readonly symbols: readonly string[];
  readonly time: Float64Array;
  readonly returns: Float64Array;
  readonly metrics: TradingMetrics;
  readonly buyAndHold: TradingMetrics;
}

export interface RunBacktest {
  readonly runDir: string;
  readonly inSample: boolean;
  readonly strategy: StrategySpec;
  readonly costs: CostModel;
  readonly startingBalance: number;
  readonly symbols: readonly SymbolBacktest[];
  readonly portfolio: PortfolioBacktest;
}

export interface BacktestRunOptions {
  readonly runDir: string;
  readonly strategy: StrategySpec;
  readonly costs: CostModel;
  readonly startingBalance: number;
}

/** Backtests each symbol's predictions and the equal-weight portfolio of them. */
export function backtestPredictions(
  all: readonly SymbolPredictions[],
  options: BacktestRunOptions,
): RunBacktest {
  const symbols = all.map((p) => backtestSymbol(p, options));
  const inSample = all.some((p) => p.inSample);
  return {
    runDir: options.runDir,
    inSample,
    strategy: options.strategy,
    costs: options.costs,
    startingBalance: options.startingBalance,
    symbols,
    portfolio: portfolioOf(symbols, options.startingBalance),
  };
}

function stepMs(result: BacktestResult): number {
  const ms = intervalMs(result.interval);
  if (ms === undefined) {
    throw new UsageError(`backtests of ${result.interval} candles are not supported (no fixed length)`);
  }
  return ms;
}

/**
 * Rows `start..end` (inclusive) of the longest gap-free stretch of the candles the predictions decide
 * (row first+1 to row last+1, each held candle needing the next one's open). The engine refuses gaps, and
 * a gap in the test part is common in real data: the backtest covers that stretch and says so.
 */
function longestContiguous(p: SymbolPredictions, step: number): { start: number; end: number } {
  const { series, predictions } = p;
  const first = (predictions[0] as { endRow: number }).endRow + 1;
  const last = Math.min((predictions.at(-1) as { endRow: number }).endRow + 1, series.length - 2);
  let best = { start: first, end: first };
  let start = first;
  for (let row = first; row <= last; row++) {
    const next = row + 1;
    const contiguous = (series.openTime[next] as number) - (series.openTime[row] as number) === step;
    if (!contiguous || row === last) {
      const end = contiguous ? row : row - 1;
      if (end - start > best.end - best.start) best = { start, end };
      start = next;
    }
  }
  return best;
}

function backtestSymbol(p: SymbolPredictions, options: BacktestRunOptions): SymbolBacktest {
  const { series } = p;
  const step = intervalMs(series.interval);
  if (step === undefined) {
    throw new UsageError(`backtests of ${series.interval} candles are not supported (no fixed length)`);
  }
  const span = longestContiguous(p, step);
  const predictions = p.predictions.filter((x) => x.endRow + 1 >= span.start && x.endRow + 1 <= span.end);
  const covered = {
    from: series.openTime[span.start] as number,
    to: (series.openTime[span.end] as number) + 1,
  };
  const note =
    predictions.length < p.predictions.length
      ? `${p.symbol}: backtested the longest gap-free stretch (${predictions.length} of ${p.predictions.length} predictions); the candles have gaps`
      : undefined;
  const result = runBacktest({
    series,
    predictions,
    strategy: options.strategy,
    costs: options.costs,
    startingBalance: options.startingBalance,
    from: covered.from,
    to: covered.to,
    inSample: p.inSample,
  });
  const ms = stepMs(result);
  const metrics = computeMetrics({
    returns: result.candles.netReturn,
    positions: result.candles.position,
    intervalMs: ms,
    startingBalance: options.startingBalance,
    trades: result.trades,
  });
  const n = result.endRow - result.startRow + 1;
  const assetReturns = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const row = result.startRow + k;
    assetReturns[k] = (series.open[row + 1] as number) / (series.open[row] as number) - 1;
  }
  return {
    symbol: p.symbol,
    result,
    metrics,
    buyAndHold: buyAndHold({
      returns: assetReturns,
      intervalMs: ms,
      startingBalance: options.startingBalance,
    }),
    assetReturns,
    ...(note === undefined ? {} : { note }),
  };
}

function portfolioOf(symbols: readonly SymbolBacktest[], startingBalance: number): PortfolioBacktest {
  const maps = symbols.map((s) => {
    const byTime = new Map<number, number>();
    s.result.candles.time.forEach((t, k) => {
      byTime.set(t, k);
    });
    return byTime;
  });
  const firstSymbol = symbols[0];
  if (firstSymbol === undefined) throw new UsageError("no symbol to backtest");
  const times = [...firstSymbol.result.candles.time].filter((t) => maps.every((m) => m.has(t)));
  if (times.length === 0) {
    throw new UsageError("the symbols' backtests share no candle time; no portfolio can be formed", {
      hint: "backtest symbols whose test periods overlap, or one symbol at a time",
    });
  }
  const n = times.length;
  const returns = new Float64Array(n);
  const positions = new Float64Array(n);
  const asset = new Float64Array(n);
  times.forEach((t, i) => {
    let r = 0;
    let pos = 0;
    let a = 0;
    symbols.forEach((s, j) => {
      const k = maps[j]?.get(t) as number;
      r += s.result.candles.netReturn[k] as number;
      pos += s.result.candles.position[k] as number;
      a += s.assetReturns[k] as number;
    });
    returns[i] = r / symbols.length;
    positions[i] = pos / symbols.length;
    asset[i] = a / symbols.length;
  });
  const ms = stepMs(firstSymbol.result);
  return {
    symbols: symbols.map((s) => s.symbol),
    time: Float64Array.from(times),
    returns,
    metrics: computeMetrics({ returns, positions, intervalMs: ms, startingBalance }),
    buyAndHold: buyAndHold({ returns: asset, intervalMs: ms, startingBalance }),
  };
}

/** The columns of the report, in order: [header, value of a row]. */
const COLUMNS: readonly [string, (m: TradingMetrics, b: TradingMetrics) => number, "pct" | "num" | "int"][] =
  [
    ["total return", (m) => m.totalReturn, "pct"],
    ["annualised", (m) => m.annualisedReturn, "pct"],
    ["Sharpe", (m) => m.sharpe, "num"],
    ["Sortino", (m) => m.sortino, "num"],
    ["max DD", (m) => m.maxDrawdown, "pct"],
    ["Calmar", (m) => m.calmar, "num"],
    ["hit rate", (m) => m.hitRate, "pct"],
    ["profit factor", (m) => m.profitFactor, "num"],
    ["exposure", (m) => m.exposure, "pct"],
    ["turnover", (m) => m.turnover, "num"],
    ["trades", (m) => m.trades, "int"],
    ["avg holding", (m) => m.averageHoldingCandles, "num"],
    ["final balance", (m) => m.finalBalance, "num"],
    ["B&H return", (_m, b) => b.totalReturn, "pct"],
    ["B&H Sharpe", (_m, b) => b.sharpe, "num"],
    ["B&H max DD", (_m, b) => b.maxDrawdown, "pct"],
  ];

function formatValue(value: number, kind: "pct" | "num" | "int"): string {
  if (!Number.isFinite(value)) return "n/a";
  if (kind === "pct") return `${(value * 100).toFixed(2)}%`;
  if (kind === "int") return String(Math.round(value));
  return Math.abs(value) >= 1000 ? value.toFixed(0) : value.toFixed(3);
}

function rowsOf(report: RunBacktest): [string, TradingMetrics, TradingMetrics][] {
  return [
    ...report.symbols.map((s): [string, TradingMetrics, TradingMetrics] => [
      s.symbol,
      s.metrics,
      s.buyAndHold,
    ]),
    ["PORTFOLIO", report.portfolio.metrics, report.portfolio.buyAndHold],
  ];
}

function strategyText(strategy: StrategySpec): string {
  if (strategy.kind === "sized") return `sized by ${strategy.by} (cap ${strategy.cap})`;
  return `${strategy.kind} (threshold ${strategy.threshold})`;
}

/** The report as a text table: one row per symbol and the portfolio, the metrics as columns. */
export function formatReport(report: RunBacktest, chartFiles: readonly string[] = []): string {
  const header = ["symbol", ...COLUMNS.map(([name]) => name)];
  const body = rowsOf(report).map(([name, m, b]) => [
    name,
    ...COLUMNS.map(([, get, kind]) => formatValue(get(m, b), kind)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number)))
      .join("  ");
  const sample = report.inSample
    ? "IN-SAMPLE (training part: not evidence of skill)"
    : "out of sample (test part)";
  const first = report.symbols[0]?.result;
  const period =
    first === undefined
      ? ""
      : `, ${new Date(first.candles.time[0] as number).toISOString()} .. ${new Date(first.candles.time.at(-1) as number).toISOString()}`;
  const lines = [
    `backtest of ${report.runDir}: ${sample}${period}`,
    `strategy ${strategyText(report.strategy)}, costs ${report.costs.feeBps} bps fee + ${report.costs.slippageBps} bps slippage per side, starting balance ${report.startingBalance}`,
    "portfolio: equal weight of the symbols' net returns per candle (open times all symbols hold)",
    "",
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...body.map(line),
  ];
  if (report.inSample)
    lines.push("", "IN-SAMPLE: these predictions were made on data the models were trained on.");
  if (chartFiles.length > 0) lines.push("", "charts:", ...chartFiles.map((f) => `  ${f}`));
  return lines.join("\n");
}

/** The metrics a report shows, in order (also those recorded on tracking runs). */
export const REPORTED_METRICS: readonly (keyof TradingMetrics)[] = [
  "candles",
  "totalReturn",
  "annualisedReturn",
  "sharpe",
  "sortino",
  "maxDrawdown",
  "calmar",
  "hitRate",
  "profitFactor",
  "exposure",
  "turnover",
  "trades",
  "averageHoldingCandles",
  "finalBalance",
  "volatility",
];

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

function metricsJson(m: TradingMetrics): Record<string, number | null> {
  return Object.fromEntries(REPORTED_METRICS.map((k) => [k, finite(m[k])]));
}

function buyAndHoldJson(b: TradingMetrics): Record<string, number | null> {
  return { totalReturn: finite(b.totalReturn), sharpe: finite(b.sharpe), maxDrawdown: finite(b.maxDrawdown) };
}

/** The report as a JSON-ready object: the same numbers as the table, NaN as null. */
export function reportJson(report: RunBacktest, chartFiles: readonly string[] = []): Record<string, unknown> {
  return {
    runDir: report.runDir,
    sample: report.inSample ? "IN-SAMPLE" : "out-of-sample",
    inSample: report.inSample,
    strategy: report.strategy,
    costs: report.costs,
    startingBalance: report.startingBalance,
    symbols: report.symbols.map((s) => ({
      symbol: s.symbol,
      from: new Date(s.result.candles.time[0] as number).toISOString(),
      to: new Date(s.result.candles.time.at(-1) as number).toISOString(),
      metrics: metricsJson(s.metrics),
      buyAndHold: buyAndHoldJson(s.buyAndHold),
      ...(s.note === undefined ? {} : { note: s.note }),
    })),
    portfolio: {
      symbols: report.portfolio.symbols,
      weighting: "equal weight of net returns per candle open time held by every symbol",
      metrics: metricsJson(report.portfolio.metrics),
      buyAndHold: buyAndHoldJson(report.portfolio.buyAndHold),
    },
    charts: chartFiles,
  };
}
