/**
 * The backtest engine: predictions → positions → per-candle returns after costs → equity and trades.
 *
 * Conventions (each one is what keeps the result free of look-ahead or makes it reproducible by hand):
 * - Timing: the prediction made at the close of row t decides the position entered at open[t+1]; it is
 *   held until a later decision changes it. Rows without a prediction keep the last position.
 * - Returns are open-to-open: the position held over [open[i], open[i+1]) earns open[i+1]/open[i] − 1.
 *   So row i can be held only when row i+1 exists, and the series' last row is never held.
 * - Positions are fractions of the account value, in [−1, 1]; costs are fractions of the account value at
 *   the open where the position changes: |Δposition| × (feeBps + slippageBps) / 10⁴. A flip from +1 to −1
 *   pays both sides (|Δ| = 2). The account starts flat and is liquidated at the open after the period,
 *   that exit's cost being booked on the last candle, so `finalBalance` is cash.
 * - Equity compounds: equity[i] = equity[i−1] × (1 + grossReturn − cost).
 */

import { UsageError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import { missingBetween, nextOpenTime } from "../data/intervals.js";
import { isoTime } from "../datasets/times.js";
import { targetPosition, validateStrategy } from "./strategies.js";
import {
  type BacktestCandles,
  BacktestInputError,
  type BacktestOptions,
  type BacktestResult,
  type CostModel,
  type Prediction,
  type StrategySpec,
  type Trade,
} from "./types.js";

/** Rows `start..end−1` are held; row `end` is the exit (its open marks the last held candle). */
interface Period {
  readonly start: number;
  readonly end: number;
}

/** Runs one backtest; throws BacktestInputError on misaligned predictions, gaps, bad prices or an empty period. */
export function runBacktest(options: BacktestOptions): BacktestResult {
  const { series, predictions, strategy, costs, startingBalance } = options;
  validateStrategy(strategy);
  validateCosts(costs);
  if (!Number.isFinite(startingBalance) || startingBalance <= 0) {
    throw new UsageError(`startingBalance=${startingBalance} must be a finite number > 0`);
  }
  validatePredictions(predictions, series);
  const period = resolvePeriod(series, options.from, options.to);
  validateCandles(series, period);
  const positions = decidePositions(predictions, strategy, period);
  const candles = account(series, period, positions, costs, startingBalance);
  const trades = collectTrades(series, period, candles, costs, startingBalance);
  const n = positions.length;
  return {
    symbol: series.symbol,
    interval: series.interval,
    strategy,
    costs,
    inSample: options.inSample ?? false,
    startRow: period.start,
    endRow: period.end - 1,
    startingBalance,
    finalBalance: candles.equity[n - 1] ?? startingBalance,
    candles,
    trades,
  };
}

function validateCosts(costs: CostModel): void {
  for (const key of ["feeBps", "slippageBps"] as const) {
    const value = costs[key];
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new UsageError(`costs.${key}=${String(value)} must be a finite number >= 0`, {
        hint: "costs are basis points per side: 10 bps = 0.1%",
      });
    }
  }
}

function validatePredictions(predictions: readonly Prediction[], series: CandleSeries): void {
  let previous = -1;
  predictions.forEach((prediction, index) => {
    const row = prediction.endRow;
    if (!Number.isInteger(row) || row < 0 || row >= series.length) {
      throw new BacktestInputError(
        `prediction ${index} has endRow=${row}, outside the ${series.symbol} ${series.interval} series (rows 0..${series.length - 1})`,
        {
          hint: "predictions must be made on samples of this same series; check the symbol, interval and period",
        },
      );
    }
    if (row <= previous) {
      throw new BacktestInputError(
        `prediction ${index} has endRow=${row}, not after the previous prediction's endRow=${previous}`,
        { hint: "sort predictions by endRow and keep one per row" },
      );
    }
    previous = row;
  });
}

function resolvePeriod(series: CandleSeries, from: number | undefined, to: number | undefined): Period {
  for (const [name, value] of [
    ["from", from],
    ["to", to],
  ] as const) {
    if (value !== undefined && !Number.isFinite(value)) {
      throw new UsageError(`${name}=${value} must be a finite UTC epoch-ms time`);
    }
  }
  const { openTime, length } = series;
  let start = 0;
  while (start < length && from !== undefined && (openTime[start] as number) < from) start++;
  // The last held row needs a next row whose open marks its return.
  let end = start;
  while (end + 1 < length && (to === undefined || (openTime[end] as number) < to)) end++;
  if (end <= start) {
    const span = `${from === undefined ? "the start" : isoTime(from)} to ${to === undefined ? "the end" : isoTime(to)}`;
    throw new BacktestInputError(
      `no candle of the ${series.symbol} ${series.interval} series (${length} rows) can be held from ${span}`,
      { hint: "a held candle needs the next candle's open; widen --from/--to or load more data" },
    );
  }
  return { start, end };
}

function checkPrice(series: CandleSeries, column: "open" | "close", row: number): void {
  const value = series[column][row] as number;
  if (!Number.isFinite(value) || value <= 0) {
    throw new BacktestInputError(
      `${series.symbol} ${series.interval} row ${row} (${isoTime(series.openTime[row] as number)}) has ${column}=${value}; prices must be finite and > 0`,
      { hint: "re-import the candles (cryptoml data import) or choose a period without the bad row" },
    );
  }
}

