/**
 * `cryptoml monitor`'s alerting: scrape cryptoml /metrics, evaluate the alert rules, escalate through
 * levels with grouping, silences and acknowledgements, notify log / webhook (Alertmanager v4) / Slack.
 */
export { alertRoutes } from "./api.js";
export { MonitorClient, type MonitorClientOptions } from "./client.js";
export {
  type Acknowledgement,
  type AlertView,
  EscalationEngine,
  type EscalationOptions,
} from "./escalation.js";
export {
  aggregate,
  alertLabels,
  compare,
  type EvaluatorOptions,
  MONITOR_JOB,
  RuleEvaluator,
  STALENESS_MS,
} from "./evaluate.js";
export { parseExposition, seriesKey } from "./exposition.js";
export { createMonitor, type Monitor, type MonitorSeams } from "./from-config.js";
export { durationMs, fingerprint, matches, parseMatchers, renderTemplate } from "./labels.js";
export {
  type DeliveryOptions,
  logReceiver,
  slackMessage,
  slackReceiver,
  type WebhookPayloadV4,
  webhookPayload,
  webhookReceiver,
} from "./receivers.js";
export { pause, type RoundLoopOptions, runRounds } from "./rounds.js";
export { instanceOf, scrapeTarget } from "./scrape.js";
export { type MonitorOptions, MonitorService, type RoundSummary } from "./service.js";
export { type NewSilence, type Silence, SilenceStore } from "./silences.js";
export type * from "./types.js";
