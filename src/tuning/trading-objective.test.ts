import { describe, expect, it } from "vitest";
import { computeMetrics, periodsPerYear } from "../backtest/metrics.js";
import { HOUR, hourlySeries, T0 } from "../backtest/testing.js";
import type { CostModel, Prediction } from "../backtest/types.js";
import { CryptomlError } from "../core/errors.js";
import {
  type FoldTrading,
  foldBacktest,
  foldStrategy,
  summariseFolds,
  summaryMetrics,
} from "./trading-objective.js";

const COSTS: CostModel = { feeBps: 10, slippageBps: 5 };
const RATE = 0.0015;

const series = hourlySeries;

const er = (endRow: number, expectedReturn: number): Prediction => ({ endRow, expectedReturn });

const OPENS = [100, 102, 101, 105, 103, 104, 108, 107, 110];
/** Forecasts at the closes of rows 0..6: the positions held on rows 1..7 are their signs. */
const FORECASTS = [
  er(0, 0.02),
  er(1, 0.001),
  er(2, -0.01),
  er(3, 0),
  er(4, -0.003),
  er(5, 0.004),
  er(6, 0.01),
];

/** Net returns of one stretch held from row `first` worked out by hand: next-open moves, 0.15% per side, a final exit. */
function handStretch(
  first: number,
  positions: readonly number[],
): { returns: number[]; positions: number[] } {
  const returns = positions.map((position, k) => {
    const row = first + k;
    const move = (OPENS[row + 1] as number) / (OPENS[row] as number) - 1;
    const previous = k === 0 ? 0 : (positions[k - 1] as number);
    let cost = Math.abs(position - previous) * RATE;
    if (k === positions.length - 1) cost += Math.abs(position) * RATE;
    return position * move - cost;
  });
  return { returns, positions: [...positions] };
}

function joined(...stretches: { returns: number[]; positions: number[] }[]) {
  return {
    returns: Float64Array.from(stretches.flatMap((s) => s.returns)),
    positions: Float64Array.from(stretches.flatMap((s) => s.positions)),
  };
}

/** Rows 1..7 held, positions the forecasts' signs. */
const handNetReturns = () => joined(handStretch(1, [1, 1, -1, 0, -1, 1, 1]));

