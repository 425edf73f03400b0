/**
 * Where a job's time went: the epochs' wall time split into the parts the Trainer measures
 * (`time_<part>_s` on every epoch record) plus an `other` remainder, and the largest share.
 */
import { type MetricsRecord, TIME_PARTS, type TimeShare, type TimeSplit } from "./types.js";

/** Why a run without timing cannot be split: it predates per-epoch timing. */
export const SPLIT_UNAVAILABLE_OLD_RUN =
  "its epoch records carry no time_* keys: the run was trained by a cryptoml version before per-epoch timing; retrain with the current version to see the split";

/**
 * Splits the wall time of the epochs that carry `time_wall_s`. Parts an epoch does not report count
 * as 0 there (so their time lands in `other`); parts that add up to more than the wall time leave
 * `other` at 0 rather than negative. `jobWallS` (the job's whole wall time) gives the time outside the epochs.
 */
export function splitTime(records: readonly MetricsRecord[], jobWallS: number): TimeSplit {
  const epochs = records.filter((r) => r.scope === "epoch");
  if (epochs.length === 0) {
    return {
      available: false,
      reason: "no epoch finished, and the time split is measured per epoch; give the job a longer --duration",
    };
  }
  const timed = epochs.filter((r) => r.metrics.time_wall_s !== undefined);
  if (timed.length === 0) return { available: false, reason: SPLIT_UNAVAILABLE_OLD_RUN };
  const wallS = timed.reduce((t, r) => t + (r.metrics.time_wall_s as number), 0);
  if (!(wallS > 0)) return { available: false, reason: "the epochs' time_wall_s add up to 0 s" };
  const measured = TIME_PARTS.map((part) => ({
    part,
    seconds: timed.reduce((t, r) => t + (r.metrics[`time_${part}_s`] ?? 0), 0),
  }));
  const accounted = measured.reduce((t, m) => t + m.seconds, 0);
  const shares: TimeShare[] = [
    ...measured,
    { part: "other" as const, seconds: Math.max(0, wallS - accounted) },
  ]
    .map((m) => ({ ...m, pct: (m.seconds / wallS) * 100 }))
    .sort((a, b) => b.seconds - a.seconds);
  return {
    available: true,
    epochs: timed.length,
    wallS,
    shares,
    bottleneck: (shares[0] as TimeShare).part,
    outsideEpochsS: Math.max(0, jobWallS - wallS),
  };
}

/** The share (%) of `part` in an available split; 0 when the split is unavailable. */
export function shareOf(split: TimeSplit, part: TimeShare["part"]): number {
  if (!split.available) return 0;
  return split.shares.find((s) => s.part === part)?.pct ?? 0;
}

/** The seconds of `part` in an available split; 0 when the split is unavailable. */
export function secondsOf(split: TimeSplit, part: TimeShare["part"]): number {
  if (!split.available) return 0;
  return split.shares.find((s) => s.part === part)?.seconds ?? 0;
}
