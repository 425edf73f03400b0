/**
 * Escalation: a firing, unacknowledged alert climbs its rule's levels with time, notifying each
 * level's receivers on entering it and every `repeatMs` while it stays; alerts of one group go out
 * together (Alertmanager's group_wait / group_interval); silences mute, acknowledgements stop it.
 */
import { NotFoundError, UsageError } from "../../core/errors.js";
import type { EscalationLevel, LabelMatchers } from "../rules/types.js";
import { formatLabels, matches, renderTemplate } from "./labels.js";
import type { SilenceStore } from "./silences.js";
import type { ActiveAlert, Evaluation, Labels, Notification, NotifiedAlert, ResolvedAlert } from "./types.js";

/** Options of {@link EscalationEngine}. */
export interface EscalationOptions {
  /** Labels that split a rule's alerts into groups; default `["alertname"]` (one group per rule). */
  readonly groupBy?: readonly string[];
  /** How long a new group waits for more alerts before its first notification; default 0. */
  readonly groupWaitMs?: number;
  /** The least time between two notifications of one group; default 60 000 (1 minute). */
  readonly groupIntervalMs?: number;
}

export interface Acknowledgement {
  readonly atMs: number;
  readonly by: string;
  readonly comment: string;
}

/** An alert as the API shows it. */
export interface AlertView {
  readonly fingerprint: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly state: "pending" | "firing";
  /** Severity of the current level (firing alerts only). */
  readonly severity: string | null;
  /** Index into the rule's levels (firing alerts only). */
  readonly level: number | null;
  readonly activeSince: string;
  readonly firingSince: string | null;
  readonly value: number | string;
  readonly acknowledged: Acknowledgement | null;
  /** Ids of the silences muting it; empty when it notifies. */
  readonly silencedBy: readonly string[];
}

interface AlertRecord {
  alert: ActiveAlert;
  firingSinceMs: number;
  /** The level last notified; -1 before the first notification. */
  notifiedLevel: number;
  lastNotifiedMs: number;
  notified: Set<string>;
  ack?: Acknowledgement & { level: number };
  /** The level it stays at while its target is down (the evaluator marks it held). */
  heldLevel?: number;
}

interface Group {
  readonly labels: Labels;
  /** When an alert of the group first became due since the last flush. */
  dueSinceMs?: number;
  lastFlushMs?: number;
  /** Resolved alerts waiting for the group's next flush, with the receivers to tell. */
  resolved: { alert: NotifiedAlert; receivers: readonly string[] }[];
}

export class EscalationEngine {
  private readonly records = new Map<string, AlertRecord>();
  private readonly groups = new Map<string, Group>();
  private pending: ActiveAlert[] = [];
  private readonly groupBy: readonly string[];
  private readonly groupWaitMs: number;
  private readonly groupIntervalMs: number;

  constructor(
    private readonly silences: SilenceStore,
    options: EscalationOptions = {},
  ) {
    this.groupBy = options.groupBy ?? ["alertname"];
    this.groupWaitMs = options.groupWaitMs ?? 0;
    this.groupIntervalMs = options.groupIntervalMs ?? 60_000;
  }

  /** Takes an evaluation's alerts and returns the notifications due at `nowMs`, one per group and receiver. */
  update(evaluation: Evaluation, nowMs: number): Notification[] {
    this.pending = evaluation.alerts.filter((a) => a.state === "pending");
    for (const alert of evaluation.alerts) {
      if (alert.state !== "firing") continue;
      const record = this.records.get(alert.fingerprint);
      if (record) {
        record.alert = alert;
        // A held alert reflects a scrape that is minutes old: it must not climb on time alone.
        if (alert.heldSinceMs === undefined) delete record.heldLevel;
        else record.heldLevel ??= this.levelIndex(record, alert.heldSinceMs);
      } else
        this.records.set(alert.fingerprint, {
          alert,
          firingSinceMs: alert.firingSinceMs ?? nowMs,
          notifiedLevel: -1,
          lastNotifiedMs: Number.NEGATIVE_INFINITY,
          notified: new Set(),
        });
    }
    for (const resolved of evaluation.resolved) this.resolve(resolved);
    return this.flush(nowMs);
  }