describe("foldBacktest", () => {
  it("scores a fold with computeMetrics' annualised Sharpe of the hand-computed net returns", () => {
    const fold = foldBacktest({
      series: series(OPENS),
      predictions: FORECASTS,
      strategy: foldStrategy("regression"),
      costs: COSTS,
      fold: 3,
    });
    const hand = handNetReturns();
    const expected = computeMetrics({ ...hand, intervalMs: HOUR, startingBalance: 1 });
    expect(fold.candles).toBe(7);
    expect(fold.fold).toBe(3);
    expect(fold.sharpe).toBeCloseTo(expected.sharpe, 12);
    expect(fold.totalReturn).toBeCloseTo(expected.totalReturn, 12);
    expect(fold.maxDrawdown).toBeCloseTo(expected.maxDrawdown, 12);
    expect(fold.hitRate).toBeCloseTo(expected.hitRate, 12);
    // And the Sharpe ratio from its definition: mean / sample std × √(periods per year).
    const r = Array.from(hand.returns);
    const m = r.reduce((a, b) => a + b, 0) / r.length;
    const sd = Math.sqrt(r.reduce((a, b) => a + (b - m) ** 2, 0) / (r.length - 1));
    expect(fold.sharpe).toBeCloseTo((m / sd) * Math.sqrt(periodsPerYear(HOUR)), 9);
  });

  it("sizes positions by probability when the model only classifies", () => {
    const predictions = FORECASTS.map((p, i) => ({
      endRow: p.endRow,
      probabilityUp: 0.5 + (i % 2 ? 0.3 : -0.2),
    }));
    const fold = foldBacktest({
      series: series(OPENS),
      predictions,
      strategy: foldStrategy("classification"),
      costs: COSTS,
      fold: 0,
    });
    expect(foldStrategy("classification")).toEqual({ kind: "sized", by: "probability", cap: 1 });
    expect(foldStrategy("both")).toEqual({ kind: "sign", threshold: 0 });
    expect(Number.isFinite(fold.sharpe)).toBe(true);
  });

  const fails = (input: Partial<Parameters<typeof foldBacktest>[0]>, message: RegExp) => {
    const run = () =>
      foldBacktest({
        series: series(OPENS),
        predictions: FORECASTS,
        strategy: foldStrategy("regression"),
        costs: COSTS,
        fold: 2,
        ...input,
      });
    expect(run).toThrow(CryptomlError);
    expect(run).toThrow(message);
  };

  it("fails with the symbol and fold when there are too few predictions", () => {
    fails({ predictions: [er(0, 0.01)] }, /BTCUSDT fold 2: 1 out-of-sample prediction\(s\)/);
    fails({ predictions: [] }, /BTCUSDT fold 2: 0 out-of-sample/);
  });

  it("trades each gap-free stretch from flat and scores the stretches' returns together", () => {
    // Row 5 opens two hours after row 4: row 4 cannot be held, rows 1..3 and 5..7 can.
    const times = OPENS.map((_, i) => T0 + (i < 5 ? i : i + 1) * HOUR);
    const fold = foldBacktest({
      series: series(OPENS, times),
      predictions: FORECASTS,
      strategy: foldStrategy("regression"),
      costs: COSTS,
      fold: 1,
    });
    const expected = computeMetrics({
      ...joined(handStretch(1, [1, 1, -1]), handStretch(5, [-1, 1, 1])),
      intervalMs: HOUR,
      startingBalance: 1,
    });
    expect(fold.stretches).toBe(2);
    expect(fold.candles).toBe(6);
    expect(fold.sharpe).toBeCloseTo(expected.sharpe, 12);
    expect(fold.totalReturn).toBeCloseTo(expected.totalReturn, 12);
  });

  it("fails with the symbol and fold when a price of the fold's candles is bad", () => {
    const bad = series(OPENS);
    bad.open[3] = 0;
    fails({ series: bad }, /BTCUSDT fold 2: the backtest cannot run: .*open=0/);
  });

  it("fails when the Sharpe ratio is undefined because the strategy never trades", () => {
    fails(
      { predictions: FORECASTS.map((p) => er(p.endRow, 0)) },
      /BTCUSDT fold 2: the backtest's Sharpe ratio is NaN/,
    );
  });
});

describe("summariseFolds", () => {
  const fold = (sharpe: number, hitRate: number): FoldTrading => ({
    symbol: "BTCUSDT",
    fold: 0,
    sharpe,
    totalReturn: sharpe / 10,
    maxDrawdown: -0.1,
    hitRate,
    candles: 10,
    stretches: 1,
  });

  it("means the folds, leaving an undefined hit rate out, and maps them to tracking metrics", () => {
    const summary = summariseFolds([fold(1, 0.5), fold(2, Number.NaN), fold(-0.5, 0.7)]);
    expect(summary.sharpe).toBeCloseTo(2.5 / 3, 12);
    expect(summary.total_return).toBeCloseTo(0.25 / 3, 12);
    expect(summary.max_drawdown).toBeCloseTo(-0.1, 12);
    expect(summary.hit_rate).toBeCloseTo(0.6, 12);
    expect(summary.folds).toBe(3);
    expect(summaryMetrics(summary).map((m) => m.key)).toEqual([
      "backtest_sharpe",
      "backtest_total_return",
      "backtest_max_drawdown",
      "backtest_hit_rate",
    ]);
    expect(summariseFolds([fold(1, Number.NaN)]).hit_rate).toBeNull();
    expect(summaryMetrics({ ...summary, hit_rate: null }).map((m) => m.key)).not.toContain(
      "backtest_hit_rate",
    );
    expect(summaryMetrics(undefined)).toEqual([]);
  });
});
