import { describe, expect, it } from "vitest";
import { runBacktest } from "./engine.js";
import { targetPosition } from "./strategies.js";
import { HOUR, hourlySeries, T0 } from "./testing.js";
import type { BacktestOptions, CostModel, Prediction, StrategySpec } from "./types.js";

const series = hourlySeries;

const SIGN: StrategySpec = { kind: "sign", threshold: 0 };
const COSTS: CostModel = { feeBps: 10, slippageBps: 5 }; // 0.15% per side
const FREE: CostModel = { feeBps: 0, slippageBps: 0 };

function run(overrides: Partial<BacktestOptions> & Pick<BacktestOptions, "series" | "predictions">) {
  return runBacktest({ strategy: SIGN, costs: COSTS, startingBalance: 1000, ...overrides });
}

const er = (endRow: number, expectedReturn: number): Prediction => ({ endRow, expectedReturn });

describe("runBacktest: hand-computed cases", () => {
  it("long then flip short then flat, paying fee + slippage per side and two sides on the flip", () => {
    const result = run({
      series: series([100, 110, 99, 99, 120]),
      predictions: [er(0, 0.01), er(1, -0.01), er(2, 0)],
    });
    const c = result.candles;
    expect(Array.from(c.position)).toEqual([0, 1, -1, 0]);
    expect(Array.from(c.time)).toEqual([T0, T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR]);
    expect(c.grossReturn[1]).toBeCloseTo(-0.1, 12);
    expect(Array.from(c.cost)).toEqual([0, 0.0015, 0.003, 0.0015]);
    expect(c.netReturn[1]).toBeCloseTo(-0.1015, 12);
    expect(c.equity[0]).toBe(1000);
    expect(c.equity[1]).toBeCloseTo(898.5, 9);
    expect(c.equity[2]).toBeCloseTo(895.8045, 9);
    expect(c.equity[3]).toBeCloseTo(894.46079325, 9);
    expect(result.finalBalance).toBeCloseTo(894.46079325, 9);
    expect(result.startRow).toBe(0);
    expect(result.endRow).toBe(3);
    expect(result.inSample).toBe(false);

    expect(result.trades).toHaveLength(2);
    const [long, short] = result.trades;
    expect(long).toMatchObject({
      direction: "long",
      entryRow: 1,
      entryPrice: 110,
      exitRow: 2,
      exitPrice: 99,
    });
    expect(long?.entryTime).toBe(T0 + HOUR);
    expect(long?.holdingCandles).toBe(1);
    expect(long?.size).toBe(1);
    expect(long?.pnl).toBeCloseTo(-101.5 - 1.34775, 9);
    expect(short).toMatchObject({
      direction: "short",
      entryRow: 2,
      exitRow: 3,
      exitPrice: 99,
      holdingCandles: 1,
    });
    expect(short?.pnl).toBeCloseTo(-1.34775 - 1.34370675, 9);
    const pnl = result.trades.reduce((sum, t) => sum + t.pnl, 0);
    expect(pnl).toBeCloseTo(result.finalBalance - 1000, 9);
  });

  it("liquidates at the open after the period and books that exit on the last candle", () => {
    const result = run({
      series: series([100, 110, 121]),
      predictions: [er(0, 0.05)],
      strategy: { kind: "long_only", threshold: 0.01 },
    });
    expect(Array.from(result.candles.position)).toEqual([0, 1]);
    expect(result.candles.cost[1]).toBeCloseTo(0.003, 15);
    expect(result.finalBalance).toBeCloseTo(1097, 9);
    expect(result.trades).toEqual([
      expect.objectContaining({
        direction: "long",
        entryRow: 1,
        exitRow: 2,
        exitPrice: 121,
        holdingCandles: 1,
      }),
    ]);
    expect(result.trades[0]?.pnl).toBeCloseTo(97, 9);
  });

  it("holds a position across rows without a prediction and charges nothing while it is unchanged", () => {
    const result = run({
      series: series([100, 100, 110, 121, 121]),
      predictions: [er(0, 0.02)],
      costs: FREE,
    });
    expect(Array.from(result.candles.position)).toEqual([0, 1, 1, 1]);
    expect(Array.from(result.candles.cost)).toEqual([0, 0, 0, 0]);
    expect(result.finalBalance).toBeCloseTo(1210, 9);
    expect(result.trades).toHaveLength(1);
    expect(result.trades[0]?.holdingCandles).toBe(3);
  });

  it("stays flat inside the threshold and earns nothing", () => {
    const result = run({
      series: series([100, 150, 50]),
      predictions: [er(0, 0.004), er(1, -0.004)],
      strategy: { kind: "sign", threshold: 0.005 },
    });
    expect(Array.from(result.candles.position)).toEqual([0, 0]);
    expect(result.finalBalance).toBe(1000);
    expect(result.trades).toEqual([]);
  });

  it("short positions gain when the price falls; fractional sizes scale returns and costs", () => {
    const result = run({
      series: series([100, 100, 80]),
      predictions: [{ endRow: 0, probabilityUp: 0.3 }],
      strategy: { kind: "sized", by: "probability", cap: 1 },
    });
    expect(result.candles.position[1]).toBeCloseTo(-0.4, 15);
    expect(result.candles.grossReturn[1]).toBeCloseTo(0.08, 15);
    expect(result.candles.cost[1]).toBeCloseTo(0.4 * 0.0015 * 2, 15);
    expect(result.finalBalance).toBeCloseTo(1000 * (1 + 0.08 - 0.0012), 9);
    expect(result.trades[0]).toMatchObject({ direction: "short", size: expect.closeTo(0.4, 12) });
  });

  it("labels in-sample runs and restricts to from/to, starting flat", () => {
    const s = series([100, 101, 102, 103, 104, 105]);
    const result = run({
      series: s,
      predictions: [er(0, 1), er(1, 1), er(2, -1), er(3, 1)],
      from: T0 + 2 * HOUR,
      to: T0 + 4 * HOUR,
      inSample: true,
      costs: FREE,
    });
    expect(result.inSample).toBe(true);
    expect(result.startRow).toBe(2);
    expect(result.endRow).toBe(3);
    // Row 2's position comes from the prediction at row 1's close; row 3's from row 2's.
    expect(Array.from(result.candles.position)).toEqual([1, -1]);
    expect(result.finalBalance).toBeCloseTo(1000 * (103 / 102) * (1 - (104 / 103 - 1)), 9);
  });
});

