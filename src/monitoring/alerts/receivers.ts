/**
 * Where notifications go: a log line, a webhook in Alertmanager's payload format (version 4, so any
 * Alertmanager webhook consumer works unchanged) or a Slack incoming webhook.
 */
import { NetworkError } from "../../core/errors.js";
import type { Notification, NotifiedAlert, Receiver } from "./types.js";

/** How HTTP receivers deliver. */
export interface DeliveryOptions {
  /** Per-attempt timeout; default 5000 ms. */
  readonly timeoutMs?: number;
  /** Further attempts after a 5xx, a 429 or a network error; default 3. */
  readonly retries?: number;
  /** Wait before the first retry, doubled for each next one; default 500 ms. */
  readonly backoffMs?: number;
  /** Injected for tests; default the global fetch. */
  readonly fetch?: typeof fetch;
  /** Injected for tests; default a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Alertmanager's "not ended" time for firing alerts. */
const ZERO_TIME = "0001-01-01T00:00:00Z";

/** A line per notification, e.g. `[firing] TrainingLossNotFinite critical {…}: summary`. */
export function logReceiver(log: (line: string) => void, name = "log"): Receiver {
  return {
    name,
    async send(notification) {
      for (const alert of notification.alerts) {
        const { alertname, severity, ...rest } = alert.labels;
        const labels = Object.entries(rest)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ");
        log(
          `[${alert.status}] ${alertname ?? "?"} ${severity ?? ""} ${alert.fingerprint} ${labels}: ${alert.annotations.summary ?? ""}`,
        );
      }
    },
  };
}

export interface WebhookAlertV4 {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** Alertmanager's webhook payload, version 4. */
export interface WebhookPayloadV4 {
  version: "4";
  groupKey: string;
  truncatedAlerts: number;
  status: "firing" | "resolved";
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlertV4[];
}

/** The labels (or annotations) every alert shares with the same value. */
function common(maps: readonly Readonly<Record<string, string>>[]): Record<string, string> {
  const [first, ...rest] = maps;
  if (first === undefined) return {};
  return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every((m) => m[k] === v)));
}

/**
 * Builds the v4 payload of a notification.
 * @param externalUrl the monitor's own base URL (`http://127.0.0.1:9465`); alerts link to its API.
 */
export function webhookPayload(notification: Notification, externalUrl: string): WebhookPayloadV4 {
  return {
    version: "4",
    groupKey: notification.groupKey,
    truncatedAlerts: 0,
    status: notification.status,
    receiver: notification.receiver,
    groupLabels: { ...notification.groupLabels },
    commonLabels: common(notification.alerts.map((a) => a.labels)),
    commonAnnotations: common(notification.alerts.map((a) => a.annotations)),
    externalURL: externalUrl,
    alerts: notification.alerts.map((a) => ({
      status: a.status,
      labels: { ...a.labels },
      annotations: { ...a.annotations },
      startsAt: new Date(a.startsAtMs).toISOString(),
      endsAt: a.endsAtMs === undefined ? ZERO_TIME : new Date(a.endsAtMs).toISOString(),
      generatorURL: `${externalUrl}/api/alerts?fingerprint=${a.fingerprint}`,
      fingerprint: a.fingerprint,
    })),
  };
}

/** Posts Alertmanager v4 payloads to `url`. */
export function webhookReceiver(
  name: string,
  url: string,
  externalUrl: string,
  options: DeliveryOptions = {},
): Receiver {
  return { name, send: (n) => postJson(name, url, webhookPayload(n, externalUrl), options) };
}

const SEVERITY_COLOURS: Readonly<Record<string, string>> = {
  info: "#439fe0",
  warning: "#daa038",
  critical: "#d00000",
  page: "#7a0000",
};
const RESOLVED_COLOUR = "#2eb886";

/** The Slack incoming-webhook message of a notification: a text line and one coloured attachment per alert. */
export function slackMessage(notification: Notification): {
  text: string;
  attachments: { color: string; title: string; text: string; fallback: string }[];
} {
  const names = [...new Set(notification.alerts.map((a) => a.labels.alertname ?? "?"))].join(", ");
  return {
    text: `[${notification.status.toUpperCase()}:${notification.alerts.length}] ${names}`,
    attachments: notification.alerts.map((a: NotifiedAlert) => {
      const severity = a.labels.severity ?? "";
      const title = `[${a.status}${severity ? ` ${severity}` : ""}] ${a.annotations.summary ?? a.labels.alertname ?? ""}`;
      return {
        color: a.status === "resolved" ? RESOLVED_COLOUR : (SEVERITY_COLOURS[severity] ?? "#808080"),
        title,
        text: `${a.annotations.description ?? ""}\nfingerprint ${a.fingerprint}`,
        fallback: title,
      };
    }),
  };
}

/** Posts Slack incoming-webhook messages to `url`. */
export function slackReceiver(name: string, url: string, options: DeliveryOptions = {}): Receiver {
  return { name, send: (n) => postJson(name, url, slackMessage(n), options) };
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * POSTs JSON, retrying 5xx, 429 and network errors with exponential backoff; a 4xx other than 429
 * fails at once (the payload or URL is wrong, and retrying cannot help).
 * @throws NetworkError after the last attempt, naming the receiver, URL and last reason.
 */
async function postJson(name: string, url: string, body: unknown, options: DeliveryOptions): Promise<void> {
  const {
    timeoutMs = 5000,
    retries = 3,
    backoffMs = 500,
    fetch: doFetch = fetch,
    sleep = realSleep,
  } = options;
  let reason = "";
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1));
    try {
      const response = await doFetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return;
      reason = `HTTP ${response.status}`;
      if (response.status < 500 && response.status !== 429) break;
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
  }
  throw new NetworkError(`receiver ${name}: POST ${url} failed (${reason})`, {
    hint: "check that the receiver's URL is right and its server is up; the alert stays active and is sent again on its next repeat",
  });
}
