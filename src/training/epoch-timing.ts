/**
 * Where an epoch's wall time goes, for `cryptoml analyze` and the monitoring metrics: building batches,
 * compute, metric logging, checkpoint writing, other callbacks and validation. Each epoch record covers
 * the time since the previous record (so the end-of-epoch callbacks and checkpoint after one record are
 * counted in the next). Timings are measurements, not state: they are not checkpointed, and after a
 * resume the first record covers only the time since the resume.
 */
import type { CheckpointIO } from "./checkpoint/io.js";

export type TimedPhase = "data" | "compute" | "logging" | "checkpoint" | "callbacks" | "validation";

const PHASES: readonly TimedPhase[] = ["data", "compute", "logging", "checkpoint", "callbacks", "validation"];

export class EpochTiming {
  #since = performance.now();
  #ms: Record<TimedPhase, number> = EpochTiming.#zero();

  static #zero(): Record<TimedPhase, number> {
    return { data: 0, compute: 0, logging: 0, checkpoint: 0, callbacks: 0, validation: 0 };
  }

  add(phase: TimedPhase, ms: number): void {
    this.#ms[phase] += ms;
  }

  /** Runs `work`, adding its duration to `phase`; checkpoint time spent inside callbacks is not counted twice. */
  async time<T>(phase: TimedPhase, work: () => Promise<T>): Promise<T> {
    const checkpointBefore = this.#ms.checkpoint;
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      const nested = phase === "checkpoint" ? 0 : this.#ms.checkpoint - checkpointBefore;
      this.#ms[phase] += performance.now() - t0 - nested;
    }
  }

  /** The `time_*_s` metrics since the last call (or construction), then starts a new period. */
  take(): Record<string, number> {
    const now = performance.now();
    const out: Record<string, number> = { time_wall_s: (now - this.#since) / 1000 };
    for (const phase of PHASES) out[`time_${phase}_s`] = this.#ms[phase] / 1000;
    this.#since = now;
    this.#ms = EpochTiming.#zero();
    return out;
  }
}

/** `io` with its writes timed as checkpointing and reported to `observer`. */
export function timedCheckpointIO(
  io: CheckpointIO,
  timing: EpochTiming,
  observer?: { checkpointWritten?(path: string): void },
): CheckpointIO {
  return {
    write: async (path, state) => {
      await timing.time("checkpoint", () => io.write(path, state));
      observer?.checkpointWritten?.(path);
    },
    read: (path) => io.read(path),
    list: (dir) => io.list(dir),
    remove: (path) => io.remove(path),
  };
}
