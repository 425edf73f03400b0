import * as z from "zod";
import { MODEL_NAMES } from "./models.js";
import { int, num, oneOf, text } from "./rules.js";

/**
 * `training:` in training.yaml — one training run: seed, batches, optimizer, where checkpoints go,
 * and which architecture from `models:` (model_architectures.yaml) to train.
 */
export const trainingSchema = z.strictObject({
  /** Seeds weight init, shuffling and dropout, so a run can be reproduced. */
  seed: int({ min: 0 }).default(42),
  batch_size: int({ min: 1 }).default(64),
  epochs: int({ min: 1 }).default(50),
  learning_rate: num({ gt: 0 }).default(0.001),
  optimizer: oneOf(["adam", "adamw", "sgd"]).default("adam"),
  /** L2 penalty (decoupled for adamw). */
  weight_decay: num({ min: 0 }).default(0),
  /** Max global gradient norm; 0 turns clipping off. */
  gradient_clip: num({ min: 0 }).default(1.0),
  /** Data-parallel worker threads. */
  workers: int({ min: 1 }).default(1),
  /** Where `cryptoml train` writes run directories (config, metrics, checkpoints, models, summary). */
  runs_dir: text("a non-empty path").default(".cryptoml/runs"),
  /** Also write the resumable checkpoint every N optimiser steps; 0 = only at epoch ends. */
  checkpoint_every_steps: int({ min: 0 }).default(0),
  /** Also write the resumable checkpoint every T minutes of training; 0 = never by time. */
  checkpoint_every_minutes: num({ min: 0 }).default(5),
  /** Stop a model after this many epochs without a better validation loss; 0 = never. */
  early_stopping_patience: int({ min: 0 }).default(10),
  model: oneOf(MODEL_NAMES).default("lstm_attention"),
});

export type TrainingConfig = z.output<typeof trainingSchema>;
