/**
 * Messages between the coordinator (DataParallelTrainer, main thread) and replica workers. Only
 * control travels in messages; batches, gradients, weights and outputs travel in SharedArrayBuffers.
 */
import type { MessagePort } from "node:worker_threads";
import type { OptimizerState } from "../optim/index.js";
import type { RngState } from "../random.js";
import type { StepMode } from "./replica.js";
import type { ModelSpec, OptimizerSpec } from "./spec.js";

/** Bumped on any change here: a stale dist/ worker is refused instead of misbehaving. */
export const PROTOCOL_VERSION = 2;

/** Shared memory every replica maps (all SharedArrayBuffer). */
export interface SharedBuffers {
  /** Int32 control words of the barrier (barrier.ts). */
  control: SharedArrayBuffer;
  /** Float32: `world` gradient slots then the reduced gradient, each `gradLayout.stride` long. */
  grads: SharedArrayBuffer;
  /**
   * Float32: every weight, `layout.total` long; written by the coordinator at start and on
   * `setParameters`, by rank 0 after an applied step.
   */
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
  /** Seed of this replica's dropout generator. */
  dropoutSeed: number;
  /** Parameter names and sizes the coordinator laid out; a replica that disagrees refuses to start. */
  names: string[];
  sizes: number[];
  /** Names of the trainable parameters (those whose gradients are reduced). */
  trainable: string[];
  buffers: SharedBuffers;
}

/** New batch buffers (sent when a larger batch needs bigger ones): x, y, predictions. */
export interface DataMessage {
  type: "data";
  x: SharedArrayBuffer;
  y: SharedArrayBuffer;
  out: SharedArrayBuffer;
}

/**
 * Computes and all-reduces the batch gradient. `strict`: then clips and updates at once (a non-finite
 * loss or clipped norm throws). `guarded`: clips, replies with the numbers and waits for `apply`.
 */
export interface StepMessage {
  type: "step";
  batch: number;
  /** Learning rate of this step (so a scheduler on the coordinator drives every replica alike). */
  lr: number;
  mode: StepMode;
}

/** The coordinator's decision on a guarded step, the same for every replica. */
export interface ApplyMessage {
  type: "apply";
  apply: boolean;
}

export interface PredictMessage {
  type: "predict";
  batch: number;
}

/** Replaces parts of the replica's state; `weights`: copy them from the shared weights buffer. */
export interface ImportMessage {
  type: "import";
  weights: boolean;
  optimizer?: OptimizerState;
  rng?: RngState;
}

/**
 * Asks for the replica's state while the coordinator blocks (the StepEngine's getters are
 * synchronous): the reply goes through `port`, then `flag[0]` is set to 1 and notified.
 */
export interface ExportMessage {
  type: "export";
  optimizer: boolean;
  port: MessagePort;
  flag: SharedArrayBuffer;
}

export type ToWorker =
  | InitMessage
  | DataMessage
  | StepMessage
  | ApplyMessage
  | PredictMessage
  | ImportMessage
  | ExportMessage;

export type FromWorker =
  | { type: "ready"; protocol: number }
  /** `loss`: the mean loss over this replica's shard (0 for an empty shard); `gradNorm`: of the batch gradient. */
  | { type: "stepped"; loss: number; gradNorm: number }
  | { type: "applied" }
  | { type: "predicted" }
  | { type: "imported" }
  | { type: "exported"; rng: RngState; optimizer?: unknown }
  | { type: "error"; message: string; aborted: boolean };
