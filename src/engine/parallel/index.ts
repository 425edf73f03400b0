// engine/parallel: data parallelism over worker threads (our DDP). See docs/engine-parallel.md.

export { type FlatLayout, flatLayout, reduceChunk, type Span, shardBatch } from "./layout.js";
export { liveReplicaThreads } from "./pool.js";
export type { ModelIo, ModelSpec, OptimizerSpec, ReferenceModelSpec } from "./spec.js";
export { type DataParallelOptions, DataParallelTrainer, type NamedWeights } from "./trainer.js";
