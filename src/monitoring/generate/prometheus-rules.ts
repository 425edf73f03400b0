/**
 * Alert rules as a Prometheus rule file. Escalation has no native form in Prometheus, so each
 * (rule, level) becomes one alerting rule under the rule's name: the level's `for:` is the rule's
 * `forMs` plus the level's `afterMs`, and its `severity` label tells Alertmanager's routes which
 * receiver and repeat interval apply. Alertmanager's inhibit rules then mute the lower levels.
 */
import type { AlertRule } from "../rules/types.js";
import { conditionToPromQL, promDuration } from "./promql.js";

/** One alerting rule of a Prometheus rule group. */
export interface PrometheusAlertingRule {
  readonly alert: string;
  readonly expr: string;
  /** Omitted when 0: the alert fires at the first evaluation that sees the condition. */
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: { readonly summary: string; readonly description: string };
}

export interface PrometheusRuleFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly PrometheusAlertingRule[] }[];
}

/** The rule group name in generated files (and in promtool unit tests). */
export const RULE_GROUP = "cryptoml";

/** `{{symbol}}` placeholders of summaries and descriptions as Prometheus' `{{ $labels.symbol }}`. */
export function labelTemplate(text: string): string {
  return text.replace(/\{\{\s*([a-zA-Z_]\w*)\s*\}\}/g, (_, label: string) => `{{ $labels.${label} }}`);
}

/** The alerting rules of one cryptoml rule, one per escalation level, lowest level first. */
export function alertingRules(rule: AlertRule): PrometheusAlertingRule[] {
  const expr = conditionToPromQL(rule.condition);
  return rule.levels.map((level) => {
    const holdMs = rule.forMs + level.afterMs;
    return {
      alert: rule.name,
      expr,
      ...(holdMs > 0 ? { for: promDuration(holdMs) } : {}),
      labels: { ...rule.labels, severity: level.severity },
      annotations: {
        summary: labelTemplate(rule.summary),
        description: labelTemplate(rule.description),
      },
    };
  });
}

/**
 * A Prometheus rule file (one group, {@link RULE_GROUP}) equivalent to `rules`: any list, the built-in
 * DEFAULT_RULES or a monitor's rules with user overrides.
 */
export function prometheusRules(rules: readonly AlertRule[]): PrometheusRuleFile {
  return { groups: [{ name: RULE_GROUP, rules: rules.flatMap(alertingRules) }] };
}
