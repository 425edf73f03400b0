/** Evaluates parsed filter clauses against a run, with MLflow's semantics for missing values. */
import type { Run, RunInfo } from "../types.js";
import type { EntityType, FilterClause, NumericComparator } from "./clauses.js";

/**
 * The latest value of a metric: the highest step, then the latest timestamp, then the largest value,
 * as MLflow picks it. The store already keeps only the latest, but a run assembled elsewhere may not.
 */
export function latestMetric(run: Run, key: string): number | undefined {
  let best: Run["data"]["metrics"][number] | undefined;
  for (const m of run.data.metrics) {
    if (m.key !== key) continue;
    if (
      best === undefined ||
      m.step > best.step ||
      (m.step === best.step &&
        (m.timestamp > best.timestamp || (m.timestamp === best.timestamp && m.value > best.value)))
    ) {
      best = m;
    }
  }
  return best?.value;
}

function attributeValue(info: RunInfo, key: string): string | number | undefined {
  switch (key) {
    case "run_id":
      return info.runId;
    case "run_name":
      return info.runName;
    case "status":
      return info.status;
    case "start_time":
      return info.startTime;
    case "end_time":
      return info.endTime;
    case "artifact_uri":
      return info.artifactUri;
    case "user_id":
      return info.userId;
    case "lifecycle_stage":
      return info.lifecycleStage;
    case "experiment_id":
      return info.experimentId;
    default:
      return undefined;
  }
}

/** The value a filter or sort key reads from a run; undefined when the run lacks it. */
export function entityValue(run: Run, entity: EntityType, key: string): string | number | undefined {
  switch (entity) {
    case "metric":
      return latestMetric(run, key);
    case "param":
      return run.data.params.find((p) => p.key === key)?.value;
    case "tag":
      return run.data.tags.find((t) => t.key === key)?.value;
    case "attribute":
      return attributeValue(run.info, key);
  }
}

/** True when the run satisfies every clause; a run lacking a clause's key never matches it (not even `!=`). */
export function matchesFilter(run: Run, clauses: readonly FilterClause[]): boolean {
  return clauses.every((clause) => matchesClause(run, clause));
}

function matchesClause(run: Run, clause: FilterClause): boolean {
  const actual = entityValue(run, clause.entity, clause.key);
  if (actual === undefined) return false;
  switch (clause.type) {
    case "numeric":
      return typeof actual === "number" && compareNumber(actual, clause.comparator, clause.value);
    case "list": {
      const found = clause.values.includes(String(actual));
      return clause.comparator === "IN" ? found : !found;
    }
    case "string": {
      const text = String(actual);
      switch (clause.comparator) {
        case "=":
          return text === clause.value;
        case "!=":
          return text !== clause.value;
        case "LIKE":
        case "ILIKE":
          return likePattern(clause.value, clause.comparator === "ILIKE").test(text);
      }
    }
  }
}

// NaN compares false except with != (as in Python, which MLflow's file store uses).
function compareNumber(a: number, comparator: NumericComparator, b: number): boolean {
  switch (comparator) {
    case "=":
      return a === b;
    case "!=":
      return a !== b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
  }
}

// Searches test the same few patterns against thousands of runs; compiling once per pattern pays.
const patterns = new Map<string, RegExp>();
const PATTERN_CACHE_LIMIT = 256;

/**
 * SQL LIKE: `%` any run of characters, `_` exactly one, the whole value must match. No escape character,
 * as in MLflow's file store; other regex metacharacters are literal.
 */
export function likePattern(pattern: string, ignoreCase: boolean): RegExp {
  const cacheKey = `${ignoreCase ? "i" : "c"}${pattern}`;
  const cached = patterns.get(cacheKey);
  if (cached !== undefined) return cached;
  const body = Array.from(pattern, (ch) =>
    ch === "%" ? ".*" : ch === "_" ? "." : ch.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&"),
  ).join("");
  const regex = new RegExp(`^${body}$`, ignoreCase ? "isu" : "su");
  if (patterns.size >= PATTERN_CACHE_LIMIT) patterns.clear();
  patterns.set(cacheKey, regex);
  return regex;
}
