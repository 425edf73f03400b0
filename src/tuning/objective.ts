/**
 * The model objective of `cryptoml tune`: a trial's parameters applied to the configuration, then
 * walk-forward cross-validation over each symbol's time-ordered folds (purge and embargo as the dataset
 * defines them): train on the fold's training part, evaluate on its test block — never on data the model
 * trained on. Intermediate values (the running mean of the metric over the folds so far) are reported
 * after every epoch, so pruners can stop a hopeless trial after its first fold.
 */
import type { ResolvedConfig } from "../config/index.js";
import { CryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import type { Dataset } from "../datasets/index.js";
import type { ModelName } from "../models/definition.js";
import { defineModel } from "../models/registry.js";
import { CallbackError } from "../training/callbacks/dispatcher.js";
import type { Callback } from "../training/callbacks/types.js";
import type { Trainer } from "../training/trainer.js";
import { TrialPruned } from "./errors.js";
import { buildFoldedDataset, foldIo, foldTrainer, recentSamples } from "./fold-fit.js";
import { applyParams, searchSpaceOf } from "./space.js";
import type { Trial } from "./trial.js";
import type { StudyDirection } from "./types.js";

/** What a trial is judged on, measured on the folds' test blocks. */
export const OBJECTIVE_METRICS = {
  val_loss: "minimize",
  val_directional_accuracy: "maximize",
  val_mae: "minimize",
} as const satisfies Record<string, StudyDirection>;
export type ObjectiveMetric = keyof typeof OBJECTIVE_METRICS;

export interface ModelObjectiveOptions {
  readonly config: ResolvedConfig;
  readonly model: ModelName;
  readonly symbols: readonly string[];
  readonly loadSeries: (symbol: string) => Promise<CandleSeries>;
  readonly metric: ObjectiveMetric;
  /** Epochs per fold. */
  readonly epochs: number;
  /** Use the first N walk-forward folds (default: all of dataset.walk_forward.folds). */
  readonly folds?: number;
  /** Train each fold on at most its most recent N samples (bounds the cost of a trial). */
  readonly maxTrainSamples: number;
  readonly signal?: AbortSignal;
}

/** Datasets are rebuilt only when a trial changes what they depend on (window, horizon, …). */
function datasetCache(options: ModelObjectiveOptions) {
  const series = new Map<string, CandleSeries>();
  const built = new Map<string, Dataset>();
  return async (symbol: string, config: ResolvedConfig): Promise<Dataset> => {
    const key = `${symbol}|${JSON.stringify(config.dataset)}|${JSON.stringify(config.features)}`;
    const found = built.get(key);
    if (found !== undefined) return found;
    let candles = series.get(symbol);
    if (candles === undefined) {
      candles = await options.loadSeries(symbol);
      series.set(symbol, candles);
    }
    const dataset = buildFoldedDataset(
      candles,
      config,
      "tuning",
      "set dataset.walk_forward.folds to 2 or more in training.yaml",
    );
    built.set(key, dataset);
    return dataset;
  };
}

/** The objective function for Study.optimize. */
export function modelObjective(options: ModelObjectiveOptions): (trial: Trial) => Promise<number> {
  const datasetFor = datasetCache(options);
  const space = searchSpaceOf(options.config, options.model);
  return async (trial) => {
    const params: Record<string, unknown> = {};
    for (const { name, distribution } of space) params[name] = await trial.suggest(name, distribution);
    const config = applyParams(options.config, options.model, params as Record<string, never>);
    const scores: number[] = [];
    let step = 0;
    for (const symbol of options.symbols) {
      const dataset = await datasetFor(symbol, config);
      const folds = Math.min(options.folds ?? dataset.folds.length, dataset.folds.length);
      for (let k = 0; k < folds; k++) {
        const source = dataset.fold(k);
        const trainIndices = recentSamples(source.trainIndices, options.maxTrainSamples);
        const io = foldIo(dataset, config, trainIndices);
        const definition = defineModel(options.model, config.models, io);
        const done = [...scores];
        // After every epoch: report the mean over the folds so far (this fold at its current epoch).
        const reporter: Callback = {
          name: "TrialReporter",
          onEpochEnd: async (snapshot) => {
            const value = snapshot.metrics[options.metric];
            if (value === undefined || !Number.isFinite(value)) return;
            await trial.report([...done, value].reduce((a, b) => a + b, 0) / (done.length + 1), step);
            step += 1;
            if (await trial.shouldPrune())
              throw new TrialPruned(`pruned at ${symbol} fold ${k}, epoch ${snapshot.epoch}`);
          },
        };
        let result: Awaited<ReturnType<Trainer["fit"]>>;
        try {
          result = await foldTrainer(config, trial.number, options.epochs, {
            callbacks: [reporter],
            ...(options.signal === undefined ? {} : { signal: options.signal }),
          }).fit(definition, { source, trainIndices, validationIndices: source.testIndices });
        } catch (error) {
          if (error instanceof CallbackError && error.cause instanceof TrialPruned) throw error.cause;
          throw error;
        }
        if (result.status === "interrupted") throw new CryptomlError("INTERRUPTED", "tuning interrupted");
        const last = result.history.at(-1)?.[options.metric];
        if (last === undefined || !Number.isFinite(last)) {
          throw new CryptomlError(
            "DATASET",
            `${symbol} fold ${k}: the trial produced no finite ${options.metric} (${result.reason})`,
          );
        }
        scores.push(last);
      }
    }
    return scores.reduce((a, b) => a + b, 0) / scores.length;
  };
}
