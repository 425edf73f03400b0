/**
 * Decides, per rule and series, whether an alert is pending, firing or resolved — the same semantics
 * as Prometheus' rule evaluation of the PromQL that `cryptoml monitoring generate` writes for a rule.
 */
import { CRYPTOML_JOB } from "../catalog.js";
import type { AlertRule, ComparisonOp, Condition } from "../rules/types.js";
import { seriesKey } from "./exposition.js";
import { fingerprint, matches } from "./labels.js";
import type { ActiveAlert, Evaluation, Labels, ResolvedAlert, Sample, ScrapeResult } from "./types.js";

interface Point {
  readonly atMs: number;
  readonly value: number;
}

interface Tracked {
  activeSinceMs: number;
  firingSinceMs?: number;
  instance: string;
}

/** PromQL's comparison: false when either side is NaN, except `!=` (true), as in Go. */
export function compare(value: number, op: ComparisonOp, limit: number): boolean {
  switch (op) {
    case ">":
      return value > limit;
    case ">=":
      return value >= limit;
    case "<":
      return value < limit;
    case "<=":
      return value <= limit;
    case "==":
      return value === limit;
    case "!=":
      return value !== limit;
  }
}

/** Kahan-compensated `sum + inc`, as Prometheus' kahanSumInc. */
function kahanAdd(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  const compensation = Math.abs(sum) >= Math.abs(inc) ? sum - t + inc : inc - t + sum;
  return [t, c + compensation];
}

/**
 * PromQL's `avg_over_time` (Prometheus 2.x): an incremental, compensated mean, so 1e300s average to
 * 1e300 rather than overflowing; any NaN makes it NaN; Infs of one sign make it that Inf.
 */
function avgOverTime(values: readonly number[]): number {
  let mean = 0;
  let c = 0;
  for (const [i, v] of values.entries()) {
    const count = i + 1;
    if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
      if (!Number.isFinite(v) && !Number.isNaN(v) && mean > 0 === v > 0) continue;
      if (Number.isFinite(v)) continue;
    }
    [mean, c] = kahanAdd(v / count - mean / count, mean, c);
  }
  return Number.isFinite(mean) || Number.isNaN(mean) ? mean + c : mean;
}

/**
 * PromQL's `min_over_time`/`max_over_time`/`avg_over_time` of a window's samples: min and max skip
 * NaN unless every sample is NaN (then NaN) and keep ±Inf; avg is NaN when any sample is NaN.
 * NaN for an empty window (PromQL returns no sample, so nothing compares true either).
 */
export function aggregate(fn: "min" | "max" | "avg", values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  if (fn === "avg") return avgOverTime(values);
  let result = Number.NaN;
  for (const v of values)
    if (Number.isNaN(result) || (fn === "min" ? v < result : v > result))
      result = Number.isNaN(v) ? result : v;
  return result;
}

/** Options of {@link RuleEvaluator}. */
export interface EvaluatorOptions {
  /**
   * How long alerts of a target that stopped answering are kept (frozen) before they resolve;
   * default 5 minutes, Prometheus' staleness bound (its lookback delta).
   */
  readonly staleAfterMs?: number;
}

/** The default {@link EvaluatorOptions.staleAfterMs}. */
export const STALENESS_MS = 5 * 60_000;

/** The job the monitor's synthetic `up` carries: the scrape job `monitoring generate` writes. */
export const MONITOR_JOB = CRYPTOML_JOB;

/** A scrape's samples plus the synthetic `up{job="cryptoml"}` the scraper adds (Prometheus does the same). */
function observedSamples(scrape: ScrapeResult): Sample[] {
  const up: Sample = { name: "up", labels: { job: MONITOR_JOB }, value: scrape.up ? 1 : 0 };
  return scrape.up ? [...scrape.samples, up] : [up];
}

interface Holding {
  readonly rule: AlertRule;
  readonly labels: Labels;
  readonly value: number;
  readonly instance: string;
}