describe("runBacktest: timing", () => {
  it("a prediction at row t never changes positions at rows <= t", () => {
    const s = series([100, 101, 102, 103, 104, 105, 106, 107]);
    for (let t = 0; t < 6; t++) {
      const result = run({ series: s, predictions: [er(t, 0.5)] });
      const positions = Array.from(result.candles.position);
      expect(positions.slice(0, t + 1).every((p) => p === 0)).toBe(true);
      expect(positions[t + 1]).toBe(1);
    }
  });
});

describe("targetPosition", () => {
  it("sizes by probability and magnitude within the cap", () => {
    const byP: StrategySpec = { kind: "sized", by: "probability", cap: 0.5 };
    expect(targetPosition(byP, { endRow: 0, probabilityUp: 0.8 })).toBeCloseTo(0.5, 15);
    expect(targetPosition(byP, { endRow: 0, probabilityUp: 0.6 })).toBeCloseTo(0.2, 15);
    expect(targetPosition(byP, { endRow: 0, probabilityUp: 0.5 })).toBe(0);
    expect(targetPosition({ ...byP, longOnly: true }, { endRow: 0, probabilityUp: 0.3 })).toBe(0);
    const byM: StrategySpec = { kind: "sized", by: "magnitude", cap: 1 };
    expect(targetPosition(byM, er(0, 0.004))).toBeCloseTo(0.4, 15);
    expect(targetPosition(byM, er(0, -0.02))).toBe(-1);
    expect(targetPosition({ ...byM, scale: 10 }, er(0, 0.02))).toBeCloseTo(0.2, 15);
  });

  it("rejects bad specs and missing fields with the value and the rule", () => {
    expect(() => targetPosition({ kind: "sign", threshold: -1 }, er(0, 1))).toThrow(/threshold=-1 must be/);
    expect(() => targetPosition({ kind: "sized", by: "magnitude", cap: 0 }, er(0, 1))).toThrow(
      /cap=0 must be in/,
    );
    expect(() => targetPosition({ kind: "sized", by: "probability", cap: 1.5 }, er(0, 1))).toThrow(/cap=1.5/);
    expect(() => targetPosition({ kind: "sized", by: "magnitude", cap: 1, scale: 0 }, er(0, 1))).toThrow(
      /scale=0/,
    );
    expect(() => targetPosition({ kind: "bogus" } as unknown as StrategySpec, er(0, 1))).toThrow(
      /unknown strategy/,
    );
    expect(() => targetPosition(SIGN, { endRow: 4, probabilityUp: 0.7 })).toThrow(
      /row 4 has expectedReturn=undefined, but strategy sign needs/,
    );
    expect(() =>
      targetPosition({ kind: "sized", by: "probability", cap: 1 }, { endRow: 2, probabilityUp: 1.2 }),
    ).toThrow(/probabilityUp=1.2 outside \[0, 1\]/);
  });
});

