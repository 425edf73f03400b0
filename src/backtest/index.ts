/** Backtests: strategies that turn predictions into positions, the engine, and trading metrics. */
export { runBacktest } from "./engine.js";
export { buyAndHold, computeMetrics, periodsPerYear, type TradingMetrics } from "./metrics.js";
export { targetPosition, validateStrategy } from "./strategies.js";
export * from "./types.js";
