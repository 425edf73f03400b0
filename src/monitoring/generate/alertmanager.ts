/**
 * alertmanager.yml giving Prometheus' alerts the escalation `cryptoml monitor` applies itself: one
 * route and receiver per severity with that level's repeat interval, and inhibit rules so that a
 * higher level of an alert mutes its lower levels (Prometheus keeps every level firing at once).
 */
import type { AlertRule } from "../rules/types.js";
import { catalogMetricOf, promDuration } from "./promql.js";

/**
 * Receivers post here plus `/<severity>` unless told otherwise: the local webhook consumer that
 * monitoring.yaml's `alerting.receivers.webhook` example also uses, so one endpoint gets the same v4
 * payloads from Alertmanager and from `cryptoml monitor` (see docs/monitoring.md).
 */
export const DEFAULT_WEBHOOK_URL = "http://127.0.0.1:5001/alerts";

export interface AlertmanagerOptions {
  /** Base URL of the webhook receivers; each severity posts to `<base>/<severity>`. Default {@link DEFAULT_WEBHOOK_URL}. */
  readonly webhookUrl?: string;
  /** Labels that split alerts into notification groups; `alertname` is always one. Default `["alertname"]`. */
  readonly groupBy?: readonly string[];
  /** Wait before the first notification of a new group. Default 30s. */
  readonly groupWaitMs?: number;
  /** Wait before notifying about alerts added to a group. Default 5m. */
  readonly groupIntervalMs?: number;
}

/** The receiver name of alerts at `severity`. */
export function receiverName(severity: string): string {
  return `cryptoml-${severity}`;
}

/**
 * Severities from lowest to highest: by the furthest position each takes in any rule's levels
 * (warning → critical → page), ties in order of appearance.
 */
export function severities(rules: readonly AlertRule[]): string[] {
  const rank = new Map<string, number>();
  for (const rule of rules) {
    for (const [i, level] of rule.levels.entries()) {
      rank.set(level.severity, Math.max(rank.get(level.severity) ?? 0, i));
    }
  }
  return [...rank.keys()].sort((a, b) => (rank.get(a) ?? 0) - (rank.get(b) ?? 0));
}

interface SeverityRoute {
  matchers: string[];
  receiver: string;
  repeat_interval: string;
  routes?: { matchers: string[]; repeat_interval: string }[];
}

/**
 * One route per severity. Its repeat interval is the first rule's for that severity; a rule whose
 * level repeats at another pace gets a nested route matching its alert name.
 */
function severityRoute(rules: readonly AlertRule[], severity: string): SeverityRoute {
  const repeats = rules.flatMap((rule) =>
    rule.levels.filter((l) => l.severity === severity).map((l) => ({ rule: rule.name, ms: l.repeatMs })),
  );
  const usual = repeats[0]?.ms ?? 0;
  const exceptions = repeats.filter((r) => r.ms !== usual);
  return {
    matchers: [`severity="${severity}"`],
    receiver: receiverName(severity),
    repeat_interval: promDuration(usual),
    ...(exceptions.length > 0
      ? {
          routes: exceptions.map((r) => ({
            matchers: [`alertname="${r.rule}"`],
            repeat_interval: promDuration(r.ms),
          })),
        }
      : {}),
  };
}

/** The labels two levels of one alert share: the alert name, the target and the series' own labels. */
function alertIdentityLabels(rules: readonly AlertRule[]): string[] {
  const labels = new Set(["alertname", "job", "instance"]);
  for (const rule of rules) {
    for (const label of catalogMetricOf(rule.condition.metric)?.labels ?? []) labels.add(label);
    for (const label of Object.keys(rule.labels ?? {})) labels.add(label);
  }
  labels.delete("severity");
  return [...labels];
}

/** Every (higher, lower) severity pair some rule escalates through, higher first. */
function inhibitPairs(rules: readonly AlertRule[]): [string, string][] {
  const pairs = new Map<string, [string, string]>();
  for (const rule of rules) {
    rule.levels.forEach((higher, i) => {
      for (const lower of rule.levels.slice(0, i)) {
        pairs.set(`${higher.severity}>${lower.severity}`, [higher.severity, lower.severity]);
      }
    });
  }
  return [...pairs.values()];
}

/** The alertmanager.yml document for `rules` (serialise with `yaml`). */
export function alertmanagerConfig(
  rules: readonly AlertRule[],
  options: AlertmanagerOptions = {},
): Record<string, unknown> {
  const base = (options.webhookUrl ?? DEFAULT_WEBHOOK_URL).replace(/\/+$/, "");
  const levels = severities(rules);
  const equal = alertIdentityLabels(rules);
  const webhook = (url: string) => ({ webhook_configs: [{ url, send_resolved: true }] });
  return {
    route: {
      receiver: "cryptoml",
      group_by: ["alertname", ...(options.groupBy ?? []).filter((l) => l !== "alertname")],
      group_wait: promDuration(options.groupWaitMs ?? 30_000),
      group_interval: promDuration(options.groupIntervalMs ?? 300_000),
      repeat_interval: "1h",
      routes: levels.map((severity) => severityRoute(rules, severity)),
    },
    receivers: [
      { name: "cryptoml", ...webhook(base) },
      ...levels.map((severity) => ({ name: receiverName(severity), ...webhook(`${base}/${severity}`) })),
    ],
    inhibit_rules: inhibitPairs(rules).map(([higher, lower]) => ({
      source_matchers: [`severity="${higher}"`],
      target_matchers: [`severity="${lower}"`],
      equal,
    })),
  };
}
