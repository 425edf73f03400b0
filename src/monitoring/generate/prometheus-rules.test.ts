import { describe, expect, it } from "vitest";
import { DEFAULT_RULES } from "../rules/defaults.js";
import type { AlertRule } from "../rules/types.js";
import { prometheusRules } from "./prometheus-rules.js";
import { catalogMetricOf, metricNames } from "./promql.js";

const RULE: AlertRule = {
  name: "LossHigh",
  condition: {
    kind: "threshold",
    metric: "cryptoml_training_loss",
    labels: { split: "val" },
    op: ">",
    value: 2,
  },
  forMs: 120_000,
  summary: "Loss of {{symbol}}/{{ model }} is high",
  description: "Over 2 on {{split}}.",
  labels: { team: "ml" },
  levels: [
    { severity: "warning", afterMs: 0, receivers: ["log"], repeatMs: 3_600_000 },
    { severity: "critical", afterMs: 600_000, receivers: ["log"], repeatMs: 1_800_000 },
  ],
};

describe("prometheusRules", () => {
  it("writes one alerting rule per level, for = forMs + afterMs, severity and the rule's labels", () => {
    const [group] = prometheusRules([RULE]).groups;
    expect(group?.name).toBe("cryptoml");
    expect(group?.rules).toEqual([
      {
        alert: "LossHigh",
        expr: 'cryptoml_training_loss{split="val"} > 2',
        for: "2m",
        labels: { team: "ml", severity: "warning" },
        annotations: {
          summary: "Loss of {{ $labels.symbol }}/{{ $labels.model }} is high",
          description: "Over 2 on {{ $labels.split }}.",
        },
      },
      expect.objectContaining({
        alert: "LossHigh",
        for: "12m",
        labels: { team: "ml", severity: "critical" },
      }),
    ]);
  });

  it("leaves out for: when the level fires at once", () => {
    const rules = prometheusRules([{ ...RULE, forMs: 0 }]).groups[0]?.rules ?? [];
    expect(rules[0]).not.toHaveProperty("for");
    expect(rules[1]?.for).toBe("10m");
  });

  it("translates every built-in rule and level, reading only catalog metrics", () => {
    const rules = prometheusRules(DEFAULT_RULES).groups[0]?.rules ?? [];
    expect(rules).toHaveLength(DEFAULT_RULES.reduce((n, r) => n + r.levels.length, 0));
    expect(new Set(rules.map((r) => r.alert))).toEqual(new Set(DEFAULT_RULES.map((r) => r.name)));
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      expect(names.length, rule.expr).toBeGreaterThan(0);
      for (const name of names) expect(catalogMetricOf(name), `${name} in ${rule.alert}`).toBeDefined();
      expect(`${rule.annotations.summary} ${rule.annotations.description}`).not.toMatch(/\{\{\s*[a-z]/);
    }
  });
});