  private resolve(resolved: ResolvedAlert): void {
    const record = this.records.get(resolved.fingerprint);
    if (record === undefined) return;
    this.records.delete(resolved.fingerprint);
    if (record.notified.size === 0) return;
    const level = levelOf(record.alert.rule.levels, record.notifiedLevel);
    const group = this.group(record.alert.labels);
    group.dueSinceMs ??= resolved.resolvedAtMs;
    group.resolved.push({
      alert: { ...render(record, level, "firing"), status: "resolved", endsAtMs: resolved.resolvedAtMs },
      receivers: [...record.notified],
    });
  }

  /** The level an alert is at now: by time since firing, frozen when acknowledged or held. */
  private levelIndex(record: AlertRecord, nowMs: number): number {
    if (record.ack) return record.ack.level;
    if (record.heldLevel !== undefined) return record.heldLevel;
    const levels = record.alert.rule.levels;
    let index = 0;
    for (const [i, level] of levels.entries()) if (nowMs - record.firingSinceMs >= level.afterMs) index = i;
    return index;
  }

  private isDue(record: AlertRecord, nowMs: number): boolean {
    if (record.ack || this.silences.silencing(record.alert.labels, nowMs).length > 0) return false;
    const index = this.levelIndex(record, nowMs);
    const level = levelOf(record.alert.rule.levels, index);
    return index !== record.notifiedLevel || nowMs - record.lastNotifiedMs >= level.repeatMs;
  }

  private flush(nowMs: number): Notification[] {
    const due = new Map<string, AlertRecord[]>();
    for (const record of this.records.values()) {
      if (!this.isDue(record, nowMs)) continue;
      const key = this.groupKey(record.alert.labels);
      const group = this.group(record.alert.labels);
      group.dueSinceMs ??= nowMs;
      due.set(key, [...(due.get(key) ?? []), record]);
    }
    const notifications: Notification[] = [];
    for (const [key, group] of this.groups) {
      if (group.dueSinceMs === undefined || !this.mayFlush(group, nowMs)) continue;
      notifications.push(...this.notifyGroup(key, group, due.get(key) ?? [], nowMs));
      group.dueSinceMs = undefined;
      group.lastFlushMs = nowMs;
      group.resolved = [];
    }
    this.dropIdleGroups();
    return notifications;
  }

  private mayFlush(group: Group, nowMs: number): boolean {
    if (group.lastFlushMs === undefined) return nowMs - (group.dueSinceMs ?? nowMs) >= this.groupWaitMs;
    return nowMs - group.lastFlushMs >= this.groupIntervalMs;
  }

  private notifyGroup(
    key: string,
    group: Group,
    records: readonly AlertRecord[],
    nowMs: number,
  ): Notification[] {
    const byReceiver = new Map<string, NotifiedAlert[]>();
    const add = (receiver: string, alert: NotifiedAlert) =>
      byReceiver.set(receiver, [...(byReceiver.get(receiver) ?? []), alert]);
    for (const record of records) {
      const index = this.levelIndex(record, nowMs);
      const level = levelOf(record.alert.rule.levels, index);
      const alert = render(record, level, "firing");
      for (const receiver of level.receivers) {
        add(receiver, alert);
        record.notified.add(receiver);
      }
      record.notifiedLevel = index;
      record.lastNotifiedMs = nowMs;
    }
    for (const { alert, receivers } of group.resolved) for (const receiver of receivers) add(receiver, alert);
    return [...byReceiver].map(([receiver, alerts]) => ({
      receiver,
      groupKey: key,
      groupLabels: group.labels,
      status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
      alerts,
    }));
  }

  /** A group with no alert left is forgotten, so an alert that comes back waits group_wait again. */
  private dropIdleGroups(): void {
    const live = new Set([...this.records.values()].map((r) => this.groupKey(r.alert.labels)));
    for (const [key, group] of this.groups)
      if (!live.has(key) && group.resolved.length === 0 && group.dueSinceMs === undefined)
        this.groups.delete(key);
  }

