/**
 * No look-ahead, as a property: whatever happens after time t (prices of later candles, predictions made
 * at later closes) cannot change positions or equity known at or before t.
 *
 * With a cut at row c (time t = close of row c):
 * - the position on rows <= c+1 was decided at closes <= c, so it must not change;
 * - equity of row i is marked at open[i+1], so rows <= c−1 (marked at or before open[c]) must not change.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocateSeries, CANDLE_VALUE_COLUMNS, type CandleSeries } from "../data/candles.js";
import { runBacktest } from "./engine.js";
import type { CostModel, Prediction, StrategySpec } from "./types.js";

const T0 = Date.UTC(2024, 0, 1);
const HOUR = 3_600_000;

function makeSeries(opens: readonly number[]): CandleSeries {
  const out = allocateSeries("ETHUSDT", "1h", opens.length);
  opens.forEach((open, i) => {
    out.openTime[i] = T0 + i * HOUR;
    out.open[i] = open;
    out.close[i] = opens[i + 1] ?? open;
    out.high[i] = Math.max(open, out.close[i] as number);
    out.low[i] = Math.min(open, out.close[i] as number);
  });
  return out;
}

/** A copy whose rows after `cut` are moved by a common shift and per-row noise, all prices kept > 0. */
function perturbAfter(
  series: CandleSeries,
  cut: number,
  shift: number,
  noise: readonly number[],
  closeOfCut = false,
): CandleSeries {
  const out = allocateSeries(series.symbol, series.interval, series.length);
  out.openTime.set(series.openTime);
  for (const name of CANDLE_VALUE_COLUMNS) out[name].set(series[name]);
  for (let i = cut + 1; i < series.length; i++) {
    const factor = shift * (noise[i % noise.length] ?? 1);
    for (const name of ["open", "high", "low", "close"] as const)
      out[name][i] = (series[name][i] as number) * factor;
  }
  // Everything of candle `cut` after its open: what a strict cut at open[cut] may change.
  if (closeOfCut) {
    for (const name of ["high", "low", "close"] as const)
      out[name][cut] = (series[name][cut] as number) * shift;
  }
  return out;
}

const strategyArb: fc.Arbitrary<StrategySpec> = fc.oneof(
  fc.record({ kind: fc.constant("sign" as const), threshold: fc.double({ min: 0, max: 0.02, noNaN: true }) }),
  fc.record({
    kind: fc.constant("long_only" as const),
    threshold: fc.double({ min: 0, max: 0.02, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant("sized" as const),
    by: fc.constantFrom("probability" as const, "magnitude" as const),
    cap: fc.double({ min: 0.05, max: 1, noNaN: true }),
  }),
);

const costsArb: fc.Arbitrary<CostModel> = fc.record({
  feeBps: fc.double({ min: 0, max: 30, noNaN: true }),
  slippageBps: fc.double({ min: 0, max: 30, noNaN: true }),
});

const predictionArb = fc.record({
  expectedReturn: fc.double({ min: -0.05, max: 0.05, noNaN: true }),
  probabilityUp: fc.double({ min: 0, max: 1, noNaN: true }),
});

const scenarioArb = fc.integer({ min: 3, max: 60 }).chain((n) =>
  fc.record({
    opens: fc.array(fc.double({ min: 1, max: 1000, noNaN: true }), { minLength: n, maxLength: n }),
    // One optional prediction per row (rows without one keep the last position).
    before: fc.array(fc.option(predictionArb), { minLength: n, maxLength: n }),
    after: fc.array(fc.option(predictionArb), { minLength: n, maxLength: n }),
    cut: fc.integer({ min: 0, max: n - 2 }),
    from: fc.integer({ min: 0, max: n - 2 }),
    shift: fc.double({ min: 0.2, max: 5, noNaN: true }),
    noise: fc.array(fc.double({ min: 0.5, max: 2, noNaN: true }), { minLength: 1, maxLength: 8 }),
    strategy: strategyArb,
    costs: costsArb,
  }),
);

function predictions(
  values: readonly ({ expectedReturn: number; probabilityUp: number } | null)[],
): Prediction[] {
  const out: Prediction[] = [];
  values.forEach((value, endRow) => {
    if (value !== null) out.push({ endRow, ...value });
  });
  return out;
}

describe("backtest look-ahead", () => {
  it("changes after the close of row c never move positions on rows <= c+1 or equity on rows <= c-1", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const original = makeSeries(s.opens);
        const base = predictions(s.before);
        // Predictions made at closes after c are replaced, as a model seeing different futures would do.
        const changed = [
          ...base.filter((p) => p.endRow <= s.cut),
          ...predictions(s.after).filter((p) => p.endRow > s.cut),
        ];
        const common = {
          strategy: s.strategy,
          costs: s.costs,
          startingBalance: 1000,
          from: T0 + s.from * HOUR,
        };
        const a = runBacktest({ ...common, series: original, predictions: base });
        const b = runBacktest({
          ...common,
          series: perturbAfter(original, s.cut, s.shift, s.noise),
          predictions: changed,
        });
        expect(b.startRow).toBe(a.startRow);
        for (let row = a.startRow; row <= Math.min(s.cut + 1, a.endRow); row++) {
          const k = row - a.startRow;
          expect(b.candles.position[k]).toBe(a.candles.position[k]);
        }
        for (let row = a.startRow; row <= Math.min(s.cut - 1, a.endRow); row++) {
          const k = row - a.startRow;
          expect(b.candles.equity[k]).toBe(a.candles.equity[k]);
          expect(b.candles.netReturn[k]).toBe(a.candles.netReturn[k]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("changes after the open of row c never move positions on rows <= c or equity on rows <= c-1", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const original = makeSeries(s.opens);
        const base = predictions(s.before);
        // The close of row c moves too, so the prediction made at it may differ.
        const later = predictions(s.after).filter((p) => p.endRow >= s.cut);
        const changed = [...base.filter((p) => p.endRow < s.cut), ...later];
        const common = {
          strategy: s.strategy,
          costs: s.costs,
          startingBalance: 1000,
          from: T0 + s.from * HOUR,
        };
        const a = runBacktest({ ...common, series: original, predictions: base });
        const b = runBacktest({
          ...common,
          series: perturbAfter(original, s.cut, s.shift, s.noise, true),
          predictions: changed,
        });
        for (let row = a.startRow; row <= Math.min(s.cut, a.endRow); row++) {
          expect(b.candles.position[row - a.startRow]).toBe(a.candles.position[row - a.startRow]);
        }
        for (let row = a.startRow; row <= Math.min(s.cut - 1, a.endRow); row++) {
          expect(b.candles.equity[row - a.startRow]).toBe(a.candles.equity[row - a.startRow]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("the prediction at row t alone never moves positions on rows <= t", () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const series = makeSeries(s.opens);
        const base = predictions(s.before);
        const t = s.cut;
        const without = base.filter((p) => p.endRow !== t);
        const withFlip = [
          ...without.filter((p) => p.endRow < t),
          { endRow: t, expectedReturn: 0.05, probabilityUp: 1 },
          ...without.filter((p) => p.endRow > t),
        ];
        const common = { series, strategy: s.strategy, costs: s.costs, startingBalance: 1000 };
        const a = runBacktest({ ...common, predictions: without });
        const b = runBacktest({ ...common, predictions: withFlip });
        for (let k = 0; k <= Math.min(t, a.endRow); k++)
          expect(b.candles.position[k]).toBe(a.candles.position[k]);
      }),
      { numRuns: 300 },
    );
  });
});