/**
 * Holds each series' recent samples (bounded to the longest `window` of the rules) and each alert's
 * pending/firing state between evaluations.
 */
export class RuleEvaluator {
  private readonly history = new Map<string, Point[]>();
  private readonly tracked = new Map<string, Tracked>();
  /** Each tracked alert as last returned: for resolved notifications and targets that go down. */
  private readonly lastSeen = new Map<string, ActiveAlert>();
  /** Instance → time of its first failed scrape in the current outage. */
  private readonly downSince = new Map<string, number>();
  private readonly keepMs: number;
  private readonly staleAfterMs: number;

  /** @param options.staleAfterMs default {@link STALENESS_MS} */
  constructor(
    private readonly rules: readonly AlertRule[],
    options: EvaluatorOptions = {},
  ) {
    const windows = rules.map((r) => (r.condition.kind === "window" ? r.condition.windowMs : 0));
    this.keepMs = Math.max(0, ...windows);
    this.staleAfterMs = options.staleAfterMs ?? STALENESS_MS;
  }

  /**
   * Evaluates every rule on the scrapes taken at `nowMs`, each with its synthetic `up`. A target that
   * could not be scraped has only `up` (0); its other alerts are kept as they were, marked held, for
   * `staleAfterMs` — a failed scrape says nothing about the training it watches — and resolve after.
   */
  evaluate(scrapes: readonly ScrapeResult[], nowMs: number): Evaluation {
    this.trackOutages(scrapes, nowMs);
    const observed = scrapes.map((scrape) => ({
      instance: scrape.instance,
      samples: observedSamples(scrape),
    }));
    for (const { instance, samples } of observed) this.record(instance, samples, nowMs);
    const holding = new Map<string, Holding>();
    for (const { instance, samples } of observed)
      for (const rule of this.rules)
        for (const sample of samples) {
          if (sample.name !== rule.condition.metric || !matches(sample.labels, rule.condition.labels))
            continue;
          if (!this.holds(rule.condition, sample, instance, nowMs)) continue;
          const labels = alertLabels(rule, sample.labels, instance);
          holding.set(fingerprint(labels), { rule, labels, value: sample.value, instance });
        }
    const alerts = [...holding].map(([fp, found]) => this.advance(fp, found, nowMs));
    for (const alert of alerts) this.lastSeen.set(alert.fingerprint, alert);
    const resolved = this.dropEnded(holding, nowMs);
    alerts.push(...this.keptOnDownTargets(holding, nowMs));
    const targets = scrapes.map((s) => ({
      target: s.target,
      instance: s.instance,
      up: s.up,
      lastScrapeMs: s.scrapedAtMs,
      ...(s.error === undefined ? {} : { error: s.error }),
    }));
    return { atMs: nowMs, alerts, resolved, targets };
  }

  /** Moves one holding alert from pending to firing once its rule's `for` has passed. */
  private advance(fp: string, found: Holding, nowMs: number): ActiveAlert {
    const state = this.tracked.get(fp) ?? { activeSinceMs: nowMs, instance: found.instance };
    if (state.firingSinceMs === undefined && nowMs - state.activeSinceMs >= found.rule.forMs)
      state.firingSinceMs = nowMs;
    this.tracked.set(fp, state);
    return {
      fingerprint: fp,
      rule: found.rule,
      labels: found.labels,
      state: state.firingSinceMs === undefined ? "pending" : "firing",
      activeSinceMs: state.activeSinceMs,
      ...(state.firingSinceMs === undefined ? {} : { firingSinceMs: state.firingSinceMs }),
      value: found.value,
    };
  }

  private trackOutages(scrapes: readonly ScrapeResult[], nowMs: number): void {
    for (const scrape of scrapes)
      if (scrape.up) this.downSince.delete(scrape.instance);
      else if (!this.downSince.has(scrape.instance)) this.downSince.set(scrape.instance, nowMs);
  }

