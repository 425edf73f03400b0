/**
 * The monitor: scrape the targets, evaluate the rules, escalate, deliver. One `evaluate()` is one
 * round; `cryptoml monitor` calls it every evaluation interval, tests call it with a fake clock.
 */
import { CryptomlError } from "../../core/errors.js";
import type { AlertRule, LabelMatchers } from "../rules/types.js";
import { type AlertView, EscalationEngine, type EscalationOptions } from "./escalation.js";
import { RuleEvaluator } from "./evaluate.js";
import { scrapeTarget } from "./scrape.js";
import { type NewSilence, type Silence, SilenceStore } from "./silences.js";
import type { Clock, Notification, Receiver, TargetHealth } from "./types.js";

/** Options of {@link MonitorService}. */
export interface MonitorOptions {
  /** /metrics URLs to scrape. */
  readonly targets: readonly string[];
  readonly rules: readonly AlertRule[];
  /** Every receiver a rule's levels name must be here. */
  readonly receivers: readonly Receiver[];
  readonly escalation?: EscalationOptions;
  /** Default `Date.now`. */
  readonly clock?: Clock;
  /** Where problems (targets down, receivers failing) are reported; default nowhere. */
  readonly log?: (line: string) => void;
  /** Injected for tests; default the global fetch. */
  readonly fetch?: typeof fetch;
  /** Per-target scrape timeout; default 10 000 ms. */
  readonly scrapeTimeoutMs?: number;
  /** Makes silence ids; default random UUIDs. */
  readonly newSilenceId?: () => string;
  /** Called for each delivery that failed after its retries (the CLI counts it in cryptoml_errors_total). */
  readonly onDeliveryFailure?: (receiver: string) => void;
}

/** What one round did. */
export interface RoundSummary {
  readonly atMs: number;
  readonly targetsUp: number;
  readonly targetsDown: number;
  readonly pending: number;
  readonly firing: number;
  readonly notifications: readonly Notification[];
  readonly failedDeliveries: number;
}

export class MonitorService {
  private readonly evaluator: RuleEvaluator;
  private readonly silenceStore: SilenceStore;
  private readonly engine: EscalationEngine;
  private readonly receivers: ReadonlyMap<string, Receiver>;
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private health: TargetHealth[] = [];
  /** Deliveries that failed after their retries, per receiver. */
  readonly failures = new Map<string, number>();

  /** @throws CryptomlError CONFIG_INVALID when a rule's level names a receiver that is not configured. */
  constructor(private readonly options: MonitorOptions) {
    this.receivers = new Map(options.receivers.map((r) => [r.name, r]));
    for (const rule of options.rules)
      for (const level of rule.levels)
        for (const name of level.receivers)
          if (!this.receivers.has(name))
            throw new CryptomlError(
              "CONFIG_INVALID",
              `alert rule ${rule.name}, level ${level.severity}: receiver "${name}" is not configured`,
              {
                hint: `configure it under alerting.receivers in monitoring.yaml, or use one of ${[...this.receivers.keys()].join(", ")}`,
              },
            );
    this.clock = options.clock ?? Date.now;
    this.log = options.log ?? (() => {});
    this.evaluator = new RuleEvaluator(options.rules);
    this.silenceStore = new SilenceStore(options.newSilenceId);
    this.engine = new EscalationEngine(this.silenceStore, options.escalation);
  }

  /** One round: scrape every target, evaluate, escalate and deliver the notifications due now. */
  async evaluate(): Promise<RoundSummary> {
    const atMs = this.clock();
    const scrapes = await Promise.all(
      this.options.targets.map((t) =>
        scrapeTarget(t, atMs, {
          ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
          ...(this.options.scrapeTimeoutMs ? { timeoutMs: this.options.scrapeTimeoutMs } : {}),
        }),
      ),
    );
    this.reportTargetChanges(scrapes);
    const evaluation = this.evaluator.evaluate(scrapes, atMs);
    this.health = [...evaluation.targets];
    const notifications = this.engine.update(evaluation, atMs);
    const failedDeliveries = await this.deliver(notifications);
    const firing = evaluation.alerts.filter((a) => a.state === "firing").length;
    return {
      atMs,
      targetsUp: scrapes.filter((s) => s.up).length,
      targetsDown: scrapes.filter((s) => !s.up).length,
      pending: evaluation.alerts.length - firing,
      firing,
      notifications,
      failedDeliveries,
    };
  }

  private reportTargetChanges(scrapes: readonly { target: string; up: boolean; error?: string }[]): void {
    for (const scrape of scrapes) {
      const before = this.health.find((h) => h.target === scrape.target);
      if (!scrape.up && before?.up !== false)
        this.log(`target ${scrape.target} is down: ${scrape.error ?? ""}`);
      if (scrape.up && before?.up === false) this.log(`target ${scrape.target} is up again`);
    }
  }

  /** Sends every notification; a receiver that fails is logged and counted, never thrown. */
  private async deliver(notifications: readonly Notification[]): Promise<number> {
    const results = await Promise.allSettled(
      notifications.map((n) => (this.receivers.get(n.receiver) as Receiver).send(n)),
    );
    let failed = 0;
    for (const [i, result] of results.entries()) {
      if (result.status === "fulfilled") continue;
      failed++;
      const receiver = notifications[i]?.receiver ?? "?";
      this.failures.set(receiver, (this.failures.get(receiver) ?? 0) + 1);
      this.options.onDeliveryFailure?.(receiver);
      const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
      this.log(`notification to ${receiver} failed: ${reason}`);
    }
    return failed;
  }

  /** Active alerts with level, acknowledgement and silences. */
  alerts(): AlertView[] {
    return this.engine.alerts(this.clock());
  }

  /** The last scrape of each target (the synthetic `up`). */
  targets(): readonly TargetHealth[] {
    return this.health;
  }

  /** See {@link EscalationEngine.acknowledge}. */
  acknowledge(
    target: { fingerprint?: string; matchers?: LabelMatchers },
    by: string,
    comment: string,
  ): AlertView[] {
    const acknowledged = this.engine.acknowledge(target, by, comment, this.clock());
    for (const a of acknowledged)
      this.log(`acknowledged ${a.labels.alertname ?? ""} ${a.fingerprint} by ${by}: ${comment}`);
    return acknowledged;
  }

  addSilence(request: NewSilence): Silence {
    return this.silenceStore.add(request, this.clock());
  }

  expireSilence(id: string): Silence {
    return this.silenceStore.expire(id, this.clock());
  }

  silences(): Silence[] {
    return this.silenceStore.list(this.clock());
  }
}
