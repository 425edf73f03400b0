// engine/parallel: data parallelism over worker threads (our DDP). See docs/engine-parallel.md.

export { type FlatLayout, flatLayout, reduceChunk, type Span, shardBatch } from "./layout.js";
export { liveReplicaThreads } from "./pool.js";
export type {
  DefinitionModelSpec,
  ModelIo,
  ModelSpec,
  OptimizerSpec,
  ReferenceModelSpec,
  ReplicaModel,
} from "./spec.js";
export {
  type DataParallelOptions,
  DataParallelTrainer,
  type NamedWeights,
  type StepOutcome,
} from "./trainer.js";
