/**
 * The trading side of `cryptoml tune --objective sharpe`: a fold's fitted model predicts the fold's
 * out-of-sample block, those predictions are backtested exactly as `cryptoml backtest` would (positions
 * at the next open, fees and slippage per side), and the fold is scored by its annualised Sharpe ratio.
 */
import { runBacktest } from "../backtest/engine.js";
import { computeMetrics } from "../backtest/metrics.js";
import { modelPredictions } from "../backtest/predict.js";
import type { BacktestResult, CostModel, Prediction, StrategySpec, Trade } from "../backtest/types.js";
import { CryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import { intervalMs } from "../data/intervals.js";
import type { BatchSource } from "../datasets/windows.js";
import { Rng } from "../engine/random.js";
import { type HeadKind, type ModelDefinition, outputColumns } from "../models/definition.js";
import { createModel, loadWeights, type NamedWeights } from "../models/registry.js";

/** The trading costs of the objective's backtests by default: 10 bps fee and 5 bps slippage per side. */
export const DEFAULT_TUNING_COSTS: CostModel = { feeBps: 10, slippageBps: 5 };

/** One fold's backtest figures (each annualised or compounded as computeMetrics defines it). */
export interface FoldTrading {
  readonly symbol: string;
  readonly fold: number;
  readonly sharpe: number;
  readonly totalReturn: number;
  readonly maxDrawdown: number;
  /** NaN when the strategy never held a position. */
  readonly hitRate: number;
  /** Candles held in the backtest. */
  readonly candles: number;
  /** Gap-free stretches the candles were traded in (1 when the fold's candles have no gap). */
  readonly stretches: number;
}

/**
 * A fold's backtest as an account starting at 1 lived it (the stretches compounded in order): what the
 * trading gauges of `cryptoml tune` show, so `pnl` is the fold's return and `finalBalance` 1 + it.
 */
export interface FoldAccount {
  readonly startingBalance: 1;
  readonly finalBalance: number;
  readonly pnl: number;
  /** Share of the fold's trades that made money; NaN when it made no trade. */
  readonly tradeHitRate: number;
  /** Trades (position changes) over all the fold's stretches. */
  readonly trades: number;
  /** The position held over the fold's last candle, in [−1, 1]. */
  readonly position: number;
  /** How far the final balance is below its running peak (1 included), 0..1. */
  readonly drawdown: number;
}

/** What {@link foldBacktest} returns: the fold's score and its account. */
export interface FoldBacktestResult extends FoldTrading {
  readonly account: FoldAccount;
}

/**
 * The strategy a fold is traded with: the sign of the forecast return (threshold 0) when the model
 * forecasts returns, else a position sized by the probability of a rise (2p − 1, capped at 1).
 */
export function foldStrategy(head: HeadKind): StrategySpec {
  return outputColumns(head).includes("return")
    ? { kind: "sign", threshold: 0 }
    : { kind: "sized", by: "probability", cap: 1 };
}

/**
 * The fitted model's predictions for `indices` of `source`, in endRow order, as the backtester takes
 * them: the return column scaled back to a log return, the logit turned into a probability.
 */
export function predictFold(
  definition: ModelDefinition,
  weights: readonly NamedWeights[],
  source: BatchSource,
  indices: Int32Array,
): Prediction[] {
  const model = createModel(definition, new Rng(0));
  loadWeights(model, weights);
  return modelPredictions(model, source, indices);
}

export interface FoldBacktestInput {
  readonly series: CandleSeries;
  /** Sorted by endRow: the fold's out-of-sample predictions. */
  readonly predictions: readonly Prediction[];
  readonly strategy: StrategySpec;
  readonly costs: CostModel;
  /** Which fold this is, for the figures and for error messages. */
  readonly fold: number;
}

function foldError(series: CandleSeries, fold: number, problem: string, hint: string): CryptomlError {
  return new CryptomlError("DATASET", `${series.symbol} fold ${fold}: ${problem}`, { hint });
}

/** Held rows `start..end` (inclusive) with every next candle present, and the predictions deciding them. */
interface Stretch {
  readonly start: number;
  readonly end: number;
  readonly predictions: readonly Prediction[];
}

/**
 * The gap-free stretches of the rows the predictions decide (the row after the first prediction's to the
 * row after the last one's), each with its predictions; stretches no prediction decides are left out.
 */
export function gapFreeStretches(
  series: CandleSeries,
  predictions: readonly Prediction[],
  step: number,
): Stretch[] {
  const first = (predictions[0] as Prediction).endRow + 1;
  const last = Math.min((predictions.at(-1) as Prediction).endRow + 1, series.length - 2);
  const spans: { start: number; end: number }[] = [];
  let start = first;
  for (let row = first; row <= last; row++) {
    const contiguous = (series.openTime[row + 1] as number) - (series.openTime[row] as number) === step;
    if (!contiguous) {
      if (row > start) spans.push({ start, end: row - 1 });
      start = row + 1;
    } else if (row === last) spans.push({ start, end: row });
  }
  const stretches: Stretch[] = [];
  for (const span of spans) {
    const inside = predictions.filter((p) => p.endRow + 1 >= span.start && p.endRow + 1 <= span.end);
    const decided = inside[0];
    // Before its first prediction a stretch would sit flat: those candles say nothing of the model.
    if (decided !== undefined)
      stretches.push({ start: decided.endRow + 1, end: span.end, predictions: inside });
  }
  return stretches;
}

/**
 * Backtests one fold's predictions and scores it. The candles they decide (the open after the first
 * prediction's row to the open after the last one's) are traded with `runBacktest`, one run per gap-free
 * stretch: no price is known inside a gap of the candles, so the account is flattened at the last open
 * before it and starts flat after it. The stretches' net returns, in order, make the fold's series.
 *
 * @throws CryptomlError DATASET naming the symbol and fold when the backtest cannot run (fewer than two
 *   predictions, a bad price in the fold's candles) or its Sharpe ratio is not finite (the strategy
 *   stayed flat, so its returns have no spread).
 */
export function foldBacktest(input: FoldBacktestInput): FoldBacktestResult {
  const { series, predictions, fold } = input;
  if (predictions.length < 2) {
    throw foldError(
      series,
      fold,
      `${predictions.length} out-of-sample prediction(s); a Sharpe ratio needs at least 2`,
      "raise dataset.walk_forward.test_size or lower dataset.walk_forward.folds",
    );
  }
  const step = intervalMs(series.interval);
  if (step === undefined) {
    throw foldError(
      series,
      fold,
      `${series.interval} candles have no fixed length`,
      "tune on 1m..1d candles",
    );
  }
  const stretches = gapFreeStretches(series, predictions, step);
  const returns: number[] = [];
  const positions: number[] = [];
  const trades: Trade[] = [];
  for (const stretch of stretches) {
    const result = backtestStretch(input, stretch);
    returns.push(...result.candles.netReturn);
    positions.push(...result.candles.position);
    trades.push(...result.trades);
  }
  if (returns.length === 0) {
    throw foldError(
      series,
      fold,
      "no candle can be held: gaps separate every prediction",
      "load data without gaps",
    );
  }
  const metrics = computeMetrics({
    returns: Float64Array.from(returns),
    positions: Float64Array.from(positions),
    intervalMs: step,
    startingBalance: 1,
    trades,
  });
  if (!Number.isFinite(metrics.sharpe)) {
    throw foldError(
      series,
      fold,
      `the backtest's Sharpe ratio is ${metrics.sharpe} over ${metrics.candles} candles (exposure ${metrics.exposure})`,
      "a strategy that never trades has no Sharpe ratio; such a trial is FAIL, the study goes on",
    );
  }
  return {
    symbol: series.symbol,
    fold,
    sharpe: metrics.sharpe,
    totalReturn: metrics.totalReturn,
    maxDrawdown: metrics.maxDrawdown,
    hitRate: metrics.hitRate,
    candles: metrics.candles,
    stretches: stretches.length,
    account: {
      startingBalance: 1,
      finalBalance: metrics.finalBalance,
      pnl: metrics.pnl,
      tradeHitRate: metrics.tradeHitRate,
      trades: trades.length,
      position: positions.at(-1) ?? 0,
      drawdown: finalDrawdown(returns),
    },
  };
}

/** 1 − final equity / running peak of an account starting at 1 and compounding `returns`. */
function finalDrawdown(returns: readonly number[]): number {
  let equity = 1;
  let peak = 1;
  for (const r of returns) {
    equity *= 1 + r;
    if (equity > peak) peak = equity;
  }
  return peak > 0 ? Math.max(0, 1 - equity / peak) : 0;
}

function backtestStretch(input: FoldBacktestInput, stretch: Stretch): BacktestResult {
  const { series } = input;
  try {
    return runBacktest({
      series,
      predictions: stretch.predictions,
      strategy: input.strategy,
      costs: input.costs,
      startingBalance: 1,
      from: series.openTime[stretch.start] as number,
      to: (series.openTime[stretch.end] as number) + 1,
    });
  } catch (error) {
    const hint = error instanceof CryptomlError && error.hint !== undefined ? error.hint : "";
    throw foldError(series, input.fold, `the backtest cannot run: ${(error as Error).message}`, hint);
  }
}

/** The per-fold means a trial records (non-finite means, e.g. a hit rate never defined, become null). */
export interface TradingSummary {
  readonly sharpe: number | null;
  readonly total_return: number | null;
  readonly max_drawdown: number | null;
  readonly hit_rate: number | null;
  readonly folds: number;
}

/** The trial user attribute holding its {@link TradingSummary}. */
export const BACKTEST_ATTR = "backtest";

function meanOf(values: readonly number[]): number | null {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return null;
  return finite.reduce((a, b) => a + b, 0) / finite.length;
}

/** Means over the folds; a hit rate is averaged over the folds that held a position. */
export function summariseFolds(folds: readonly FoldTrading[]): TradingSummary {
  return {
    sharpe: meanOf(folds.map((f) => f.sharpe)),
    total_return: meanOf(folds.map((f) => f.totalReturn)),
    max_drawdown: meanOf(folds.map((f) => f.maxDrawdown)),
    hit_rate: meanOf(folds.map((f) => f.hitRate)),
    folds: folds.length,
  };
}

/** A summary as tracking metrics (`backtest_sharpe`, …), the undefined ones left out. */
export function summaryMetrics(summary: unknown): { key: string; value: number }[] {
  if (summary === null || typeof summary !== "object") return [];
  return Object.entries(summary as Record<string, unknown>)
    .filter(([key, value]) => key !== "folds" && typeof value === "number" && Number.isFinite(value))
    .map(([key, value]) => ({ key: `backtest_${key}`, value: value as number }));
}
