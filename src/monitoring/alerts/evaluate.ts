/**
 * Decides, per rule and series, whether an alert is pending, firing or resolved — the same semantics
 * as Prometheus' rule evaluation of the PromQL that `cryptoml monitoring generate` writes for a rule.
 */
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
  }
}

/** min, max or avg of the finite values (PromQL's *_over_time skip nothing, but NaN poisons avg). */
function aggregate(fn: "min" | "max" | "avg", values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return Number.NaN;
  if (fn === "min") return Math.min(...finite);
  if (fn === "max") return Math.max(...finite);
  return finite.reduce((a, b) => a + b, 0) / finite.length;
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
  private readonly keepMs: number;

  constructor(private readonly rules: readonly AlertRule[]) {
    const windows = rules.map((r) => (r.condition.kind === "window" ? r.condition.windowMs : 0));
    this.keepMs = Math.max(0, ...windows);
  }

  /**
   * Evaluates every rule on the scrapes taken at `nowMs`. Alerts of a target that could not be
   * scraped keep their state: a failed scrape says nothing about the training it watches.
   */
  evaluate(scrapes: readonly ScrapeResult[], nowMs: number): Evaluation {
    const down = new Set(scrapes.filter((s) => !s.up).map((s) => s.instance));
    for (const scrape of scrapes) if (scrape.up) this.record(scrape, nowMs);
    const holding = new Map<string, { rule: AlertRule; labels: Labels; value: number; instance: string }>();
    for (const scrape of scrapes) {
      if (!scrape.up) continue;
      for (const rule of this.rules) {
        for (const sample of scrape.samples) {
          if (sample.name !== rule.condition.metric || !matches(sample.labels, rule.condition.labels))
            continue;
          if (!this.holds(rule.condition, sample, scrape.instance, nowMs)) continue;
          const labels = alertLabels(rule, sample.labels, scrape.instance);
          holding.set(fingerprint(labels), { rule, labels, value: sample.value, instance: scrape.instance });
        }
      }
    }
    const alerts: ActiveAlert[] = [];
    for (const [fp, found] of holding) {
      const state = this.tracked.get(fp) ?? { activeSinceMs: nowMs, instance: found.instance };
      if (state.firingSinceMs === undefined && nowMs - state.activeSinceMs >= found.rule.forMs)
        state.firingSinceMs = nowMs;
      this.tracked.set(fp, state);
      alerts.push({
        fingerprint: fp,
        rule: found.rule,
        labels: found.labels,
        state: state.firingSinceMs === undefined ? "pending" : "firing",
        activeSinceMs: state.activeSinceMs,
        ...(state.firingSinceMs === undefined ? {} : { firingSinceMs: state.firingSinceMs }),
        value: found.value,
      });
    }
    for (const alert of alerts) this.lastSeen.set(alert.fingerprint, alert);
    const resolved = this.dropEnded(holding, down, nowMs);
    for (const kept of this.keptOnDownTargets(holding, down)) alerts.push(kept);
    const targets = scrapes.map((s) => ({
      target: s.target,
      instance: s.instance,
      up: s.up,
      lastScrapeMs: s.scrapedAtMs,
      ...(s.error === undefined ? {} : { error: s.error }),
    }));
    return { atMs: nowMs, alerts, resolved, targets };
  }

  /** Forgets alerts whose condition stopped holding; the firing ones come back as resolved. */
  private dropEnded(
    holding: ReadonlyMap<string, unknown>,
    down: ReadonlySet<string>,
    nowMs: number,
  ): ResolvedAlert[] {
    const resolved: ResolvedAlert[] = [];
    for (const [fp, state] of this.tracked) {
      if (holding.has(fp) || down.has(state.instance)) continue;
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

  /** Alerts of targets that are down, as they were at their last good scrape; remembers the others. */
  private keptOnDownTargets(holding: ReadonlyMap<string, unknown>, down: ReadonlySet<string>): ActiveAlert[] {
    const kept: ActiveAlert[] = [];
    for (const [fp, last] of this.lastSeen)
      if (!holding.has(fp) && down.has(this.tracked.get(fp)?.instance ?? "")) kept.push(last);
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

  /** Appends the scrape's samples of windowed metrics to their history, dropping what no window reaches. */
  private record(scrape: ScrapeResult, nowMs: number): void {
    if (this.keepMs === 0) return;
    // Series that vanished (a finished job) would otherwise keep their history forever.
    for (const [key, points] of this.history)
      if ((points.at(-1)?.atMs ?? 0) < nowMs - this.keepMs) this.history.delete(key);
    const windowed = new Set(
      this.rules.filter((r) => r.condition.kind === "window").map((r) => r.condition.metric),
    );
    for (const sample of scrape.samples) {
      if (!windowed.has(sample.name)) continue;
      const key = historyKey(scrape.instance, sample);
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
