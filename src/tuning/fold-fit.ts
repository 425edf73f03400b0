/**
 * How a trial's model is fitted on one walk-forward fold, in one place: the objective (objective.ts)
 * and ensemble optimisation (ensemble.ts), which must refit a trial exactly as the objective did, both
 * build their datasets, bound the training samples, size the model and construct the Trainer here.
 */
import type { ResolvedConfig } from "../config/index.js";
import { CryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import { buildDataset, type Dataset } from "../datasets/index.js";
import { computeFeatures } from "../features/index.js";
import type { ModelIo } from "../models/definition.js";
import type { Callback } from "../training/callbacks/types.js";
import { returnScaleOf } from "../training/run/prepare.js";
import { Trainer } from "../training/trainer.js";

/** The dataset of `candles` under `config`, refused when it has no walk-forward folds to judge on. */
export function buildFoldedDataset(
  candles: CandleSeries,
  config: ResolvedConfig,
  purpose: string,
  hint: string,
): Dataset {
  const dataset = buildDataset(candles, computeFeatures(candles, config.features), config.dataset);
  if (dataset.folds.length === 0) {
    throw new CryptomlError(
      "CONFIG_INVALID",
      `${purpose} needs walk-forward folds, and dataset.walk_forward.folds is 0`,
      {
        hint,
      },
    );
  }
  return dataset;
}

/** The most recent `max` of `indices`: the bound on the cost of one fold's fit. */
export function recentSamples(indices: Int32Array, max: number): Int32Array {
  return indices.subarray(Math.max(0, indices.length - max));
}

/** The model's io on `dataset`, its return scale fitted on the fold's training samples only. */
export function foldIo(dataset: Dataset, config: ResolvedConfig, trainIndices: Int32Array): ModelIo {
  const head = config.dataset.target.kind;
  return {
    window: dataset.samples.window,
    features: dataset.featureNames.length,
    head,
    returnScale: head === "classification" ? 1 : returnScaleOf(dataset.samples.yReg, trainIndices),
  };
}

/** The Trainer of trial `trialNumber` (its seed offset by the number, so trials differ but refits repeat). */
export function foldTrainer(
  config: ResolvedConfig,
  trialNumber: number,
  epochs: number,
  options: { callbacks?: readonly Callback[]; signal?: AbortSignal } = {},
): Trainer {
  const training = config.training;
  return new Trainer({
    epochs,
    batchSize: training.batch_size,
    seed: training.seed + trialNumber,
    optimizer: { kind: training.optimizer, lr: training.learning_rate, weightDecay: training.weight_decay },
    gradientClip: training.gradient_clip,
    checkpointDir: "",
    ...(options.callbacks === undefined ? {} : { callbacks: options.callbacks }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}
