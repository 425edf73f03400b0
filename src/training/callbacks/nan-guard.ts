/** NanGuard: stops the run at the first step whose loss is NaN or infinite, so the last good checkpoint stays the latest. */
import {
  type Callback,
  callbackError,
  formatValue,
  type HookResult,
  stopRequest,
  type TrainingSnapshot,
} from "./types.js";

export interface NanGuardOptions {
  /** The step metric to check (default "loss"). */
  readonly metric?: string;
}

export class NanGuard implements Callback {
  readonly name = "NanGuard";
  readonly metric: string;

  /** @throws CryptomlError (USAGE) when `metric` is not a non-empty string. */
  constructor(options: NanGuardOptions = {}) {
    const { metric = "loss" } = options;
    if (typeof metric !== "string" || metric === "") {
      throw callbackError(`NanGuard: metric=${formatValue(metric)} must be a metric name`);
    }
    this.metric = metric;
  }

  /** @throws CryptomlError (USAGE) when the step's metrics lack `metric`, since the guard would check nothing. */
  onStepEnd(snapshot: TrainingSnapshot): HookResult {
    const value = snapshot.metrics[this.metric];
    if (value === undefined) {
      const available = Object.keys(snapshot.metrics);
      throw callbackError(
        `NanGuard: metric="${this.metric}" is not among the step's metrics (${available.length === 0 ? "none" : available.join(", ")})`,
      );
    }
    if (Number.isFinite(value)) return;
    return stopRequest(
      `${this.metric}=${value} at step ${snapshot.step} (epoch ${snapshot.epoch}, batch ${snapshot.positionInEpoch}) is not finite; stopping so the last good checkpoint is kept (lower the learning rate, clip gradients, or check the inputs for NaN)`,
    );
  }
}
