/**
 * The monitor's evaluation loop: one round every interval on a fixed cadence, so the time a round
 * takes (scrapes, deliveries) does not drift the schedule, and one failing round never ends the loop.
 */
import type { Clock } from "./types.js";

/** Options of {@link runRounds}. */
export interface RoundLoopOptions {
  /** Time between the starts of two rounds; at least 1 ms. */
  readonly intervalMs: number;
  /** Ends the loop after the current round (and cuts the wait short). */
  readonly signal: AbortSignal;
  /** One round; what it throws goes to `onError`, and the next round runs on time. */
  readonly round: () => Promise<void>;
  readonly onError: (error: unknown) => void;
  /** Default `Date.now`. */
  readonly clock?: Clock;
  /** Waits `ms` or until `signal` aborts; default a timer. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs `round` at start, start + interval, start + 2 × interval, … until `signal` aborts. A round that
 * overruns its slot is followed by the next free slot, not by rounds back to back.
 */
export async function runRounds(options: RoundLoopOptions): Promise<void> {
  const { signal, round, onError, clock = Date.now, sleep = pause } = options;
  const intervalMs = Math.max(1, options.intervalMs);
  let next = clock();
  while (!signal.aborted) {
    try {
      await round();
    } catch (error) {
      onError(error);
    }
    next += intervalMs;
    const now = clock();
    if (next <= now) next += (Math.floor((now - next) / intervalMs) + 1) * intervalMs;
    if (!signal.aborted) await sleep(next - now, signal);
  }
}
