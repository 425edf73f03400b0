import { describe, expect, it } from "vitest";
import { DEFAULT_RULES } from "../rules/defaults.js";
import type { AlertRule, EscalationLevel } from "../rules/types.js";
import { alertmanagerConfig, severities } from "./alertmanager.js";

const level = (severity: string, afterMin: number, repeatMin: number): EscalationLevel => ({
  severity,
  afterMs: afterMin * 60_000,
  receivers: ["log"],
  repeatMs: repeatMin * 60_000,
});
const rule = (name: string, levels: EscalationLevel[]): AlertRule => ({
  name,
  condition: { kind: "threshold", metric: "cryptoml_trading_pnl", op: "<", value: 0 },
  forMs: 0,
  summary: "s",
  description: "d",
  levels,
});

interface Route {
  matchers: string[];
  receiver?: string;
  repeat_interval: string;
  routes?: Route[];
}

describe("alertmanagerConfig", () => {
  it("orders severities from lowest to highest across rules", () => {
    expect(severities(DEFAULT_RULES)).toEqual(["warning", "critical", "page"]);
  });

  it("routes each severity to its receiver with the level's repeat interval", () => {
    const config = alertmanagerConfig(DEFAULT_RULES, { webhookUrl: "http://hooks.example/am/" });
    const route = config.route as { group_by: string[]; routes: Route[] };
    expect(route.group_by).toEqual(["alertname"]);
    expect(route.routes.map((r) => [r.matchers, r.receiver, r.repeat_interval])).toEqual([
      [['severity="warning"'], "cryptoml-warning", "1h"],
      [['severity="critical"'], "cryptoml-critical", "30m"],
      [['severity="page"'], "cryptoml-page", "15m"],
    ]);
    const receivers = config.receivers as { name: string; webhook_configs: { url: string }[] }[];
    expect(receivers.find((r) => r.name === "cryptoml-page")?.webhook_configs[0]?.url).toBe(
      "http://hooks.example/am/page",
    );
  });

  it("groups by alertname plus the labels asked for", () => {
    const config = alertmanagerConfig(DEFAULT_RULES, { groupBy: ["symbol", "alertname"] });
    expect((config.route as { group_by: string[] }).group_by).toEqual(["alertname", "symbol"]);
  });

  it("gives a rule that repeats at another pace its own nested route", () => {
    const config = alertmanagerConfig([
      rule("A", [level("warning", 0, 60)]),
      rule("B", [level("warning", 0, 10)]),
    ]);
    const [warning] = (config.route as { routes: Route[] }).routes;
    expect(warning?.repeat_interval).toBe("1h");
    expect(warning?.routes).toEqual([{ matchers: ['alertname="B"'], repeat_interval: "10m" }]);
  });

  it("inhibits every lower level of the same alert and series by every higher one", () => {
    const config = alertmanagerConfig([
      rule("A", [level("low", 0, 60), level("mid", 5, 30), level("high", 9, 10)]),
    ]);
    const inhibit = config.inhibit_rules as {
      source_matchers: string[];
      target_matchers: string[];
      equal: string[];
    }[];
    expect(inhibit.map((r) => [r.source_matchers[0], r.target_matchers[0]])).toEqual([
      ['severity="mid"', 'severity="low"'],
      ['severity="high"', 'severity="low"'],
      ['severity="high"', 'severity="mid"'],
    ]);
    expect(inhibit[0]?.equal).toEqual(["alertname", "job", "instance", "symbol", "strategy"]);
  });
});
