/** Picks the StepEngine for a run's worker count: in this thread for 1, data-parallel threads above. */
import { CryptomlError } from "../../core/errors.js";
import { LocalStepEngine } from "./local.js";
import { ParallelStepEngine } from "./parallel.js";
import type { StepEngine, StepEngineOptions } from "./types.js";

/**
 * Builds the engine for `options.workers`.
 * @throws CryptomlError (USAGE) when `workers` is not an integer >= 1.
 */
export async function createStepEngine(options: StepEngineOptions): Promise<StepEngine> {
  const { workers } = options;
  if (!Number.isInteger(workers) || workers < 1) {
    throw new CryptomlError("USAGE", `workers=${workers} must be an integer >= 1`, {
      hint: "pass --workers 1 to train in this thread, or the number of data-parallel replica threads",
    });
  }
  return workers === 1 ? LocalStepEngine.create(options) : ParallelStepEngine.create(options);
}
