/** Timer: asks the run to stop at the end of the first step (or epoch) at or after a deadline. */
import {
  type Callback,
  callbackError,
  formatValue,
  type HookResult,
  stopRequest,
  type TrainingSnapshot,
} from "./types.js";

export interface TimerOptions {
  /** When to stop, as epoch milliseconds (e.g. `Date.now() + parseDuration("8h")`). */
  readonly deadline: number;
  /** The clock, in epoch milliseconds (default `Date.now`); tests inject a fake one. */
  readonly clock?: () => number;
}

export class Timer implements Callback {
  readonly name = "Timer";
  readonly deadline: number;
  readonly #clock: () => number;

  /** @throws CryptomlError (USAGE) when `deadline` is not a finite number >= 0 or `clock` not a function. */
  constructor(options: TimerOptions) {
    const deadline = options?.deadline;
    if (typeof deadline !== "number" || !Number.isFinite(deadline) || deadline < 0) {
      throw callbackError(
        `Timer: deadline=${formatValue(deadline)} must be a finite number >= 0 (epoch milliseconds)`,
      );
    }
    const clock = options.clock ?? Date.now;
    if (typeof clock !== "function")
      throw callbackError("Timer: clock must be a function returning epoch ms");
    this.deadline = deadline;
    this.#clock = clock;
  }

  /** Milliseconds left before the deadline (negative once past). */
  remainingMs(): number {
    return this.deadline - this.#clock();
  }

  onStepEnd(snapshot: TrainingSnapshot): HookResult {
    return this.#check(snapshot, "step");
  }

  onEpochEnd(snapshot: TrainingSnapshot): HookResult {
    return this.#check(snapshot, "epoch");
  }

  #check(snapshot: TrainingSnapshot, at: "step" | "epoch"): HookResult {
    const now = this.#clock();
    if (now < this.deadline) return;
    return stopRequest(
      `deadline ${new Date(this.deadline).toISOString()} reached at the end of ${at === "step" ? `step ${snapshot.step}` : `epoch ${snapshot.epoch}`} (${now - this.deadline} ms past it)`,
    );
  }
}