describe("runBacktest: bad input", () => {
  it("rejects a prediction outside the series", () => {
    expect(() => run({ series: series([1, 2, 3]), predictions: [er(3, 1)] })).toThrow(
      /prediction 0 has endRow=3, outside the BTCUSDT 1h series \(rows 0\.\.2\)/,
    );
  });

  it("rejects predictions that are not increasing", () => {
    expect(() => run({ series: series([1, 2, 3, 4]), predictions: [er(1, 1), er(1, 1)] })).toThrow(
      /prediction 1 has endRow=1, not after the previous prediction's endRow=1/,
    );
  });

  it("names the first gap inside the period", () => {
    const times = [T0, T0 + HOUR, T0 + 4 * HOUR, T0 + 5 * HOUR];
    expect(() => run({ series: series([1, 2, 3, 4], times), predictions: [] })).toThrow(
      /2 missing candle\(s\) between 2024-01-01T01:00:00.000Z \(row 1\) and 2024-01-01T04:00:00.000Z \(row 2\)/,
    );
    // A gap outside the period is fine.
    expect(() =>
      run({ series: series([1, 2, 3, 4], times), predictions: [], from: T0 + 4 * HOUR }),
    ).not.toThrow();
  });

  it("names the row and time of a zero, negative or NaN price", () => {
    const zero = series([100, 0, 100]);
    zero.close[0] = 100; // only the open is bad
    expect(() => run({ series: zero, predictions: [] })).toThrow(
      /row 1 \(2024-01-01T01:00:00.000Z\) has open=0; prices must be finite and > 0/,
    );
    const nan = series([100, 100, 100]);
    nan.close[0] = Number.NaN;
    expect(() => run({ series: nan, predictions: [] })).toThrow(/row 0 .* has close=NaN/);
    const negative = series([100, 100, 100]);
    negative.open[2] = -5;
    expect(() => run({ series: negative, predictions: [] })).toThrow(/row 2 .* has open=-5/);
  });

  it("rejects an empty period", () => {
    expect(() => run({ series: series([1, 2, 3]), predictions: [], from: T0 + 10 * HOUR })).toThrow(
      /no candle of the BTCUSDT 1h series \(3 rows\) can be held from 2024-01-01T10:00:00.000Z to the end/,
    );
    expect(() => run({ series: series([1]), predictions: [] })).toThrow(/no candle .* can be held/);
  });

  it("rejects bad costs and balances", () => {
    const s = series([1, 2, 3]);
    expect(() => run({ series: s, predictions: [], costs: { feeBps: -1, slippageBps: 0 } })).toThrow(
      /costs.feeBps=-1 must be a finite number >= 0/,
    );
    expect(() => run({ series: s, predictions: [], startingBalance: 0 })).toThrow(/startingBalance=0/);
  });
});
