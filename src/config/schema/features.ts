import * as z from "zod";
import { addRule, bool, int, num } from "./rules.js";

/** Integers that must be listed at least once and never twice (repeats would duplicate columns). */
function uniqueInts(min: number, what: string) {
  return z
    .array(int({ min }), { error: `must be a list of integers >= ${min}` })
    .min(1, { error: `must list at least one ${what}` })
    .superRefine((values, ctx) => {
      values.forEach((value, index) => {
        if (values.indexOf(value) !== index) addRule(ctx, [index], `must not repeat a ${what}`, { value });
      });
    });
}

const logReturn = z.strictObject({
  type: z.literal("log_return"),
  /** Lags in candles: ln(close[t] / close[t - lag]). */
  lags: uniqueInts(1, "lag").default(() => [1, 3, 12, 48]),
});

const realizedVolatility = z.strictObject({
  type: z.literal("realized_volatility"),
  /** Rolling windows in candles over which the standard deviation of 1-candle log returns is taken. */
  windows: uniqueInts(2, "window").default(() => [12, 48]),
});

const rsi = z.strictObject({ type: z.literal("rsi"), period: int({ min: 2 }).default(14) });

const macd = z
  .strictObject({
    type: z.literal("macd"),
    fast: int({ min: 1 }).default(12),
    slow: int({ min: 2 }).default(26),
    signal: int({ min: 1 }).default(9),
    /** Divide by the close so the feature is comparable across price levels. */
    relative: bool().default(true),
  })
  .superRefine((spec, ctx) => {
    if (spec.fast >= spec.slow) {
      addRule(ctx, ["slow"], `must be greater than fast (${spec.fast})`, { value: spec.slow });
    }
  });

const bollinger = z.strictObject({
  type: z.literal("bollinger_pct_b"),
  period: int({ min: 2 }).default(20),
  std_dev: num({ gt: 0 }).default(2),
});

const atr = z.strictObject({
  type: z.literal("atr"),
  period: int({ min: 1 }).default(14),
  relative: bool().default(true),
});

const volumeZscore = z.strictObject({
  type: z.literal("volume_zscore"),
  window: int({ min: 2 }).default(48),
});

const timeOfDay = z.strictObject({ type: z.literal("time_of_day") });
const dayOfWeek = z.strictObject({ type: z.literal("day_of_week") });

/** One feature spec, chosen by `type`; omitted fields take the defaults above. */
export const featureSpecSchema = z.discriminatedUnion("type", [
  logReturn,
  realizedVolatility,
  rsi,
  macd,
  bollinger,
  atr,
  volumeZscore,
  timeOfDay,
  dayOfWeek,
]);

/** Every feature type, in the order of the default list. */
export const FEATURE_TYPES = [
  "log_return",
  "realized_volatility",
  "rsi",
  "macd",
  "bollinger_pct_b",
  "atr",
  "volume_zscore",
  "time_of_day",
  "day_of_week",
] as const;

/**
 * `features:` in training.yaml — the list of input features. Default: one of each type with its defaults.
 * An empty list is rejected: a model needs at least one input.
 */
export const featuresSchema = z
  .array(featureSpecSchema, { error: "must be a list of feature specs (each with a type)" })
  .min(1, { error: "must list at least one feature" })
  .prefault(FEATURE_TYPES.map((type) => ({ type })));

export type FeatureConfig = z.output<typeof featureSpecSchema>;
