import { describe, expect, it } from "vitest";
import { DEFAULT_RULES } from "../rules/defaults.js";
import type { AlertRule, Condition } from "../rules/types.js";
import { aggregate, compare, RuleEvaluator } from "./evaluate.js";
import type { Sample, ScrapeResult } from "./types.js";

const MIN = 60_000;
const LEVELS = [{ severity: "warning", afterMs: 0, receivers: ["log"], repeatMs: 60 * MIN }];

function rule(condition: Condition, forMs = 0): AlertRule {
  return { name: "TestRule", condition, forMs, summary: "s {{symbol}}", description: "d", levels: LEVELS };
}

function scrape(samples: Sample[], atMs: number, up = true): ScrapeResult {
  return { target: "http://h:1/metrics", instance: "h:1", up, samples: up ? samples : [], scrapedAtMs: atMs };
}

const loss = (
  value: number,
  labels: Record<string, string> = { symbol: "BTCUSDT", model: "lstm" },
): Sample => ({
  name: "m",
  labels,
  value,
});

describe("RuleEvaluator", () => {
  it("threshold: one alert per matching series, labelled with alertname, series labels and instance", () => {
    const ev = new RuleEvaluator([
      rule({ kind: "threshold", metric: "m", op: ">", value: 1, labels: { model: "lstm" } }),
    ]);
    const out = ev.evaluate(
      [
        scrape(
          [loss(2), loss(0.5, { symbol: "ETHUSDT", model: "lstm" }), loss(5, { symbol: "X", model: "gru" })],
          0,
        ),
      ],
      0,
    );
    expect(out.alerts).toHaveLength(1);
    expect(out.alerts[0]?.labels).toEqual({
      alertname: "TestRule",
      symbol: "BTCUSDT",
      model: "lstm",
      instance: "h:1",
    });
    expect(out.alerts[0]?.state).toBe("firing");
    expect(out.alerts[0]?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it("threshold with NaN never holds; not_finite holds for NaN and ±Inf only", () => {
    const threshold = new RuleEvaluator([rule({ kind: "threshold", metric: "m", op: "<", value: 1 })]);
    expect(threshold.evaluate([scrape([loss(Number.NaN)], 0)], 0).alerts).toHaveLength(0);
    const nf = new RuleEvaluator([rule({ kind: "not_finite", metric: "m" })]);
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      expect(nf.evaluate([scrape([loss(v)], 0)], 0).alerts).toHaveLength(1);
    expect(
      new RuleEvaluator([rule({ kind: "not_finite", metric: "m" })]).evaluate([scrape([loss(3)], 0)], 0)
        .alerts,
    ).toHaveLength(0);
  });

  it("stale: the metric's Unix time older than `seconds`", () => {
    const ev = new RuleEvaluator([rule({ kind: "stale", metric: "m", seconds: 600 })]);
    const now = 1_000_000_000;
    expect(ev.evaluate([scrape([loss(now / 1000 - 599)], now)], now).alerts).toHaveLength(0);
    expect(ev.evaluate([scrape([loss(now / 1000 - 601)], now)], now).alerts).toHaveLength(1);
  });

  it("forMs: pending until the condition has held that long, then firing; resolved once when it stops", () => {
    const ev = new RuleEvaluator([rule({ kind: "threshold", metric: "m", op: ">", value: 1 }, 5 * MIN)]);
    expect(ev.evaluate([scrape([loss(2)], 0)], 0).alerts[0]?.state).toBe("pending");
    expect(ev.evaluate([scrape([loss(2)], 4 * MIN)], 4 * MIN).alerts[0]?.state).toBe("pending");
    const firing = ev.evaluate([scrape([loss(2)], 5 * MIN)], 5 * MIN).alerts[0];
    expect(firing).toMatchObject({ state: "firing", activeSinceMs: 0, firingSinceMs: 5 * MIN });
    const ended = ev.evaluate([scrape([loss(0)], 6 * MIN)], 6 * MIN);
    expect(ended.alerts).toHaveLength(0);
    expect(ended.resolved).toMatchObject([
      { fingerprint: firing?.fingerprint, firingSinceMs: 5 * MIN, resolvedAtMs: 6 * MIN },
    ]);
    expect(ev.evaluate([scrape([loss(0)], 7 * MIN)], 7 * MIN).resolved).toHaveLength(0);
  });

  it("a pending alert whose condition stops is dropped without a resolved notification", () => {
    const ev = new RuleEvaluator([rule({ kind: "threshold", metric: "m", op: ">", value: 1 }, 5 * MIN)]);
    ev.evaluate([scrape([loss(2)], 0)], 0);
    const out = ev.evaluate([scrape([loss(0)], MIN)], MIN);
    expect(out.alerts).toHaveLength(0);
    expect(out.resolved).toHaveLength(0);
    // and it starts over: pending again, not firing
    expect(ev.evaluate([scrape([loss(2)], 2 * MIN)], 2 * MIN).alerts[0]?.state).toBe("pending");
  });

  it.each([
    ["min", ">", 3, [1, 2, 3.5], true], // 3.5 > 3 × 1
    ["min", ">", 3, [1, 2, 2.9], false],
    ["max", "<", 0.5, [10, 8, 4], true], // 4 < 0.5 × 10
    ["avg", "<", 0.5, [10, 10, 4], false], // avg 8: 4 < 4 is false
    ["avg", "<", 0.5, [10, 10, 10, 2], true], // avg 8: 2 < 4
  ] as const)("window %s %s %s× over %j → %s", (fn, op, factor, values, expected) => {
    const ev = new RuleEvaluator([rule({ kind: "window", metric: "m", fn, windowMs: 60 * MIN, op, factor })]);
    let last = ev.evaluate([], 0);
    values.forEach((v, i) => {
      last = ev.evaluate([scrape([loss(v)], i * MIN)], i * MIN);
    });
    expect(last.alerts.length > 0).toBe(expected);
  });

  it("window: samples older than windowMs no longer count (history is bounded)", () => {
    const ev = new RuleEvaluator([
      rule({ kind: "window", metric: "m", fn: "min", windowMs: 10 * MIN, op: ">", factor: 3 }),
    ]);
    ev.evaluate([scrape([loss(1)], 0)], 0); // best 1
    expect(ev.evaluate([scrape([loss(4)], 5 * MIN)], 5 * MIN).alerts).toHaveLength(1); // 4 > 3 × 1
    // at 11 min the 1 has left the window: min is 4 (and 4.5 itself) → 4.5 > 12 is false
    expect(ev.evaluate([scrape([loss(4.5)], 11 * MIN)], 11 * MIN).alerts).toHaveLength(0);
  });

  it("a target that is down keeps its alerts, held, for less than the staleness bound", () => {
    const ev = new RuleEvaluator([rule({ kind: "not_finite", metric: "m" })]);
    const first = ev.evaluate([scrape([loss(Number.NaN)], 0)], 0);
    const down = ev.evaluate([{ ...scrape([], MIN, false), error: "connection refused" }], MIN);
    expect(down.resolved).toHaveLength(0);
    expect(down.alerts).toMatchObject([{ fingerprint: first.alerts[0]?.fingerprint, heldSinceMs: MIN }]);
    expect(first.alerts[0]?.heldSinceMs).toBeUndefined();
    expect(down.targets).toEqual([
      {
        target: "http://h:1/metrics",
        instance: "h:1",
        up: false,
        lastScrapeMs: MIN,
        error: "connection refused",
      },
    ]);
    expect(ev.evaluate([scrape([loss(1)], 2 * MIN)], 2 * MIN).resolved).toHaveLength(1);
  });

  it("alerts of a target down for the staleness bound resolve, once; a returning target starts over", () => {
    const ev = new RuleEvaluator([rule({ kind: "not_finite", metric: "m" })], { staleAfterMs: 5 * MIN });
    const first = ev.evaluate([scrape([loss(Number.NaN)], 0)], 0).alerts[0];
    for (const t of [1, 2, 3, 4, 5.5])
      expect(ev.evaluate([scrape([], t * MIN, false)], t * MIN).alerts, `at ${t} min`).toHaveLength(1);
    const stale = ev.evaluate([scrape([], 6 * MIN, false)], 6 * MIN);
    expect(stale.alerts).toHaveLength(0);
    expect(stale.resolved).toMatchObject([{ fingerprint: first?.fingerprint, resolvedAtMs: 6 * MIN }]);
    expect(ev.evaluate([scrape([], 7 * MIN, false)], 7 * MIN).resolved).toHaveLength(0);
    const back = ev.evaluate([scrape([loss(Number.NaN)], 8 * MIN)], 8 * MIN).alerts[0];
    expect(back).toMatchObject({ activeSinceMs: 8 * MIN, firingSinceMs: 8 * MIN });
    expect(back?.heldSinceMs).toBeUndefined();
  });

  it('evaluates a synthetic up{job="cryptoml"}: 1 after a good scrape, 0 after a failed one', () => {
    const targetDown = DEFAULT_RULES.find((r) => r.name === "TargetDown") as AlertRule;
    const ev = new RuleEvaluator([targetDown]);
    expect(ev.evaluate([scrape([loss(1)], 0)], 0).alerts).toHaveLength(0);
    const pending = ev.evaluate([scrape([], MIN, false)], MIN).alerts;
    expect(pending).toMatchObject([
      { state: "pending", value: 0, labels: { alertname: "TargetDown", job: "cryptoml", instance: "h:1" } },
    ]);
    // TargetDown itself holds on a down target, so it is neither held nor resolved by staleness.
    const firing = ev.evaluate([scrape([], 2 * MIN, false)], 2 * MIN).alerts;
    expect(firing).toMatchObject([{ state: "firing", firingSinceMs: 2 * MIN }]);
    expect(firing[0]?.heldSinceMs).toBeUndefined();
    expect(ev.evaluate([scrape([], 60 * MIN, false)], 60 * MIN).alerts).toMatchObject([{ state: "firing" }]);
    expect(ev.evaluate([scrape([], 61 * MIN)], 61 * MIN).resolved).toMatchObject([
      { labels: { alertname: "TargetDown" } },
    ]);
  });

  it("a job matcher other than cryptoml selects nothing in the monitor", () => {
    const ev = new RuleEvaluator([
      rule({ kind: "threshold", metric: "up", labels: { job: "node" }, op: "==", value: 0 }),
    ]);
    expect(ev.evaluate([scrape([], 0, false)], 0).alerts).toHaveLength(0);
  });

  it("a series' own instance label is kept as exported_instance", () => {
    const ev = new RuleEvaluator([rule({ kind: "not_finite", metric: "m" })]);
    const out = ev.evaluate([scrape([loss(Number.NaN, { instance: "worker-1" })], 0)], 0);
    expect(out.alerts[0]?.labels).toMatchObject({ instance: "h:1", exported_instance: "worker-1" });
  });
});

describe("aggregate and compare (PromQL's *_over_time and comparisons)", () => {
  const { NaN: nan, POSITIVE_INFINITY: inf, NEGATIVE_INFINITY: ninf } = Number;
  it.each([
    ["min", [3, nan, 1], 1],
    ["max", [3, nan, 1], 3],
    ["min", [nan, 2], 2],
    ["min", [nan, nan], nan],
    ["max", [nan], nan],
    ["min", [ninf, 1], ninf],
    ["max", [1, inf, nan], inf],
    ["avg", [1, 2, 3], 2],
    ["avg", [1, nan, 3], nan],
    ["avg", [1, inf], inf],
    ["avg", [inf, ninf], nan],
    ["avg", [1e308, 1e308], 1e308], // an incremental mean does not overflow
    ["avg", [], nan],
  ] as const)("%s_over_time(%j) = %s", (fn, values, expected) => {
    expect(aggregate(fn, values)).toBe(expected);
  });

  it("every comparison with NaN is false except !=", () => {
    for (const op of [">", ">=", "<", "<=", "=="] as const) {
      expect(compare(Number.NaN, op, 1), op).toBe(false);
      expect(compare(1, op, Number.NaN), op).toBe(false);
    }
    expect(compare(Number.NaN, "!=", 1)).toBe(true);
    expect(compare(0, "==", 0)).toBe(true);
  });

  it("a window whose samples include NaN: min ignores it, avg never alerts", () => {
    const fire = (fn: "min" | "avg", values: number[]) => {
      const ev = new RuleEvaluator([
        rule({ kind: "window", metric: "m", fn, windowMs: 60 * MIN, op: ">", factor: 2 }),
      ]);
      let last = ev.evaluate([], 0);
      values.forEach((v, i) => {
        last = ev.evaluate([scrape([loss(v)], i * MIN)], i * MIN);
      });
      return last.alerts.length > 0;
    };
    expect(fire("min", [1, Number.NaN, 3])).toBe(true); // 3 > 2 × 1
    expect(fire("avg", [1, Number.NaN, 30])).toBe(false); // avg is NaN
  });
});
