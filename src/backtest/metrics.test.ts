import { describe, expect, it } from "vitest";
import { CryptomlError } from "../core/errors.js";
import { buyAndHold, computeMetrics, periodsPerYear } from "./metrics.js";
import { downsideDeviation, drawdown, mean, perPeriodRate, sampleStd } from "./metrics-stats.js";

const DAY = 86_400_000;
const f64 = (...values: number[]) => Float64Array.of(...values);

describe("computeMetrics on a hand-computed four-candle series", () => {
  // Daily candles: long +10%, flipped short −20%, short +5%, flat 0. Equity 1.1, 0.88, 0.924, 0.924.
  const m = computeMetrics({
    returns: f64(0.1, -0.2, 0.05, 0),
    positions: f64(1, -1, -1, 0),
    intervalMs: DAY,
    startingBalance: 1000,
    trades: [{ pnl: 10 }, { pnl: -5 }, { pnl: 0 }],
  });
  // mean −0.0125; squared deviations 0.01265625 + 0.03515625 + 0.00390625 + 0.00015625 = 0.051875 over ddof 1.
  const std = Math.sqrt(0.051875 / 3);

  it("compounds the balance", () => {
    expect(m.periodsPerYear).toBe(365.25);
    expect(m.totalReturn).toBeCloseTo(-0.076, 15);
    expect(m.finalBalance).toBeCloseTo(924, 10);
    expect(m.pnl).toBeCloseTo(-76, 10);
    expect(m.annualisedReturn).toBeCloseTo(0.924 ** (365.25 / 4) - 1, 15);
  });

  it("annualises volatility, Sharpe and Sortino by √365.25", () => {
    expect(m.volatility).toBeCloseTo(std * Math.sqrt(365.25), 12);
    expect(m.sharpe).toBeCloseTo((-0.0125 / std) * Math.sqrt(365.25), 12);
    // Downside deviation √(0.2² / 4) = 0.1: averaged over all four candles, not only the losing one.
    expect(m.sortino).toBeCloseTo((-0.0125 / 0.1) * Math.sqrt(365.25), 12);
  });

  it("measures the drawdown from the 1.1 peak and its length", () => {
    expect(m.maxDrawdown).toBeCloseTo(-0.2, 15);
    expect(m.maxDrawdownCandles).toBe(3);
    expect(m.maxDrawdownMs).toBe(3 * DAY);
    expect(m.longestDrawdownCandles).toBe(3);
    expect(m.calmar).toBeCloseTo(m.annualisedReturn / 0.2, 12);
  });

  it("counts position statistics", () => {
    expect(m.hitRate).toBeCloseTo(2 / 3, 15); // +10% and +5% of the three candles in the market
    expect(m.exposure).toBe(0.75);
    expect(m.turnover).toBe(1); // |1−0| + |−1−1| + 0 + |0−(−1)| = 4 over 4 candles
    expect(m.trades).toBe(2); // the long, then the short it flipped into
    expect(m.averageHoldingCandles).toBe(1.5);
    // Currency PnL per candle: +100, −220, +44, 0.
    expect(m.profitFactor).toBeCloseTo(144 / 220, 15);
  });

  it("reads hit rate and profit factor of the given trades", () => {
    expect(m.tradeHitRate).toBeCloseTo(1 / 3, 15);
    expect(m.tradeProfitFactor).toBe(2);
  });
});

