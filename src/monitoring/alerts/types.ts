/**
 * The shapes shared by the monitor's parts: scraped samples, alerts as the evaluator sees them, and
 * notifications as the escalation engine hands them to receivers.
 */
import type { AlertRule } from "../rules/types.js";

/** Label name → value of one series or alert. */
export type Labels = Readonly<Record<string, string>>;

/** Milliseconds since the Unix epoch; injected so tests can drive time. */
export type Clock = () => number;

/** One sample of the Prometheus text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
  /** The sample's own timestamp (ms) when the exposition gave one. */
  readonly timestampMs?: number;
}

/** The outcome of scraping one target: its samples, or why there are none (the synthetic `up`). */
export interface ScrapeResult {
  /** The URL scraped. */
  readonly target: string;
  /** `host:port` of the target, added to every alert from it as the `instance` label. */
  readonly instance: string;
  readonly up: boolean;
  readonly samples: readonly Sample[];
  readonly error?: string;
  readonly scrapedAtMs: number;
}

export type AlertState = "pending" | "firing";

/** An alert whose condition holds now (one per rule and series). */
export interface ActiveAlert {
  /** 16 hex digits over the alert's labels (Alertmanager's label-set fingerprint). */
  readonly fingerprint: string;
  readonly rule: AlertRule;
  /** alertname, the series' labels, instance and the rule's extra labels (no severity: that moves with the level). */
  readonly labels: Labels;
  readonly state: AlertState;
  /** When the condition started holding. */
  readonly activeSinceMs: number;
  /** When it turned from pending to firing. */
  readonly firingSinceMs?: number;
  /** The value of the series at the last evaluation. */
  readonly value: number;
  /**
   * Set while its target is down (for at most the staleness bound): the alert as of the target's last
   * good scrape, which must not climb escalation levels on data it no longer has.
   */
  readonly heldSinceMs?: number;
}

/** An alert that was firing and whose condition no longer holds. */
export interface ResolvedAlert {
  readonly fingerprint: string;
  readonly rule: AlertRule;
  readonly labels: Labels;
  readonly firingSinceMs: number;
  readonly resolvedAtMs: number;
}

/** What one evaluation found. */
export interface Evaluation {
  readonly atMs: number;
  readonly alerts: readonly ActiveAlert[];
  readonly resolved: readonly ResolvedAlert[];
  readonly targets: readonly TargetHealth[];
}

/** The last scrape of a target, for the API. */
export interface TargetHealth {
  readonly target: string;
  readonly instance: string;
  readonly up: boolean;
  readonly lastScrapeMs: number;
  readonly error?: string;
}

/** One alert inside a notification, rendered for receivers. */
export interface NotifiedAlert {
  readonly status: "firing" | "resolved";
  readonly fingerprint: string;
  /** The alert's labels plus `severity` of its level. */
  readonly labels: Labels;
  /** `summary` and `description`, with `{{label}}` filled in. */
  readonly annotations: Labels;
  readonly startsAtMs: number;
  /** Set for resolved alerts. */
  readonly endsAtMs?: number;
}

/** A batch for one receiver: the due alerts of one group. */
export interface Notification {
  readonly receiver: string;
  /** Stable key of the group, e.g. `{}:{alertname="TrainingLossNotFinite"}`. */
  readonly groupKey: string;
  readonly groupLabels: Labels;
  /** "firing" when any alert in it fires, else "resolved". */
  readonly status: "firing" | "resolved";
  readonly alerts: readonly NotifiedAlert[];
}

/** Where notifications go; `send` rejects when delivery failed after its retries. */
export interface Receiver {
  readonly name: string;
  send(notification: Notification): Promise<void>;
}