  /** When `instance` went down, if it is down and within the staleness bound; else undefined. */
  private heldSince(instance: string, nowMs: number): number | undefined {
    const since = this.downSince.get(instance);
    return since !== undefined && nowMs - since < this.staleAfterMs ? since : undefined;
  }

  /** Forgets alerts whose condition stopped holding (or went stale); the firing ones come back as resolved. */
  private dropEnded(holding: ReadonlyMap<string, unknown>, nowMs: number): ResolvedAlert[] {
    const resolved: ResolvedAlert[] = [];
    for (const [fp, state] of this.tracked) {
      if (holding.has(fp) || this.heldSince(state.instance, nowMs) !== undefined) continue;
      this.tracked.delete(fp);
      const last = this.lastSeen.get(fp);
      this.lastSeen.delete(fp);
      if (state.firingSinceMs !== undefined && last !== undefined)
        resolved.push({
          fingerprint: fp,
          rule: last.rule,
          labels: last.labels,
          firingSinceMs: state.firingSinceMs,
          resolvedAtMs: nowMs,
        });
    }
    return resolved;
  }

  /** Alerts of targets down for less than the staleness bound, as at their last good scrape, marked held. */
  private keptOnDownTargets(holding: ReadonlyMap<string, unknown>, nowMs: number): ActiveAlert[] {
    const kept: ActiveAlert[] = [];
    for (const [fp, last] of this.lastSeen) {
      const since = this.heldSince(this.tracked.get(fp)?.instance ?? "", nowMs);
      if (!holding.has(fp) && since !== undefined) kept.push({ ...last, heldSinceMs: since });
    }
    return kept;
  }

  private holds(condition: Condition, sample: Sample, instance: string, nowMs: number): boolean {
    const value = sample.value;
    switch (condition.kind) {
      case "threshold":
        return compare(value, condition.op, condition.value);
      case "not_finite":
        return !Number.isFinite(value);
      case "stale":
        return nowMs / 1000 - value > condition.seconds;
      case "window": {
        const points = this.history.get(historyKey(instance, sample)) ?? [];
        const values = points.filter((p) => p.atMs >= nowMs - condition.windowMs).map((p) => p.value);
        return compare(value, condition.op, condition.factor * aggregate(condition.fn, values));
      }
    }
  }

  /** Appends a target's samples of windowed metrics to their history, dropping what no window reaches. */
  private record(instance: string, samples: readonly Sample[], nowMs: number): void {
    if (this.keepMs === 0) return;
    // Series that vanished (a finished job) would otherwise keep their history forever.
    for (const [key, points] of this.history)
      if ((points.at(-1)?.atMs ?? 0) < nowMs - this.keepMs) this.history.delete(key);
    const windowed = new Set(
      this.rules.filter((r) => r.condition.kind === "window").map((r) => r.condition.metric),
    );
    for (const sample of samples) {
      if (!windowed.has(sample.name)) continue;
      const key = historyKey(instance, sample);
      const points = this.history.get(key) ?? [];
      const atMs = sample.timestampMs ?? nowMs;
      if (points.at(-1)?.atMs !== atMs) points.push({ atMs, value: sample.value });
      while ((points[0]?.atMs ?? nowMs) < nowMs - this.keepMs) points.shift();
      this.history.set(key, points);
    }
  }
}

function historyKey(instance: string, sample: Sample): string {
  return `${instance} ${seriesKey(sample.name, sample.labels)}`;
}

/**
 * The alert's identity: alertname, the series' labels, the rule's labels and the target's instance
 * (a series' own `instance` label is kept as `exported_instance`, as Prometheus does).
 */
export function alertLabels(rule: AlertRule, series: Labels, instance: string): Labels {
  const labels: Record<string, string> = { ...series };
  if (labels.instance !== undefined) labels.exported_instance = labels.instance;
  return { ...labels, ...rule.labels, alertname: rule.name, instance };
}
