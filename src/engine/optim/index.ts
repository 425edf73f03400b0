/**
 * engine/optim: optimisers (SGD, Adam, AdamW), gradient clipping by global norm and learning-rate
 * schedulers, each with torch.optim's semantics and float32 rounding so trajectories match PyTorch.
 * Formulas, state format and the few deliberate differences: docs/engine-optimisers.md.
 */
export { Adam, type AdamOptions, AdamW } from "./adam.js";
export { type ClipGradNormOptions, clipGradNorm, NonFiniteGradNormError } from "./clip-grad.js";
export { CosineWithWarmup, type CosineWithWarmupOptions } from "./cosine-warmup.js";
export { OneCycleLR, type OneCycleOptions } from "./one-cycle.js";
export {
  type AdamHyper,
  OPTIMIZER_STATE_FORMAT,
  type Optimizer,
  type OptimizerKind,
  type OptimizerState,
  type ParameterState,
  type SgdHyper,
} from "./optimizer.js";
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from "./plateau.js";
export {
  type LrScheduler,
  SCHEDULER_STATE_FORMAT,
  type SchedulerKind,
  type SchedulerState,
} from "./scheduler.js";
export { SGD, type SgdOptions } from "./sgd.js";
export type { JsonNumber } from "./state.js";
export { StepLR, type StepLROptions } from "./step-lr.js";