function validateCandles(series: CandleSeries, { start, end }: Period): void {
  for (let i = start; i <= end; i++) {
    checkPrice(series, "open", i);
    if (i < end) checkPrice(series, "close", i);
  }
  for (let i = start; i < end; i++) {
    const here = series.openTime[i] as number;
    const next = series.openTime[i + 1] as number;
    if (next !== nextOpenTime(series.interval, here)) {
      throw new BacktestInputError(
        `${series.symbol} ${series.interval} has ${missingBetween(series.interval, here, next)} missing candle(s) between ${isoTime(here)} (row ${i}) and ${isoTime(next)} (row ${i + 1}) inside the backtested period`,
        {
          hint: "fill the gap (cryptoml data download) or backtest a period on one side of it with --from/--to",
        },
      );
    }
  }
}

/** Position held on each row of the period, from the prediction at the previous row's close. */
function decidePositions(
  predictions: readonly Prediction[],
  strategy: StrategySpec,
  { start, end }: Period,
): Float64Array {
  const positions = new Float64Array(end - start);
  let current = 0;
  let p = 0;
  // Decisions made before the period are ignored: the account starts flat at open[start].
  while (p < predictions.length && (predictions[p] as Prediction).endRow + 1 < start) p++;
  for (let row = start; row < end; row++) {
    const prediction = predictions[p];
    if (prediction !== undefined && prediction.endRow + 1 === row) {
      current = targetPosition(strategy, prediction);
      p++;
    }
    positions[row - start] = current;
  }
  return positions;
}

function costRate(costs: CostModel): number {
  return (costs.feeBps + costs.slippageBps) / 10_000;
}

function account(
  series: CandleSeries,
  { start, end }: Period,
  positions: Float64Array,
  costs: CostModel,
  startingBalance: number,
): BacktestCandles {
  const n = end - start;
  const out = {
    time: series.openTime.slice(start, end),
    position: positions,
    grossReturn: new Float64Array(n),
    cost: new Float64Array(n),
    netReturn: new Float64Array(n),
    equity: new Float64Array(n),
  };
  const rate = costRate(costs);
  let previous = 0;
  let equity = startingBalance;
  for (let k = 0; k < n; k++) {
    const row = start + k;
    const position = positions[k] as number;
    const move = (series.open[row + 1] as number) / (series.open[row] as number) - 1;
    const gross = position * move;
    let cost = Math.abs(position - previous) * rate;
    if (k === n - 1) cost += Math.abs(position) * rate;
    out.grossReturn[k] = gross;
    out.cost[k] = cost;
    out.netReturn[k] = gross - cost;
    equity *= 1 + gross - cost;
    out.equity[k] = equity;
    previous = position;
  }
  return out;
}

interface OpenTrade {
  direction: "long" | "short";
  entryRow: number;
  sumSize: number;
  candles: number;
  pnl: number;
}

/**
 * Splits the held positions into trades of one direction. A flip's cost is shared: the closing side
 * (|old position| × rate) goes to the trade that ends, the rest to the one that begins, so the trades'
 * pnl adds up to the account's change over the period.
 */
function collectTrades(
  series: CandleSeries,
  { start, end }: Period,
  candles: BacktestCandles,
  costs: CostModel,
  startingBalance: number,
): Trade[] {
  const rate = costRate(costs);
  const equityAtOpen = (k: number) => (k === 0 ? startingBalance : (candles.equity[k - 1] as number));
  const trades: Trade[] = [];
  let open: OpenTrade | undefined;
  const close = (trade: OpenTrade, exitRow: number) => {
    trades.push({
      direction: trade.direction,
      entryRow: trade.entryRow,
      entryTime: series.openTime[trade.entryRow] as number,
      entryPrice: series.open[trade.entryRow] as number,
      exitRow,
      exitTime: series.openTime[exitRow] as number,
      exitPrice: series.open[exitRow] as number,
      size: trade.sumSize / trade.candles,
      pnl: trade.pnl,
      holdingCandles: exitRow - trade.entryRow,
    });
  };
  let previous = 0;
  for (let k = 0; k < end - start; k++) {
    const row = start + k;
    const position = candles.position[k] as number;
    const base = equityAtOpen(k);
    const changed = Math.sign(position) !== Math.sign(previous);
    let entryCost = Math.abs(position - previous) * rate;
    if (open !== undefined && changed) {
      entryCost -= Math.abs(previous) * rate;
      open.pnl -= Math.abs(previous) * rate * base;
      close(open, row);
      open = undefined;
    }
    if (open === undefined && position !== 0) {
      open = { direction: position > 0 ? "long" : "short", entryRow: row, sumSize: 0, candles: 0, pnl: 0 };
    }
    if (open !== undefined) {
      open.pnl += ((candles.grossReturn[k] as number) - entryCost) * base;
      open.sumSize += Math.abs(position);
      open.candles++;
    }
    previous = position;
  }
  if (open !== undefined) {
    // The liquidation cost was booked on the last candle as a fraction of its opening equity.
    open.pnl -= Math.abs(previous) * rate * equityAtOpen(end - start - 1);
    close(open, end);
  }
  return trades;
}
