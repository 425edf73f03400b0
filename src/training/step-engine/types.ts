/**
 * Where the Trainer's arithmetic happens, behind one interface: in this thread (LocalStepEngine) or
 * across data-parallel worker threads (ParallelStepEngine). The Trainer owns the loop, the data order,
 * metrics, callbacks and checkpoints; an engine owns the model's weights, the optimiser and the dropout
 * generators, and can export and restore all three for exact resume. Every implementation passes the
 * contract suite in `contract.test.ts`.
 */
import type { Rng } from "../../engine/random.js";
import type { ModelDefinition } from "../../models/definition.js";
import type { CheckpointWeight } from "../checkpoint/state.js";

/** The optimiser every engine builds over the model's trainable parameters (torch.optim semantics). */
export interface OptimizerSettings {
  readonly kind: "adam" | "adamw" | "sgd";
  readonly lr: number;
  readonly weightDecay: number;
}

/** What an engine is built from: plain data, so worker threads can rebuild the same model. */
export interface StepEngineOptions {
  readonly definition: ModelDefinition;
  /** Seed of the initial weights and of the dropout generators. */
  readonly seed: number;
  readonly optimizer: OptimizerSettings;
  /** Clip the batch gradient to this global 2-norm before each update; 0 = no clipping. */
  readonly gradientClip: number;
  /** Data-parallel replicas (1 = in this thread). */
  readonly workers: number;
}

/** The outcome of one optimiser step. */
export interface StepResult {
  /** The batch's mean loss before the update. */
  readonly loss: number;
  /** The global 2-norm of the batch gradient before clipping. */
  readonly gradNorm: number;
  /**
   * False when the loss or the gradient norm was not finite: the weights and the optimiser were left
   * as they were, so the last good state is intact.
   */
  readonly applied: boolean;
}

export interface StepEngine {
  readonly workers: number;
  /** Learning rate of the next step (a scheduler changes it between steps). */
  lr: number;
  /**
   * One optimiser step on a batch: `x` holds `rows` windows [rows, window, features], `targets` the
   * packed targets [rows, outputs] (src/models/heads.ts packTargets).
   */
  step(x: Float32Array, targets: Float32Array, rows: number): Promise<StepResult>;
  /** Predictions [rows, outputs] in evaluation mode (no dropout). */
  predict(x: Float32Array, rows: number): Promise<Float32Array>;
  /** A copy of every weight, in the model's parameter order. */
  weights(): CheckpointWeight[];
  /** Replaces every weight (same names and shapes, else a clear error) on every replica. */
  loadWeights(weights: readonly CheckpointWeight[]): Promise<void>;
  /** The optimiser's `stateDict()` (plain JSON). */
  optimizerState(): unknown;
  loadOptimizerState(state: unknown): Promise<void>;
  /** The dropout generators' states (plain JSON). */
  rngState(): unknown;
  loadRngState(state: unknown): Promise<void>;
  /** Frees threads and buffers; the engine is unusable afterwards. Idempotent. */
  close(): Promise<void>;
}

/** Builds the engine for `options.workers` (1: local, more: parallel). */
export type StepEngineFactory = (options: StepEngineOptions) => Promise<StepEngine>;

/** The seed of the dropout generator of replica `rank`: distinct per replica, fixed per run. */
export function dropoutSeed(seed: number, rank: number): number {
  return (seed * 1000003 + 7919 * (rank + 1)) >>> 0;
}

export type { Rng };
