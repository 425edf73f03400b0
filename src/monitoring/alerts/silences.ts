/** Silences: label matchers over a time span; matching alerts stay visible but notify nobody. */
import { randomUUID } from "node:crypto";
import { NotFoundError, UsageError } from "../../core/errors.js";
import type { LabelMatchers } from "../rules/types.js";
import { formatLabels, matches } from "./labels.js";
import type { Labels } from "./types.js";

export interface Silence {
  readonly id: string;
  readonly matchers: LabelMatchers;
  readonly startsAtMs: number;
  readonly endsAtMs: number;
  readonly comment: string;
  readonly createdBy: string;
}

export interface NewSilence {
  readonly matchers: LabelMatchers;
  /** Default: now. */
  readonly startsAtMs?: number;
  readonly endsAtMs: number;
  readonly comment?: string;
  readonly createdBy?: string;
}

/** The silences of one monitor, in memory (a restarted monitor starts without silences). */
export class SilenceStore {
  private readonly silences = new Map<string, Silence>();

  /** @param newId makes silence ids; default random UUIDs. */
  constructor(private readonly newId: () => string = randomUUID) {}

  /** @throws UsageError for no matchers (it would silence everything) or an end not after the start. */
  add(request: NewSilence, nowMs: number): Silence {
    if (Object.keys(request.matchers).length === 0)
      throw new UsageError("a silence needs at least one matcher", {
        hint: "name the alerts to silence, e.g. alertname=TrainingStalled or symbol=BTCUSDT",
      });
    const startsAtMs = request.startsAtMs ?? nowMs;
    if (!(request.endsAtMs > startsAtMs))
      throw new UsageError(
        `silence of ${formatLabels(request.matchers)} ends (${new Date(request.endsAtMs).toISOString()}) before it starts`,
        { hint: "give a positive duration, e.g. --for 2h" },
      );
    const silence: Silence = {
      id: this.newId(),
      matchers: { ...request.matchers },
      startsAtMs,
      endsAtMs: request.endsAtMs,
      comment: request.comment ?? "",
      createdBy: request.createdBy ?? "",
    };
    this.silences.set(silence.id, silence);
    return silence;
  }

  /** Ends a silence now. @throws NotFoundError for an unknown id. */
  expire(id: string, nowMs: number): Silence {
    const silence = this.silences.get(id);
    if (silence === undefined)
      throw new NotFoundError(`no silence with id ${id}`, { hint: "list them with GET /api/silences" });
    const ended = { ...silence, endsAtMs: Math.min(silence.endsAtMs, nowMs) };
    this.silences.set(id, ended);
    return ended;
  }

  /** Every silence not yet over, active or scheduled; ended ones are forgotten. */
  list(nowMs: number): Silence[] {
    for (const [id, s] of this.silences) if (s.endsAtMs <= nowMs) this.silences.delete(id);
    return [...this.silences.values()];
  }

  /** The ids of the silences muting `labels` at `nowMs`. */
  silencing(labels: Labels, nowMs: number): string[] {
    return [...this.silences.values()]
      .filter((s) => s.startsAtMs <= nowMs && nowMs < s.endsAtMs && matches(labels, s.matchers))
      .map((s) => s.id);
  }
}
