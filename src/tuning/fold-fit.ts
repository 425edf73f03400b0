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
import type { ModelDefinition, ModelIo } from "../models/definition.js";
import { CallbackError } from "../training/callbacks/dispatcher.js";
import type { Callback } from "../training/callbacks/types.js";
import type { JobMonitorFactory } from "../training/run/monitor.js";
import { returnScaleOf } from "../training/run/prepare.js";
import { type FitResult, Trainer, type TrainerObserver, type TrainingData } from "../training/trainer.js";
import { TrialPruned } from "./errors.js";

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
  options: { callbacks?: readonly Callback[]; signal?: AbortSignal; observer?: TrainerObserver } = {},
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
    ...(options.observer === undefined ? {} : { observer: options.observer }),
  });
}

/** One fold's fit: what is trained, on which symbol's samples. */
export interface FoldFit {
  /** The symbol whose fold this is: the monitor's job key, so labels never carry trial numbers. */
  readonly symbol: string;
  /** The architecture's name (`lstm`, `gru`, …), the monitor's `model`. */
  readonly model: string;
  readonly definition: ModelDefinition;
  readonly data: TrainingData;
}

export interface FoldFitOptions {
  /** Callbacks after the monitor's (e.g. a pruning reporter). Default none. */
  readonly callbacks?: readonly Callback[];
  readonly signal?: AbortSignal;
  /** Watches the fit (the Prometheus exporter of `cryptoml tune`); absent = not monitored. */
  readonly monitor?: JobMonitorFactory;
}

/**
 * Fits `fit` with {@link foldTrainer}, telling the monitor (when given) how the fit ended: a trial pruned
 * by a callback ends as `stopped`, any other error as `failed`. Errors are rethrown as the Trainer threw them.
 */
export async function fitOnFold(
  config: ResolvedConfig,
  trialNumber: number,
  epochs: number,
  fit: FoldFit,
  options: FoldFitOptions = {},
): Promise<FitResult> {
  const watcher = options.monitor?.({
    key: fit.symbol,
    model: fit.model,
    symbols: [fit.symbol],
    batchSize: config.training.batch_size,
    trainRows: fit.data.trainIndices.length,
  });
  const trainer = foldTrainer(config, trialNumber, epochs, {
    callbacks: [...(watcher?.callbacks ?? []), ...(options.callbacks ?? [])],
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(watcher === undefined ? {} : { observer: watcher.observer }),
  });
  let result: FitResult;
  try {
    result = await trainer.fit(fit.definition, fit.data);
  } catch (error) {
    const pruned = error instanceof CallbackError && error.cause instanceof TrialPruned;
    watcher?.finished(pruned ? "stopped" : "failed", (error as Error).message);
    throw error;
  }
  watcher?.finished(result.status, result.reason);
  return result;
}
