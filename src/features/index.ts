/**
 * features/: technical indicators, returns and calendar features computed causally from a CandleSeries.
 * `computeFeatures` turns config specs into a FeatureFrame; the indicator functions are exported for reuse
 * (each takes input columns and options and returns columns aligned to the input rows, NaN while warming up).
 * Formulas, parameters and references: docs/features.md.
 */
export { type CyclicalColumns, dayOfWeek, timeOfDay } from "./calendar.js";
export { computeFeatures } from "./compute.js";
export { type MacdColumns, type MacdOptions, macd, type RsiOptions, rsi } from "./momentum.js";
export { logReturn, realizedVolatility } from "./returns.js";
export { type RollingMoments, rollingMoments } from "./rolling.js";
export { type ColumnLayout, describeSpec } from "./specs.js";
export type { FeatureFrame, FeatureSpec } from "./types.js";
export { type AtrOptions, atr, type BollingerOptions, bollingerPctB } from "./volatility.js";
export { volumeZScore } from "./volume.js";
