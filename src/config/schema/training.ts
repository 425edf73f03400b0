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
  checkpoint_dir: text("a non-empty path").default(".cryptoml/checkpoints"),
  model: oneOf(MODEL_NAMES).default("lstm_attention"),
});

export type TrainingConfig = z.output<typeof trainingSchema>;