describe("computeMetrics edge cases", () => {
  it("is NaN, not 0, where a ratio is undefined: never in the market", () => {
    const m = computeMetrics({
      returns: f64(0, 0, 0),
      positions: f64(0, 0, 0),
      intervalMs: DAY,
      startingBalance: 1,
    });
    expect(m.totalReturn).toBe(0);
    expect(m.annualisedReturn).toBe(0);
    expect(m.sharpe).toBeNaN();
    expect(m.sortino).toBeNaN();
    expect(m.maxDrawdown).toBe(0);
    expect(m.calmar).toBeNaN();
    expect(m.hitRate).toBeNaN();
    expect(m.profitFactor).toBeNaN();
    expect(m.trades).toBe(0);
    expect(m.averageHoldingCandles).toBeNaN();
    expect(m.exposure).toBe(0);
    expect(m.turnover).toBe(0);
    expect(m.tradeHitRate).toBeNaN();
  });

  it("gives profit factor Infinity and Sortino NaN when nothing lost", () => {
    const m = computeMetrics({
      returns: f64(0.01, 0.02),
      positions: f64(1, 1),
      intervalMs: DAY,
      startingBalance: 1,
    });
    expect(m.profitFactor).toBe(Number.POSITIVE_INFINITY);
    expect(m.sortino).toBeNaN();
    expect(m.calmar).toBeNaN();
    expect(Number.isFinite(m.sharpe)).toBe(true);
    expect(
      computeMetrics({
        returns: f64(0.1),
        positions: f64(1),
        intervalMs: DAY,
        startingBalance: 1,
        trades: [{ pnl: 3 }],
      }).tradeProfitFactor,
    ).toBe(Number.POSITIVE_INFINITY);
  });

  it("gives Sharpe NaN for a constant series, however the mean rounds", () => {
    const m = computeMetrics({
      returns: f64(0.01, 0.01, 0.01),
      positions: f64(1, 1, 1),
      intervalMs: DAY,
      startingBalance: 1,
    });
    expect(sampleStd(f64(0.01, 0.01, 0.01))).toBe(0);
    expect(m.sharpe).toBeNaN();
    expect(m.volatility).toBe(0);
  });

  it("counts a loss on the first candle as a drawdown from the starting balance", () => {
    expect(drawdown(f64(-0.1, 0.05)).maxDrawdown).toBeCloseTo(-0.1, 15);
  });

  it("tells the deepest drawdown's length from the longest one", () => {
    // −5% (1 candle, recovered), three −1% (3 candles, recovered by +5%), then −30% to the end.
    const dd = drawdown(f64(-0.05, 0.06, -0.01, -0.01, -0.01, 0.05, -0.3));
    expect(dd.longestCandles).toBe(3);
    expect(dd.maxDrawdownCandles).toBe(1);
    expect(dd.maxDrawdown).toBeCloseTo(-0.3, 15);
  });

  it("treats resizing in one direction as one trade", () => {
    const m = computeMetrics({
      returns: f64(0, 0, 0, 0, 0),
      positions: f64(0.5, 1, 0.2, 0, -0.3),
      intervalMs: DAY,
      startingBalance: 1,
    });
    expect(m.trades).toBe(2);
    expect(m.turnover).toBeCloseTo(2.3 / 5, 15);
    expect(m.averageHoldingCandles).toBe(2);
  });

  it("subtracts a compounded per-candle risk-free rate", () => {
    const rf = perPeriodRate(0.05, 365.25);
    expect((1 + rf) ** 365.25).toBeCloseTo(1.05, 12);
    const returns = f64(0.01, -0.02, 0.03);
    const m = computeMetrics({
      returns,
      positions: f64(1, 1, 1),
      intervalMs: DAY,
      startingBalance: 1,
      riskFreeRate: 0.05,
    });
    const excess = returns.map((r) => r - rf);
    const average = mean(excess);
    expect(m.sharpe).toBeCloseTo((average / sampleStd(excess)) * Math.sqrt(365.25), 12);
    expect(m.sortino).toBeCloseTo((average / downsideDeviation(returns, rf)) * Math.sqrt(365.25), 12);
  });

  it("rejects inputs it cannot measure, naming the value", () => {
    const ok = { returns: f64(0.1), positions: f64(1), intervalMs: DAY, startingBalance: 1 };
    expect(() => computeMetrics({ ...ok, returns: f64(), positions: f64() })).toThrow(/returns is empty/);
    expect(() => computeMetrics({ ...ok, positions: f64(1, 1) })).toThrow(
      /positions.length=2 must equal returns.length=1/,
    );
    expect(() => computeMetrics({ ...ok, positions: f64(1.5) })).toThrow(
      /positions\[0\]=1.5 must be in \[-1, 1\]/,
    );
    expect(() => computeMetrics({ ...ok, returns: f64(Number.NaN) })).toThrow(
      /returns\[0\]=NaN must be finite/,
    );
    expect(() => computeMetrics({ ...ok, intervalMs: 0 })).toThrow(/intervalMs=0/);
    expect(() => computeMetrics({ ...ok, startingBalance: -1 })).toThrow(CryptomlError);
  });
});

describe("buyAndHold", () => {
  it("is computeMetrics fully long, with one trade", () => {
    const returns = f64(0.02, -0.01, 0.03, -0.04);
    const bh = buyAndHold({ returns, intervalMs: 5 * 60_000, startingBalance: 100 });
    expect(bh).toEqual(
      computeMetrics({ returns, positions: f64(1, 1, 1, 1), intervalMs: 5 * 60_000, startingBalance: 100 }),
    );
    expect(bh.trades).toBe(1);
    expect(bh.exposure).toBe(1);
    expect(bh.turnover).toBe(0.25);
    expect(bh.periodsPerYear).toBe(105_192);
    expect(periodsPerYear(3_600_000)).toBe(8766);
  });
});
