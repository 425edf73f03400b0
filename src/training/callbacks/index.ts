/** Training callbacks: the contract, the dispatcher and the built-in callbacks. See docs/callbacks.md. */
export {
  CallbackDispatcher,
  CallbackError,
  type CallbackMethod,
  type CollectedStop,
  type LoadStateOptions,
} from "./dispatcher.js";
export { EarlyStopping, type EarlyStoppingOptions, type EarlyStoppingState } from "./early-stopping.js";
export {
  LearningRateMonitor,
  type LearningRateMonitorOptions,
  type LearningRateRecord,
} from "./lr-monitor.js";
export {
  type CheckpointScore,
  LAST_CHECKPOINT_NAME,
  ModelCheckpoint,
  type ModelCheckpointOptions,
  type ModelCheckpointState,
} from "./model-checkpoint.js";
export { NanGuard, type NanGuardOptions } from "./nan-guard.js";
export { ProgressDisplay, type ProgressDisplayOptions } from "./progress.js";
export { Timer, type TimerOptions } from "./timer.js";
export * from "./types.js";
