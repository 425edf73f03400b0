/**
 * A reusable generation barrier over an Int32Array in SharedArrayBuffer, for worker threads (it
 * blocks with Atomics.wait, which the main thread must not do). Layout of the control words:
 * [COUNT] arrivals in the current generation, [GENERATION] bumped by the last arrival, [ABORT] set
 * by whoever gives up (a failing replica, the coordinator) so nobody waits for a peer that will
 * never arrive.
 */
import { CryptomlError } from "../../core/errors.js";

export const COUNT = 0;
export const GENERATION = 1;
export const ABORT = 2;
/** Int32 words the control block needs. */
export const CONTROL_WORDS = 4;

/** Another replica (or the coordinator) aborted the step; the original error is reported elsewhere. */
export class BarrierAbortedError extends CryptomlError {
  constructor(what: string) {
    super("INTERRUPTED", `${what}: aborted because another replica failed`);
  }
}

/** Marks the step as failed and wakes every waiter. Safe from any thread, including the main one. */
export function abortBarrier(control: Int32Array): void {
  Atomics.store(control, ABORT, 1);
  Atomics.add(control, GENERATION, 1);
  Atomics.notify(control, GENERATION);
}

/**
 * Waits until all `parties` replicas arrived. The last one to arrive resets the count before it bumps
 * the generation (both sequentially consistent), so a fast replica cannot enter the next barrier
 * while the count still holds this one's arrivals.
 *
 * @throws BarrierAbortedError when the barrier was aborted; CryptomlError("INTERNAL") after
 *   `timeoutMs` (a peer died without aborting), after aborting the barrier for the others.
 */
export function arriveAndWait(control: Int32Array, parties: number, timeoutMs: number, what: string): void {
  if (Atomics.load(control, ABORT) !== 0) throw new BarrierAbortedError(what);
  const generation = Atomics.load(control, GENERATION);
  if (Atomics.add(control, COUNT, 1) === parties - 1) {
    Atomics.store(control, COUNT, 0);
    Atomics.add(control, GENERATION, 1);
    Atomics.notify(control, GENERATION);
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (Atomics.load(control, GENERATION) === generation) {
    const left = deadline - Date.now();
    if (left <= 0 || Atomics.wait(control, GENERATION, generation, left) === "timed-out") {
      if (Atomics.load(control, GENERATION) !== generation) break;
      abortBarrier(control);
      throw new CryptomlError("INTERNAL", `${what}: timed out after ${timeoutMs} ms waiting for peers`);
    }
  }
  if (Atomics.load(control, ABORT) !== 0) throw new BarrierAbortedError(what);
}
