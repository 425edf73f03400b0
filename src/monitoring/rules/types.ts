/**
 * Alert rules as data. One rule has one meaning in two places: `cryptoml monitor` evaluates it on the
 * samples it scrapes itself, and `cryptoml monitoring generate` writes the same condition as PromQL for
 * Prometheus. Keeping conditions to these few shapes is what lets both agree (promtool tests check it).
 */

/** Label equality matchers, e.g. `{ split: "val" }`. */
export type LabelMatchers = Readonly<Record<string, string>>;

/** PromQL's filtering comparisons; any comparison with NaN is false, as in PromQL. */
export type ComparisonOp = ">" | ">=" | "<" | "<=" | "==" | "!=";

/**
 * A series of one catalog metric, optionally narrowed by label values. `metric` may also be a series
 * the scraper synthesises (SCRAPE_METRICS in src/monitoring/catalog.ts): `up{job, instance}`, 1 when the
 * target's last scrape succeeded and 0 when it failed. Prometheus labels it with its scrape job, which
 * `monitoring generate` names `cryptoml`; `cryptoml monitor` scrapes nothing but cryptoml processes, so
 * its synthetic `up` carries `job="cryptoml"` too and `{ job: "cryptoml" }` selects the same targets in
 * both. No other sample in the monitor has a `job` label, so only `up` may be narrowed by `job`.
 */
export interface SeriesSelector {
  readonly metric: string;
  readonly labels?: LabelMatchers;
}

/**
 * What makes a series alert, evaluated per series (each series that matches raises its own alert,
 * labelled with the series' labels):
 * - `threshold`: value `op` `value`.                          PromQL: `m op value`
 * - `not_finite`: value is NaN, +Inf or -Inf.                  PromQL: `m != m or abs(m) == +Inf`
 * - `stale`: the metric holds a Unix time (seconds) older than `seconds`.
 *                                                             PromQL: `time() - m > seconds`
 * - `window`: value `op` `factor` × `fn` of the series' own samples over the last `windowMs`
 *   (the current sample included).                           PromQL: `m op factor * fn_over_time(m[window])`
 *   As in PromQL: `min`/`max` skip NaN samples unless all are NaN (then NaN) and keep ±Inf; `avg` is
 *   NaN when any sample is NaN; a comparison with NaN is false, so a NaN window never alerts.
 *
 * A target the monitor cannot scrape has no samples: only `up` (0) is evaluated for it. Its other
 * alerts stay as they were for up to 5 minutes (Prometheus' staleness bound), without climbing
 * escalation levels, and resolve after that.
 */
export type Condition =
  | ({ readonly kind: "threshold"; readonly op: ComparisonOp; readonly value: number } & SeriesSelector)
  | ({ readonly kind: "not_finite" } & SeriesSelector)
  | ({ readonly kind: "stale"; readonly seconds: number } & SeriesSelector)
  | ({
      readonly kind: "window";
      readonly fn: "min" | "max" | "avg";
      readonly windowMs: number;
      readonly op: ComparisonOp;
      readonly factor: number;
    } & SeriesSelector);

/**
 * One step of escalation: an active, unacknowledged alert takes the severity of the last level whose
 * `afterMs` (time since it started firing) has passed. Levels are sorted by `afterMs`, the first at 0.
 */
export interface EscalationLevel {
  readonly severity: string;
  readonly afterMs: number;
  /** Receiver names notified at this level (see the monitor's receivers). */
  readonly receivers: readonly string[];
  /** Re-notify this often while the alert stays at this level, unacknowledged. */
  readonly repeatMs: number;
}

export interface AlertRule {
  /** CamelCase alert name, e.g. `TrainingLossNotFinite` (Prometheus' `alert:` field). */
  readonly name: string;
  readonly condition: Condition;
  /** How long the condition must hold before the alert fires (Prometheus' `for:`); 0 fires at once. */
  readonly forMs: number;
  readonly summary: string;
  readonly description: string;
  /** Extra labels on the alert, e.g. `{ team: "ml" }`. */
  readonly labels?: LabelMatchers;
  readonly levels: readonly EscalationLevel[];
}
