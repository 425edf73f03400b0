import { describe, expect, it } from "vitest";
import type { AlertRule } from "../rules/types.js";
import { EscalationEngine, type EscalationOptions } from "./escalation.js";
import { fingerprint } from "./labels.js";
import { SilenceStore } from "./silences.js";
import type { ActiveAlert, Evaluation, Notification } from "./types.js";

const MIN = 60_000;
const RULE: AlertRule = {
  name: "LossBad",
  condition: { kind: "not_finite", metric: "cryptoml_training_step_loss" },
  forMs: 0,
  summary: "Loss of {{symbol}} is {{severity}}",
  description: "d",
  levels: [
    { severity: "warning", afterMs: 0, receivers: ["log"], repeatMs: 10 * MIN },
    { severity: "critical", afterMs: 15 * MIN, receivers: ["log", "webhook"], repeatMs: 5 * MIN },
  ],
};

function alert(symbol: string, firingSinceMs = 0): ActiveAlert {
  const labels = { alertname: RULE.name, symbol, instance: "h:1" };
  return {
    fingerprint: fingerprint(labels),
    rule: RULE,
    labels,
    state: "firing",
    activeSinceMs: firingSinceMs,
    firingSinceMs,
    value: Number.NaN,
  };
}

const evaluation = (
  atMs: number,
  alerts: ActiveAlert[],
  resolved: Evaluation["resolved"] = [],
): Evaluation => ({
  atMs,
  alerts,
  resolved,
  targets: [],
});

function engine(options: EscalationOptions = { groupIntervalMs: 0 }) {
  const silences = new SilenceStore(() => "s1");
  return { silences, engine: new EscalationEngine(silences, options) };
}

/** `receiver:severity,severity` per notification, e.g. `log:warning`. */
const summary = (ns: readonly Notification[]) =>
  ns.map(
    (n) =>
      `${n.receiver}:${n.alerts.map((a) => `${a.status === "resolved" ? "resolved " : ""}${a.labels.severity}`).join(",")}`,
  );

