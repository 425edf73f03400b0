import * as z from "zod";
import { addRule, int, matching, text } from "./rules.js";

/** The duration forms alerting accepts (here and in rules files), quoted in errors. */
export const DURATION_RULE = 'must be a duration like "0s", "500ms", "15s", "5m", "2h", "1d" or "1h30m"';
export const DURATION_PATTERN = /^(?:\d+(?:ms|s|m|h|d))+$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `5m` → 300000; units d, h, m, s, ms may be combined (`1h30m`); undefined for anything else. */
export function durationMs(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const [, digits, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g))
    total += Number(digits) * (UNIT_MS[unit as string] as number);
  return total;
}

const duration = () => matching(DURATION_PATTERN, DURATION_RULE);

/** One escalation level as written in YAML (alerting.default_levels or a rules file's levels). */
export interface WrittenLevel {
  readonly after: string;
  readonly repeat: string;
  readonly receivers: readonly string[];
}

/** A rule an escalation ladder breaks: the level's index, its field, and the rule. */
export interface LevelProblem {
  readonly index: number;
  readonly field: "after" | "repeat" | "receivers";
  readonly rule: string;
}

/**
 * The checks every escalation ladder gets, wherever it is written (alerting.default_levels here, a
 * rule's levels in a rules file): the first level starts at once, levels are listed in the order they
 * escalate, each repeats after more than 0s and names at least one receiver. Malformed durations are
 * left to the schema, which reports them on their own.
 */
export function levelProblems(levels: readonly WrittenLevel[]): LevelProblem[] {
  const problems: LevelProblem[] = [];
  const after = levels.map((l) => durationMs(l.after));
  if (after[0] !== undefined && after[0] !== 0)
    problems.push({ index: 0, field: "after", rule: "the first level must start at once: after: 0s" });
  for (const [i, level] of levels.entries()) {
    const previous = after[i - 1];
    const own = after[i];
    if (i > 0 && previous !== undefined && own !== undefined && own <= previous)
      problems.push({
        index: i,
        field: "after",
        rule: `must be later than the level before (${levels[i - 1]?.after}); list levels in the order they escalate`,
      });
    if (durationMs(level.repeat) === 0)
      problems.push({ index: i, field: "repeat", rule: "must be longer than 0s, e.g. 1h" });
    if (level.receivers.length === 0)
      problems.push({ index: i, field: "receivers", rule: "must name at least one receiver, e.g. [log]" });
  }
  return problems;
}
const httpUrl = (what: string) =>
  matching(/^https?:\/\/\S+$/, `must be an http:// or https:// URL of ${what}`);
const labelName = matching(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "must be a label name ([a-zA-Z_][a-zA-Z0-9_]*)");

/** An HTTP receiver (webhook or Slack): where to POST and how patiently. */
const httpReceiver = (what: string) =>
  z.strictObject({
    url: httpUrl(what),
    /** Per-attempt timeout. */
    timeout: duration().default("5s"),
    /** Further attempts after 5xx, 429 or network errors, with doubling backoff. */
    retries: int({ min: 0, max: 10 }).default(3),
  });

const level = z.strictObject({
  severity: text("a severity name, e.g. warning"),
  /** Time since the alert started firing. */
  after: duration(),
  receivers: z
    .array(text("a receiver name: log, webhook or slack"), { error: "must be a list of receiver names" })
    .min(1, { error: "must name at least one receiver, e.g. [log]" }),
  repeat: duration(),
});

/** `alerting:` in monitoring.yaml — `cryptoml monitor`, the alert evaluation service. */
export const alertingSchema = z
  .strictObject({
    /** The /metrics URLs of the cryptoml processes to watch. */
    targets: z
      .array(httpUrl("a /metrics endpoint"), { error: "must be a list of /metrics URLs" })
      .min(1, { error: "must list at least one /metrics URL" })
      .default(["http://127.0.0.1:9464/metrics"]),
    evaluation_interval: duration().default("15s"),
    /** Interface of the monitor's own API (alerts, acknowledgements, silences). */
    host: text("a host name or IP address").default("127.0.0.1"),
    port: int({ min: 1, max: 65535 }).default(9465),
    /** Base URL of the monitor as receivers should link to it; null: http://host:port. */
    external_url: httpUrl("the monitor").nullable().default(null),
    /** A YAML file that changes or adds alert rules; null: the built-in rules only. */
    rules_file: text("a path to a rules YAML file").nullable().default(null),
    group_by: z.array(labelName, { error: "must be a list of label names" }).default(["alertname"]),
    group_wait: duration().default("0s"),
    group_interval: duration().default("1m"),
    /** `log` always exists; webhook and slack exist when configured. */
    receivers: z
      .strictObject({
        webhook: httpReceiver("an Alertmanager-compatible webhook").nullable().default(null),
        slack: httpReceiver("a Slack incoming webhook").nullable().default(null),
      })
      .prefault({}),
    /** Levels for rules on the standard ladder and new rules without levels; null: the built-in ladder. */
    default_levels: z
      .array(level, { error: "must be a list of levels" })
      .min(1, { error: "must list at least one level" })
      .nullable()
      .default(null),
  })
  .superRefine((value, ctx) => {
    for (const problem of levelProblems(value.default_levels ?? []))
      addRule(ctx, ["default_levels", problem.index, problem.field], problem.rule);
    const configured = new Set([
      "log",
      ...Object.keys(value.receivers).filter((k) => value.receivers[k as "webhook"] !== null),
    ]);
    for (const [i, l] of (value.default_levels ?? []).entries())
      for (const [j, name] of l.receivers.entries())
        if (!configured.has(name))
          addRule(
            ctx,
            ["default_levels", i, "receivers", j],
            `must be a configured receiver (${[...configured].join(", ")})`,
            {
              value: name,
            },
          );
  })
  .prefault({});

export type AlertingConfig = z.output<typeof alertingSchema>;
