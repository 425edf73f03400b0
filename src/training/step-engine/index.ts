// training/step-engine: where the Trainer's arithmetic happens (this thread or data-parallel threads).

export { createStepEngine } from "./factory.js";
export { buildOptimizer, LocalStepEngine } from "./local.js";
export { ParallelStepEngine } from "./parallel.js";
export {
  dropoutSeed,
  type OptimizerSettings,
  type StepEngine,
  type StepEngineFactory,
  type StepEngineOptions,
  type StepResult,
} from "./types.js";
