/** `cryptoml analyze`: the performance analysis of a training run. See docs/monitoring.md. */
export { type AnalyzeOptions, analyzeRun, samplesTrained } from "./analyze.js";
export { formatAnalysis } from "./format.js";
export { loadRun, locateRun, parseMetricsLine } from "./read-run.js";
export { recommend, THRESHOLDS } from "./recommend.js";
export { analyzeThroughput, DEFAULT_BUCKETS, sparkline } from "./throughput.js";
export { splitTime } from "./time-split.js";
export type * from "./types.js";
export { TIME_PARTS } from "./types.js";
