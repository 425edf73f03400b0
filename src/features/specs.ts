import { FEATURE_TYPES } from "../config/schema/features.js";
import { CryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import { dayOfWeek, timeOfDay } from "./calendar.js";
import { macd, requireMacdSpans, rsi } from "./momentum.js";
import { requireInteger, requirePositive } from "./params.js";
import { logReturn, realizedVolatility } from "./returns.js";
import type { FeatureSpec } from "./types.js";
import { atr, bollingerPctB } from "./volatility.js";
import { volumeZScore } from "./volume.js";

/** One column a spec produces, known before any candle is read. */
export interface ColumnLayout {
  readonly name: string;
  /** Index of the first row at which the column is defined (for finite candles). */
  readonly warmup: number;
  /**
   * Candles before row t that the value at t reads; for the recursive indicators (RSI, MACD, ATR), the
   * candles a cold start needs before its first value. It exceeds `warmup` by one where the indicator
   * reads the previous close (RSI, ATR): at row 0 `ta` substitutes a zero change or the high − low range,
   * but after a gap that previous close exists and lies across the gap.
   */
  readonly lookback: number;
}

/** Throws unless `values` is a non-empty array; returns it typed. */
function requireList(name: string, values: unknown): number[] {
  if (!Array.isArray(values) || values.length === 0) {
    throw new CryptomlError("DATASET", `${name} must be a non-empty list of integers`, {
      hint: `for example ${name}: [1, 12]`,
    });
  }
  return values as number[];
}

const column = (name: string, warmup: number, lookback = warmup): ColumnLayout => ({
  name,
  warmup,
  lookback,
});

/**
 * Validates a spec and returns its columns, named and in the order {@link buildColumns} computes them,
 * with their warm-up. Throws CryptomlError (code DATASET) that
 * names the offending parameter, e.g. `log_return.lags[0]=0 must be an integer >= 1`.
 */
export function describeSpec(spec: FeatureSpec): ColumnLayout[] {
  switch (spec.type) {
    case "log_return": {
      const lags = requireList("log_return.lags", spec.lags);
      lags.forEach((lag, i) => {
        requireInteger(`log_return.lags[${i}]`, lag, 1);
      });
      return lags.map((lag) => column(`log_return_${lag}`, lag));
    }
    case "realized_volatility": {
      const windows = requireList("realized_volatility.windows", spec.windows);
      windows.forEach((w, i) => {
        requireInteger(`realized_volatility.windows[${i}]`, w, 2);
      });
      // The first one-candle return is at row 1, so a window of W returns ends at row W.
      return windows.map((w) => column(`realized_volatility_${w}`, w));
    }
    case "rsi":
      requireInteger("rsi.period", spec.period, 2);
      // ta's first value is at row P − 1 (row 0 counts as a zero change); P changes need P + 1 candles.
      return [column(`rsi_${spec.period}`, spec.period - 1, spec.period)];
    case "macd": {
      requireMacdSpans(spec.fast, spec.slow, spec.signal);
      // Relative lines get their own names, so the names (and the fingerprint) tell the variants apart.
      const rel = spec.relative ? "_rel" : "";
      const suffix = `${spec.fast}_${spec.slow}_${spec.signal}`;
      const signalStart = spec.slow + spec.signal - 2;
      return [
        column(`macd${rel}_${suffix}`, spec.slow - 1),
        column(`macd_signal${rel}_${suffix}`, signalStart),
        column(`macd_hist${rel}_${suffix}`, signalStart),
      ];
    }
    case "bollinger_pct_b":
      requireInteger("bollinger_pct_b.period", spec.period, 2);
      requirePositive("bollinger_pct_b.std_dev", spec.std_dev);
      return [column(`bollinger_pct_b_${spec.period}_${spec.std_dev}`, spec.period - 1)];
    case "atr":
      requireInteger("atr.period", spec.period, 1);
      // The first true range of a stretch reads the previous close: P ranges span P + 1 candles.
      return [column(`atr${spec.relative ? "_rel" : ""}_${spec.period}`, spec.period - 1, spec.period)];
    case "volume_zscore":
      requireInteger("volume_zscore.window", spec.window, 2);
      return [column(`volume_zscore_${spec.window}`, spec.window - 1)];
    case "time_of_day":
      return [column("time_of_day_sin", 0), column("time_of_day_cos", 0)];
    case "day_of_week":
      return [column("day_of_week_sin", 0), column("day_of_week_cos", 0)];
    default:
      throw unknownType(spec);
  }
}

function unknownType(spec: never): CryptomlError {
  const type = (spec as { type?: unknown }).type;
  return new CryptomlError("DATASET", `unknown feature type ${JSON.stringify(type)}`, {
    hint: `use one of ${FEATURE_TYPES.join(", ")}`,
  });
}

/** Computes a spec's columns over a series, in the order of {@link describeSpec}. */
export function buildColumns(spec: FeatureSpec, series: CandleSeries): Float64Array[] {
  const { close } = series;
  switch (spec.type) {
    case "log_return":
      return spec.lags.map((lag) => logReturn(close, lag));
    case "realized_volatility":
      return spec.windows.map((window) => realizedVolatility(close, window));
    case "rsi":
      return [rsi(close, { period: spec.period })];
    case "macd": {
      const lines = macd(close, spec);
      return [lines.macd, lines.signal, lines.histogram];
    }
    case "bollinger_pct_b":
      return [bollingerPctB(close, { period: spec.period, stdDev: spec.std_dev })];
    case "atr":
      return [atr(series.high, series.low, close, spec)];
    case "volume_zscore":
      return [volumeZScore(series.volume, spec.window)];
    case "time_of_day": {
      const { sin, cos } = timeOfDay(series.openTime);
      return [sin, cos];
    }
    case "day_of_week": {
      const { sin, cos } = dayOfWeek(series.openTime);
      return [sin, cos];
    }
    default:
      throw unknownType(spec);
  }
}
