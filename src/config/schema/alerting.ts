import * as z from "zod";
import { addRule, int, matching, text } from "./rules.js";

const DURATION = /^(?:\d+(?:ms|s|m|h|d))+$/;
const duration = () =>
  matching(DURATION, 'must be a duration like "0s", "500ms", "15s", "5m", "2h", "1d" or "1h30m"');
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
