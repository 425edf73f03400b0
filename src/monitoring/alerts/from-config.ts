/** Builds a ready {@link MonitorService} (rules, receivers, escalation) from the `alerting:` configuration. */
import type { AlertingConfig } from "../../config/schema/alerting.js";
import type { Route } from "../http-types.js";
import { builtInRules, loadRulesFile } from "../rules/file.js";
import type { AlertRule, EscalationLevel } from "../rules/types.js";
import { alertRoutes } from "./api.js";
import { durationMs } from "./labels.js";
import { type DeliveryOptions, logReceiver, slackReceiver, webhookReceiver } from "./receivers.js";
import { MonitorService } from "./service.js";
import type { Clock, Receiver } from "./types.js";

/** Seams of {@link createMonitor}; all default to the real thing. */
export interface MonitorSeams {
  /** Where the log receiver and the service's problems write. */
  readonly log: (line: string) => void;
  readonly clock?: Clock;
  readonly fetch?: typeof fetch;
  /** Waits between delivery retries. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly newSilenceId?: () => string;
  readonly onDeliveryFailure?: (receiver: string) => void;
}

export interface Monitor {
  readonly service: MonitorService;
  readonly routes: Route[];
  readonly rules: readonly AlertRule[];
  readonly intervalMs: number;
  readonly externalUrl: string;
}

const ms = (text: string): number => durationMs(text) ?? 0;

function levelsOf(config: AlertingConfig): EscalationLevel[] | undefined {
  return config.default_levels?.map((l) => ({
    severity: l.severity,
    afterMs: ms(l.after),
    receivers: l.receivers,
    repeatMs: ms(l.repeat),
  }));
}

function receiversOf(config: AlertingConfig, externalUrl: string, seams: MonitorSeams): Receiver[] {
  const delivery = (r: { timeout: string; retries: number }): DeliveryOptions => ({
    timeoutMs: ms(r.timeout),
    retries: r.retries,
    ...(seams.fetch ? { fetch: seams.fetch } : {}),
    ...(seams.sleep ? { sleep: seams.sleep } : {}),
  });
  const receivers: Receiver[] = [logReceiver(seams.log)];
  const { webhook, slack } = config.receivers;
  if (webhook) receivers.push(webhookReceiver("webhook", webhook.url, externalUrl, delivery(webhook)));
  if (slack) receivers.push(slackReceiver("slack", slack.url, delivery(slack)));
  return receivers;
}

/**
 * The alert rules of a configuration: the built-in ones with `default_levels`, changed by `rules_file`.
 * The monitor evaluates them and `monitoring generate` writes them for Prometheus, so both agree.
 * @throws ConfigError for a malformed rules file.
 */
export async function alertRules(config: AlertingConfig): Promise<AlertRule[]> {
  const defaultLevels = levelsOf(config);
  const options = defaultLevels ? { defaultLevels } : {};
  return config.rules_file ? loadRulesFile(config.rules_file, options) : builtInRules(options);
}

/**
 * Reads the rules (built-in, changed by `rules_file`) and wires the service.
 * @throws ConfigError for a malformed rules file; CryptomlError when a level names an unconfigured receiver.
 */
export async function createMonitor(config: AlertingConfig, seams: MonitorSeams): Promise<Monitor> {
  const rules = await alertRules(config);
  const externalUrl = config.external_url ?? `http://${config.host}:${config.port}`;
  const clock = seams.clock ?? Date.now;
  const service = new MonitorService({
    targets: config.targets,
    rules,
    receivers: receiversOf(config, externalUrl, seams),
    escalation: {
      groupBy: config.group_by,
      groupWaitMs: ms(config.group_wait),
      groupIntervalMs: ms(config.group_interval),
    },
    clock,
    log: seams.log,
    ...(seams.fetch ? { fetch: seams.fetch } : {}),
    ...(seams.newSilenceId ? { newSilenceId: seams.newSilenceId } : {}),
    ...(seams.onDeliveryFailure ? { onDeliveryFailure: seams.onDeliveryFailure } : {}),
  });
  return {
    service,
    routes: alertRoutes(service, clock),
    rules,
    intervalMs: ms(config.evaluation_interval),
    externalUrl,
  };
}
