/**
 * Shapes of the backtester: what a model hands in (predictions), how they become positions
 * (strategy specs), what trading costs (cost model), and what comes out (per-candle columns and trades).
 */

import { CryptomlError, type CryptomlErrorOptions } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import type { Interval } from "../data/intervals.js";

/**
 * One forecast, made at the close of row `endRow` of the series (the sample's end row t: its features
 * end at close[t]). The position it decides is entered at open[t+1], never earlier.
 */
export interface Prediction {
  /** The row whose close produced the prediction. */
  readonly endRow: number;
  /** Forecast log return over the model's horizon; needed by `sign`, `long_only` and `sized` by magnitude. */
  readonly expectedReturn?: number;
  /** Forecast probability in [0, 1] that the return is positive; needed by `sized` by probability. */
  readonly probabilityUp?: number;
}

/** Long (+1) when expectedReturn > threshold, short (−1) when < −threshold, flat otherwise. */
export interface SignStrategy {
  readonly kind: "sign";
  /** Dead band on |expectedReturn| (log return), >= 0. */
  readonly threshold: number;
}

/** Long (+1) when expectedReturn > threshold, flat otherwise; never short. */
export interface LongOnlyStrategy {
  readonly kind: "long_only";
  /** Minimum expectedReturn (log return) to go long, >= 0. */
  readonly threshold: number;
}

/**
 * A fractional position clamped to [−cap, cap]:
 * - by `probability`: scale × (2·probabilityUp − 1), so p = 0.5 is flat and p = 1 is `scale` long;
 * - by `magnitude`: scale × expectedReturn.
 */
export interface SizedStrategy {
  readonly kind: "sized";
  readonly by: "probability" | "magnitude";
  /** Largest absolute position, in (0, 1]. */
  readonly cap: number;
  /**
   * Multiplier, > 0. Default 1 for probability; 100 for magnitude (a 1% forecast log return is a full
   * position before the cap), because raw log-return forecasts are far below 1.
   */
  readonly scale?: number;
  /** Clamp shorts to flat. Default false. */
  readonly longOnly?: boolean;
}

export type StrategySpec = SignStrategy | LongOnlyStrategy | SizedStrategy;

/** Trading costs in basis points, each charged per side on the traded fraction of equity. */
export interface CostModel {
  /** Exchange fee per side, bps (10 = 0.1%), >= 0. */
  readonly feeBps: number;
  /** Slippage per side against the open price, bps, >= 0. */
  readonly slippageBps: number;
}

export interface BacktestOptions {
  readonly series: CandleSeries;
  /** Sorted by strictly increasing endRow; rows without a prediction keep the last decided position. */
  readonly predictions: readonly Prediction[];
  readonly strategy: StrategySpec;
  readonly costs: CostModel;
  /** Account value at the first open of the period, > 0. */
  readonly startingBalance: number;
  /** First open time (UTC ms, inclusive) of the period. Default: the first row. */
  readonly from?: number;
  /** Open time (UTC ms, exclusive) ending the period. Default: after the last row that has a next candle. */
  readonly to?: number;
  /** True when the predictions were made on data the model was trained on. Default false. */
  readonly inSample?: boolean;
}

/** Per-candle columns, index k being row `startRow + k` of the series. */
export interface BacktestCandles {
  /** Open time of the candle (UTC ms). */
  readonly time: Float64Array;
  /** Position held from this open to the next, fraction of equity in [−1, 1]. */
  readonly position: Float64Array;
  /** position × (open[next] / open − 1). */
  readonly grossReturn: Float64Array;
  /** Cost as a fraction of equity at this open: |Δposition| × (fee + slippage), plus the final exit. */
  readonly cost: Float64Array;
  /** grossReturn − cost. */
  readonly netReturn: Float64Array;
  /** Account value at the next open, after this candle's net return. */
  readonly equity: Float64Array;
}

/** A run of consecutive candles holding a position of one direction. */
export interface Trade {
  readonly direction: "long" | "short";
  readonly entryRow: number;
  readonly entryTime: number;
  /** Open price of the entry candle, before slippage (slippage is in the costs). */
  readonly entryPrice: number;
  /** Row whose open closes the trade (the row after the period when the account is liquidated). */
  readonly exitRow: number;
  readonly exitTime: number;
  readonly exitPrice: number;
  /** Mean absolute position over the trade's candles. */
  readonly size: number;
  /** Account value gained (lost when negative), net of entry and exit costs. */
  readonly pnl: number;
  readonly holdingCandles: number;
}

export interface BacktestResult {
  readonly symbol: string;
  readonly interval: Interval;
  readonly strategy: StrategySpec;
  readonly costs: CostModel;
  readonly inSample: boolean;
  /** First and last series rows (inclusive) whose candles were held. */
  readonly startRow: number;
  readonly endRow: number;
  readonly startingBalance: number;
  /** Account value after liquidating at the open following the period. */
  readonly finalBalance: number;
  readonly candles: BacktestCandles;
  readonly trades: readonly Trade[];
}

/** Input the backtester cannot use: misaligned predictions, gaps, bad prices, an empty period. */
export class BacktestInputError extends CryptomlError {
  constructor(message: string, options: CryptomlErrorOptions = {}) {
    super("DATASET", message, options);
  }
}
