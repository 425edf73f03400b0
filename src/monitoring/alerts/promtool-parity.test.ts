/**
 * The monitor and Prometheus agree on every built-in rule: each promtool unit test of
 * test/fixtures/promtool/ (which `promtool test rules` runs on the generated rules, see
 * test/integration/monitoring-generate.test.ts) is replayed through {@link RuleEvaluator}, which must
 * fire the same alerts at the same eval times. Prometheus has one alerting rule per escalation level
 * (`for:` = the rule's forMs + the level's afterMs), so a firing alert here stands for every level whose
 * afterMs has passed since it started firing.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULT_RULES } from "../rules/defaults.js";
import { MONITOR_JOB, RuleEvaluator } from "./evaluate.js";
import { durationMs } from "./labels.js";
import type { Evaluation, Labels, Sample, ScrapeResult } from "./types.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/promtool");
/** Prometheus' lookback delta: an instant vector takes the newest sample at most this old. */
const LOOKBACK_MS = 5 * 60_000;

const NUMBER = String.raw`[+-]?(?:Inf|NaN|\d+(?:\.\d*)?(?:e[+-]?\d+)?)`;
const EXPANDING = new RegExp(`^(${NUMBER})(?:([+-])(${NUMBER}))?x(\\d+)$`, "i");

function number(text: string): number {
  const inf = /^([+-]?)inf$/i.exec(text);
  if (inf) return inf[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return /^[+-]?nan$/i.test(text) ? Number.NaN : Number(text);
}

/**
 * promtool's series values: `a+bxn` (and `a-bxn`) are the n+1 values a, a±b, …, a±n·b; `axn` is a
 * repeated n+1 times; `_` is a missing sample and `_xn` n of them; plain numbers, `NaN` and `±Inf`.
 */
function expandValues(text: string): (number | undefined)[] {
  const values: (number | undefined)[] = [];
  for (const token of text.trim().split(/\s+/)) {
    const missing = /^_(?:x(\d+))?$/.exec(token);
    const expanding = EXPANDING.exec(token);
    if (missing) values.push(...Array<undefined>(Number(missing[1] ?? 1)).fill(undefined));
    else if (expanding) {
      const [, start = "", sign, step, times = "0"] = expanding;
      const delta = step === undefined ? 0 : (sign === "-" ? -1 : 1) * number(step);
      for (let i = 0; i <= Number(times); i++) values.push(number(start) + i * delta);
    } else if (new RegExp(`^${NUMBER}$`, "i").test(token)) values.push(number(token));
    else throw new Error(`unsupported promtool value notation: ${token}`);
  }
  return values;
}

/** `name{a="x",b="y"}` → name and labels. */
function parseSeries(text: string): { name: string; labels: Record<string, string> } {
  const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?$/.exec(text.trim());
  if (!match) throw new Error(`unsupported series: ${text}`);
  const labels: Record<string, string> = {};
  for (const [, k, v] of (match[2] ?? "").matchAll(/([a-zA-Z_]\w*)\s*=\s*"([^"]*)"/g))
    labels[k as string] = v as string;
  return { name: match[1] as string, labels };
}

interface Fixture {
  readonly evaluation_interval?: string;
  readonly tests: readonly {
    readonly interval?: string;
    readonly input_series: readonly { series: string; values: string }[];
    readonly alert_rule_test: readonly {
      eval_time: string;
      alertname: string;
      exp_alerts: readonly { exp_labels: Record<string, string> }[];
    }[];
  }[];
}

type Test = Fixture["tests"][number];
const ms = (text: string | undefined, fallback: number): number =>
  text === undefined ? fallback : (durationMs(text) ?? Number.NaN);

/** What the monitor would scrape at `atMs`: one target per `instance` label, `up` from the up series. */
function scrapesAt(test: Test, intervalMs: number, atMs: number): ScrapeResult[] {
  const targets = new Map<string, { up: boolean; samples: Sample[] }>();
  const target = (instance: string) => {
    const found = targets.get(instance) ?? { up: true, samples: [] };
    targets.set(instance, found);
    return found;
  };
  for (const input of test.input_series) {
    const { name, labels } = parseSeries(input.series);
    const values = expandValues(input.values);
    const newest = Math.min(Math.floor(atMs / intervalMs), values.length - 1);
    let index = newest;
    while (index >= 0 && values[index] === undefined) index--;
    const value = values[index];
    if (value === undefined || atMs - index * intervalMs > LOOKBACK_MS) continue;
    const { instance = "", ...own } = labels;
    // The monitor scrapes cryptoml processes only: up of another job is a target it never sees.
    if (name === "up") {
      if (own.job === MONITOR_JOB) target(instance).up = value === 1;
      continue;
    }
    target(instance).samples.push({ name, labels: own, value, timestampMs: index * intervalMs });
  }
  return [...targets].map(([instance, t]) => ({
    target: `http://${instance}/metrics`,
    instance,
    up: t.up,
    samples: t.up ? t.samples : [],
    scrapedAtMs: atMs,
  }));
}

const key = (labels: Labels) =>
  JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b))));

/** The alerts Prometheus would list for `alertname`: one per level reached by each firing alert. */
function firedLevels(evaluation: Evaluation, alertname: string): string[] {
  const fired: string[] = [];
  for (const alert of evaluation.alerts) {
    if (alert.rule.name !== alertname || alert.state !== "firing") continue;
    const { alertname: _, instance, ...labels } = alert.labels;
    for (const level of alert.rule.levels)
      if (evaluation.atMs - (alert.firingSinceMs ?? 0) >= level.afterMs)
        fired.push(key({ ...labels, ...(instance ? { instance } : {}), severity: level.severity }));
  }
  return fired.sort();
}

const FILES = readdirSync(FIXTURES).filter((f) => f.endsWith(".test.yml"));

describe("expandValues", () => {
  it.each([
    ["0+60x3", [0, 60, 120, 180]],
    ["1x2 4-1x2", [1, 1, 1, 4, 3, 2]],
    ["0.5 NaN+0x1 -Inf 1e300+0x1", [0.5, Number.NaN, Number.NaN, Number.NEGATIVE_INFINITY, 1e300, 1e300]],
    ["1 _ _x2 2", [1, undefined, undefined, undefined, 2]],
  ] as const)("%s", (text, expected) => {
    expect(expandValues(text)).toEqual(expected);
  });
});

describe.each(FILES)("the monitor agrees with promtool on %s", (file) => {
  const fixture = parse(readFileSync(join(FIXTURES, file), "utf8")) as Fixture;
  const evalIntervalMs = ms(fixture.evaluation_interval, 60_000);
  it.each(fixture.tests.map((test, i) => [i, test] as const))("test %i", (_, test) => {
    const intervalMs = ms(test.interval, evalIntervalMs);
    const checks = new Map(test.alert_rule_test.map((c) => [ms(c.eval_time, 0), c] as const));
    const evaluator = new RuleEvaluator(DEFAULT_RULES);
    const last = Math.max(...checks.keys());
    for (let atMs = 0; atMs <= last; atMs += evalIntervalMs) {
      const evaluation = evaluator.evaluate(scrapesAt(test, intervalMs, atMs), atMs);
      const check = checks.get(atMs);
      if (check === undefined) continue;
      const expected = check.exp_alerts.map((a) => key(a.exp_labels)).sort();
      expect(firedLevels(evaluation, check.alertname), `${check.alertname} at ${check.eval_time}`).toEqual(
        expected,
      );
    }
  });
});
