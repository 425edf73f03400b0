/** LearningRateMonitor: records the learning rate of every step (or every N steps) into a history. */
import {
  type Callback,
  callbackError,
  formatValue,
  type HookResult,
  type TrainingSnapshot,
} from "./types.js";

export interface LearningRateMonitorOptions {
  /** Record every N-th step, an integer >= 1 (default 1). */
  readonly everyNSteps?: number;
}

/** One recorded learning rate. */
export interface LearningRateRecord {
  readonly step: number;
  readonly epoch: number;
  readonly learningRate: number;
}

export class LearningRateMonitor implements Callback {
  readonly name = "LearningRateMonitor";
  readonly everyNSteps: number;
  readonly #history: LearningRateRecord[] = [];

  /** @throws CryptomlError (USAGE) when `everyNSteps` is not an integer >= 1. */
  constructor(options: LearningRateMonitorOptions = {}) {
    const { everyNSteps = 1 } = options;
    if (!Number.isSafeInteger(everyNSteps) || everyNSteps < 1) {
      throw callbackError(
        `LearningRateMonitor: everyNSteps=${formatValue(everyNSteps)} must be an integer >= 1`,
      );
    }
    this.everyNSteps = everyNSteps;
  }

  /** The recorded learning rates, oldest first (a frozen copy). */
  get history(): readonly LearningRateRecord[] {
    return Object.freeze([...this.#history]);
  }

  onStepEnd(snapshot: TrainingSnapshot): HookResult {
    if (snapshot.step % this.everyNSteps !== 0) return;
    this.#history.push(
      Object.freeze({ step: snapshot.step, epoch: snapshot.epoch, learningRate: snapshot.learningRate }),
    );
  }
}
