/**
 * The alert conditions of src/monitoring/rules/types.ts written as PromQL, and the reverse direction
 * tests need: which metric names a PromQL expression reads.
 */
import { type MetricSpec, selectableMetricSpec } from "../catalog.js";
import type { Condition, LabelMatchers } from "../rules/types.js";

/** `name{a="x",b="y"}`, label values escaped as PromQL string literals. */
export function seriesSelector(metric: string, labels: LabelMatchers = {}): string {
  const matchers = Object.entries(labels).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  return matchers.length === 0 ? metric : `${metric}{${matchers.join(",")}}`;
}

/**
 * A Prometheus duration for `ms` ("0s", "90s", "15m", "1h30m"): the largest units that add up exactly,
 * so the text reads as the rule author wrote it.
 */
export function promDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`${ms} ms is not a whole, non-negative duration`);
  if (ms === 0) return "0s";
  const units: [string, number][] = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
    ["ms", 1],
  ];
  let rest = ms;
  let text = "";
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}

/** A number as PromQL reads it (`+Inf`, `NaN` and plain decimals). */
function promNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/**
 * The PromQL of one condition, exactly as documented on {@link Condition}: each series that satisfies
 * it is one element of the result, carrying the series' labels.
 */
export function conditionToPromQL(condition: Condition): string {
  const m = seriesSelector(condition.metric, condition.labels);
  switch (condition.kind) {
    case "threshold":
      return `${m} ${condition.op} ${promNumber(condition.value)}`;
    case "not_finite":
      // NaN is the only value unequal to itself; abs() folds -Inf onto +Inf.
      return `${m} != ${m} or abs(${m}) == +Inf`;
    case "stale":
      return `time() - ${m} > ${promNumber(condition.seconds)}`;
    case "window":
      return `${m} ${condition.op} ${promNumber(condition.factor)} * ${condition.fn}_over_time(${m}[${promDuration(condition.windowMs)}])`;
  }
}

const NOT_METRICS = new Set([
  "and",
  "or",
  "unless",
  "bool",
  "offset",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "inf",
  "nan",
  "start",
  "end",
]);

/**
 * Every metric name `expr` selects (PromQL, or Grafana's `label_values(metric, label)`), sorted and
 * without repeats. Function names, keywords, label names in `by (…)`/`on (…)` clauses, label matchers,
 * strings, durations, numbers and Grafana variables (`$symbol`, `$__rate_interval`) are not metrics.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, "{}")
    .replace(/\[[^\]]*\]/g, "[]")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, " ")
    .replace(/label_values\(\s*([a-zA-Z_:][\w:]*)\s*,[^)]*\)/g, " $1 ");
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w$.:])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)) {
    const name = match[1] as string;
    if (!NOT_METRICS.has(name.toLowerCase())) names.add(name);
  }
  return [...names].sort();
}

const HISTOGRAM_SUFFIXES = ["_bucket", "_sum", "_count"] as const;

/**
 * The catalog spec behind a name a query reads: the metric itself (a catalog metric, or a series the
 * scraper synthesises such as `up`, see SCRAPE_METRICS), or the histogram whose `_bucket`/`_sum`/`_count`
 * series it is. Undefined for any other name.
 */
export function catalogMetricOf(name: string): MetricSpec | undefined {
  const direct = selectableMetricSpec(name);
  if (direct !== undefined) return direct;
  const suffix = HISTOGRAM_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix === undefined) return undefined;
  const base = selectableMetricSpec(name.slice(0, -suffix.length));
  return base?.type === "histogram" ? base : undefined;
}
