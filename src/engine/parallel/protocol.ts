/**
 * Messages between the coordinator (DataParallelTrainer, main thread) and replica workers. Only
 * control travels in messages; batches, gradients, weights and outputs travel in SharedArrayBuffers.
 */
import type { ModelSpec, OptimizerSpec } from "./spec.js";

/** Bumped on any change here: a stale dist/ worker is refused instead of misbehaving. */
export const PROTOCOL_VERSION = 1;

/** Shared memory every replica maps (all SharedArrayBuffer). */
export interface SharedBuffers {
  /** Int32 control words of the barrier (barrier.ts). */
  control: SharedArrayBuffer;
  /** Float32: `world` gradient slots then the reduced gradient, each `layout.stride` long. */
  grads: SharedArrayBuffer;
  /** Float32: the weights, `layout.total` long; written by the coordinator at start, by rank 0 after a step. */
  weights: SharedArrayBuffer;
}

export interface InitMessage {
  type: "init";
  protocol: number;
  rank: number;
  world: number;
  model: ModelSpec;
  optimizer: OptimizerSpec;
  clipNorm: number | undefined;
  timeoutMs: number;
  /** Parameter names and sizes the coordinator laid out; a replica that disagrees refuses to start. */
  names: string[];
  sizes: number[];
  buffers: SharedBuffers;
}

/** New batch buffers (sent when a larger batch needs bigger ones): x, y, predictions. */
export interface DataMessage {
  type: "data";
  x: SharedArrayBuffer;
  y: SharedArrayBuffer;
  out: SharedArrayBuffer;
}

export interface StepMessage {
  type: "step";
  batch: number;
  /** Learning rate of this step (so a scheduler on the coordinator drives every replica alike). */
  lr: number;
}

export interface PredictMessage {
  type: "predict";
  batch: number;
}

export type ToWorker = InitMessage | DataMessage | StepMessage | PredictMessage;

export type FromWorker =
  | { type: "ready"; protocol: number }
  /** `loss`: the mean loss over this replica's shard (0 for an empty shard). */
  | { type: "stepped"; loss: number }
  | { type: "predicted" }
  | { type: "error"; message: string; aborted: boolean };