describe("EscalationEngine", () => {
  it("notifies on entering each level and repeats every repeatMs at that level", () => {
    const { engine: e } = engine();
    const a = alert("BTCUSDT");
    const at = (m: number) => summary(e.update(evaluation(m * MIN, [a]), m * MIN));
    expect(at(0)).toEqual(["log:warning"]);
    expect(at(5)).toEqual([]);
    expect(at(10)).toEqual(["log:warning"]); // repeat
    expect(at(15)).toEqual(["log:critical", "webhook:critical"]); // climbed
    expect(at(19)).toEqual([]);
    expect(at(20)).toEqual(["log:critical", "webhook:critical"]);
  });

  it("an alert held on a down target keeps its level (repeats, never climbs) until fresh again", () => {
    const { engine: e } = engine();
    const a = alert("BTCUSDT");
    const held = { ...a, heldSinceMs: 10 * MIN };
    const at = (m: number, x: ActiveAlert) => summary(e.update(evaluation(m * MIN, [x]), m * MIN));
    expect(at(0, a)).toEqual(["log:warning"]);
    expect(at(10, held)).toEqual(["log:warning"]); // repeat at its level
    expect(at(15, held)).toEqual([]); // would climb to critical if fresh
    expect(e.alerts(16 * MIN)[0]).toMatchObject({ severity: "warning", level: 0 });
    expect(at(16, a)).toEqual(["log:critical", "webhook:critical"]); // the target answers again
  });

  it("renders severity into labels and {{label}} templates", () => {
    const { engine: e } = engine();
    const [n] = e.update(evaluation(0, [alert("BTCUSDT")]), 0);
    expect(n?.alerts[0]?.labels).toMatchObject({
      alertname: "LossBad",
      severity: "warning",
      symbol: "BTCUSDT",
    });
    expect(n?.alerts[0]?.annotations.summary).toBe("Loss of BTCUSDT is warning");
    expect(n?.groupKey).toBe('{}:{alertname="LossBad"}');
  });

  it("groups alerts of one rule: group_wait gathers, group_interval spaces notifications", () => {
    const { engine: e } = engine({ groupWaitMs: 30_000, groupIntervalMs: 2 * MIN });
    const btc = alert("BTCUSDT", 0);
    expect(e.update(evaluation(0, [btc]), 0)).toEqual([]); // waiting for more
    const eth = alert("ETHUSDT", 15_000);
    const first = e.update(evaluation(30_000, [btc, eth]), 30_000);
    expect(first).toHaveLength(1);
    expect(first[0]?.alerts.map((x) => x.labels.symbol)).toEqual(["BTCUSDT", "ETHUSDT"]);
    const ada = alert("ADAUSDT", MIN);
    expect(e.update(evaluation(MIN, [btc, eth, ada]), MIN)).toEqual([]); // within group_interval
    const second = e.update(evaluation(2.5 * MIN, [btc, eth, ada]), 2.5 * MIN);
    expect(second[0]?.alerts.map((x) => x.labels.symbol)).toEqual(["ADAUSDT"]);
  });

  it("group_by splits a rule's alerts into groups", () => {
    const { engine: e } = engine({ groupBy: ["symbol"], groupIntervalMs: 0 });
    const out = e.update(evaluation(0, [alert("BTCUSDT"), alert("ETHUSDT")]), 0);
    expect(out.map((n) => n.groupKey)).toEqual([
      '{}:{alertname="LossBad", symbol="BTCUSDT"}',
      '{}:{alertname="LossBad", symbol="ETHUSDT"}',
    ]);
  });

  it("an acknowledged alert stops escalating and repeating; firing again later is a new alert", () => {
    const { engine: e } = engine();
    const a = alert("BTCUSDT");
    e.update(evaluation(0, [a]), 0);
    const acked = e.acknowledge({ fingerprint: a.fingerprint }, "ana", "looking", 2 * MIN);
    expect(acked[0]?.acknowledged).toEqual({ atMs: 2 * MIN, by: "ana", comment: "looking" });
    for (const m of [10, 15, 30, 60]) expect(e.update(evaluation(m * MIN, [a]), m * MIN)).toEqual([]);
    expect(e.alerts(60 * MIN)[0]).toMatchObject({ severity: "warning", level: 0 });
    // resolves: the receivers told of it hear so
    const resolved = e.update(
      evaluation(
        61 * MIN,
        [],
        [
          {
            fingerprint: a.fingerprint,
            rule: RULE,
            labels: a.labels,
            firingSinceMs: 0,
            resolvedAtMs: 61 * MIN,
          },
        ],
      ),
      61 * MIN,
    );
    expect(summary(resolved)).toEqual(["log:resolved warning"]);
    expect(resolved[0]?.status).toBe("resolved");
    // fires again: a new alert, unacknowledged, notified from the first level
    const again = alert("BTCUSDT", 70 * MIN);
    expect(summary(e.update(evaluation(70 * MIN, [again]), 70 * MIN))).toEqual(["log:warning"]);
    expect(e.alerts(70 * MIN)[0]?.acknowledged).toBeNull();
  });

  it("acknowledges by matchers, and refuses what matches nothing", () => {
    const { engine: e } = engine();
    e.update(evaluation(0, [alert("BTCUSDT"), alert("ETHUSDT")]), 0);
    expect(e.acknowledge({ matchers: { symbol: "ETHUSDT" } }, "x", "", 0)).toHaveLength(1);
    expect(() => e.acknowledge({ matchers: { symbol: "NOPE" } }, "x", "", 0)).toThrow(
      /no firing alert matches/,
    );
    expect(() => e.acknowledge({}, "x", "", 0)).toThrow(
      /either one alert by fingerprint or alerts by matchers/,
    );
  });

  it("silenced alerts notify nobody but stay visible; after the silence they notify at their level", () => {
    const { engine: e, silences } = engine();
    const a = alert("BTCUSDT");
    silences.add({ matchers: { symbol: "BTCUSDT" }, endsAtMs: 20 * MIN }, 0);
    expect(e.update(evaluation(0, [a]), 0)).toEqual([]);
    expect(e.update(evaluation(16 * MIN, [a]), 16 * MIN)).toEqual([]);
    expect(e.alerts(16 * MIN)[0]).toMatchObject({ silencedBy: ["s1"], severity: "critical" });
    expect(summary(e.update(evaluation(20 * MIN, [a]), 20 * MIN))).toEqual([
      "log:critical",
      "webhook:critical",
    ]);
  });

  it("pending alerts are listed but never notified", () => {
    const { engine: e } = engine();
    const pending: ActiveAlert = { ...alert("BTCUSDT"), state: "pending" };
    const { firingSinceMs: _, ...withoutFiring } = pending;
    expect(e.update(evaluation(0, [withoutFiring]), 0)).toEqual([]);
    expect(e.alerts(0)).toMatchObject([{ state: "pending", severity: null, level: null }]);
  });
});