  private groupLabels(labels: Labels): Labels {
    const names = this.groupBy.includes("alertname") ? this.groupBy : ["alertname", ...this.groupBy];
    return Object.fromEntries(names.map((n) => [n, labels[n] ?? ""]));
  }

  private groupKey(labels: Labels): string {
    return `{}:${formatLabels(this.groupLabels(labels))}`;
  }

  private group(labels: Labels): Group {
    const key = this.groupKey(labels);
    let group = this.groups.get(key);
    if (group === undefined) {
      group = { labels: this.groupLabels(labels), resolved: [] };
      this.groups.set(key, group);
    }
    return group;
  }

  /**
   * Acknowledges firing alerts — one by fingerprint, or every one whose labels match `matchers`:
   * they keep their level, stop escalating and stop repeating until they resolve.
   * @throws UsageError when neither or both are given; NotFoundError when no firing alert matches.
   */
  acknowledge(
    target: { fingerprint?: string; matchers?: LabelMatchers },
    by: string,
    comment: string,
    nowMs: number,
  ): AlertView[] {
    const { fingerprint, matchers } = target;
    if ((fingerprint === undefined) === (matchers === undefined))
      throw new UsageError("acknowledge either one alert by fingerprint or alerts by matchers", {
        hint: 'send {"fingerprint": "…"} or {"matchers": {"alertname": "…"}}',
      });
    const chosen = [...this.records.values()].filter((r) =>
      fingerprint !== undefined ? r.alert.fingerprint === fingerprint : matches(r.alert.labels, matchers),
    );
    if (chosen.length === 0)
      throw new NotFoundError(
        fingerprint !== undefined
          ? `no firing alert has fingerprint ${fingerprint}`
          : `no firing alert matches ${formatLabels(matchers ?? {})}`,
        { hint: "list the firing alerts with `cryptoml monitor alerts`" },
      );
    for (const record of chosen)
      record.ack ??= { atMs: nowMs, by, comment, level: this.levelIndex(record, nowMs) };
    return chosen.map((r) => this.view(r.alert, nowMs));
  }

  /** Every active alert (pending and firing), firing first. */
  alerts(nowMs: number): AlertView[] {
    const firing = [...this.records.values()].map((r) => this.view(r.alert, nowMs));
    return [...firing, ...this.pending.map((a) => this.view(a, nowMs))];
  }

  private view(alert: ActiveAlert, nowMs: number): AlertView {
    const record = this.records.get(alert.fingerprint);
    const index = record ? this.levelIndex(record, nowMs) : null;
    const level = index === null ? undefined : levelOf(alert.rule.levels, index);
    const labels = level ? { ...alert.labels, severity: level.severity } : alert.labels;
    const ack = record?.ack;
    return {
      fingerprint: alert.fingerprint,
      labels,
      annotations: annotations(alert, labels),
      state: record ? "firing" : "pending",
      severity: level?.severity ?? null,
      level: index,
      activeSince: new Date(alert.activeSinceMs).toISOString(),
      firingSince: record ? new Date(record.firingSinceMs).toISOString() : null,
      value: Number.isFinite(alert.value) ? alert.value : String(alert.value),
      acknowledged: ack ? { atMs: ack.atMs, by: ack.by, comment: ack.comment } : null,
      silencedBy: this.silences.silencing(alert.labels, nowMs),
    };
  }
}

function levelOf(levels: readonly EscalationLevel[], index: number): EscalationLevel {
  const level = levels[Math.max(0, Math.min(index, levels.length - 1))];
  if (level === undefined) throw new Error("an alert rule has no escalation levels");
  return level;
}

function annotations(alert: ActiveAlert, labels: Labels): Labels {
  return {
    summary: renderTemplate(alert.rule.summary, labels),
    description: renderTemplate(alert.rule.description, labels),
  };
}

function render(record: AlertRecord, level: EscalationLevel, status: "firing"): NotifiedAlert {
  const labels = { ...record.alert.labels, severity: level.severity };
  return {
    status,
    fingerprint: record.alert.fingerprint,
    labels,
    annotations: annotations(record.alert, labels),
    startsAtMs: record.firingSinceMs,
  };
}
