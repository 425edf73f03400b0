/**
 * The model objective of `cryptoml tune`: a trial's parameters applied to the configuration, then
 * walk-forward cross-validation over each symbol's time-ordered folds (purge and embargo as the dataset
 * defines them): train on the fold's training part, evaluate on its test block — never on data the model
 * trained on. Two objectives:
 * - `loss` (default): the mean of a validation metric over the folds; intermediate values (the running
 *   mean over the folds so far) are reported after every epoch, so pruners can stop a hopeless trial
 *   after its first fold.
 * - `sharpe` (maximised): the mean over the folds of the annualised Sharpe ratio of a backtest of the
 *   fold's out-of-sample predictions (trading-objective.ts); each fold's Sharpe is reported at step =
 *   the fold's position, so pruners compare a trial's fold k with the other trials' fold k.
 */
import type { CostModel, StrategySpec } from "../backtest/types.js";
import type { ResolvedConfig } from "../config/index.js";
import { CryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import type { Dataset } from "../datasets/index.js";
import type { ModelName } from "../models/definition.js";
import { defineModel } from "../models/registry.js";
import { CallbackError } from "../training/callbacks/dispatcher.js";
import type { Callback } from "../training/callbacks/types.js";
import type { JobMonitorFactory } from "../training/run/monitor.js";
import type { FitResult } from "../training/trainer.js";
import { TrialPruned } from "./errors.js";
import { buildFoldedDataset, fitOnFold, foldIo, recentSamples } from "./fold-fit.js";
import { applyParams, searchSpaceOf } from "./space.js";
import {
  BACKTEST_ATTR,
  DEFAULT_TUNING_COSTS,
  type FoldBacktestResult,
  type FoldTrading,
  foldBacktest,
  foldStrategy,
  predictFold,
  summariseFolds,
} from "./trading-objective.js";
import type { Trial } from "./trial.js";
import type { StudyDirection } from "./types.js";

/** What a trial is judged on, measured on the folds' test blocks. */
export const OBJECTIVE_METRICS = {
  val_loss: "minimize",
  val_directional_accuracy: "maximize",
  val_mae: "minimize",
} as const satisfies Record<string, StudyDirection>;
export type ObjectiveMetric = keyof typeof OBJECTIVE_METRICS;

/** What `cryptoml tune --objective` can optimise. */
export const OBJECTIVE_KINDS = ["loss", "sharpe"] as const;
export type ObjectiveKind = (typeof OBJECTIVE_KINDS)[number];

/** The study direction of an objective: `metric`'s for `loss`, maximize for `sharpe`. */
export function objectiveDirection(kind: ObjectiveKind, metric: ObjectiveMetric): StudyDirection {
  return kind === "sharpe" ? "maximize" : OBJECTIVE_METRICS[metric];
}

export interface ModelObjectiveOptions {
  readonly config: ResolvedConfig;
  readonly model: ModelName;
  readonly symbols: readonly string[];
  readonly loadSeries: (symbol: string) => Promise<CandleSeries>;
  /** The validation metric of the `loss` objective (unused by `sharpe`). */
  readonly metric: ObjectiveMetric;
  /** What a trial is judged on (see the module's comment). Default "loss". */
  readonly objective?: ObjectiveKind;
  /** Fees and slippage of the `sharpe` objective's backtests. Default {@link DEFAULT_TUNING_COSTS}. */
  readonly costs?: CostModel;
  /** Epochs per fold. */
  readonly epochs: number;
  /** Use the first N walk-forward folds (default: all of dataset.walk_forward.folds). */
  readonly folds?: number;
  /** Train each fold on at most its most recent N samples (bounds the cost of a trial). */
  readonly maxTrainSamples: number;
  readonly signal?: AbortSignal;
  /**
   * Watches every fold's fit (job key = the fold's symbol, model = {@link model}); `cryptoml tune`
   * connects it to the Prometheus exporter. Absent = not monitored.
   */
  readonly monitor?: JobMonitorFactory;
  /**
   * Called after each fold's backtest of the `sharpe` objective (before pruning is decided), with the
   * strategy's kind (`sign`, `sized`). Must not throw. Absent = nobody is told.
   */
  readonly onFoldBacktest?: (
    symbol: string,
    strategy: StrategySpec["kind"],
    fold: FoldBacktestResult,
  ) => void;
}

interface LoadedSymbol {
  readonly series: CandleSeries;
  readonly dataset: Dataset;
}

/** Datasets are rebuilt only when a trial changes what they depend on (window, horizon, …). */
function datasetCache(options: ModelObjectiveOptions) {
  const series = new Map<string, CandleSeries>();
  const built = new Map<string, Dataset>();
  return async (symbol: string, config: ResolvedConfig): Promise<LoadedSymbol> => {
    let candles = series.get(symbol);
    if (candles === undefined) {
      candles = await options.loadSeries(symbol);
      series.set(symbol, candles);
    }
    const key = `${symbol}|${JSON.stringify(config.dataset)}|${JSON.stringify(config.features)}`;
    let dataset = built.get(key);
    if (dataset === undefined) {
      dataset = buildFoldedDataset(
        candles,
        config,
        "tuning",
        "set dataset.walk_forward.folds to 2 or more in training.yaml",
      );
      built.set(key, dataset);
    }
    return { series: candles, dataset };
  };
}

/** One walk-forward fold of one symbol, ready to fit. */
interface FoldJob {
  readonly symbol: string;
  readonly series: CandleSeries;
  readonly fold: number;
  readonly source: ReturnType<Dataset["fold"]>;
  readonly trainIndices: Int32Array;
  readonly definition: ReturnType<typeof defineModel>;
}

/** Every symbol's first `options.folds` folds under `config`, in order. */
async function* foldJobs(
  options: ModelObjectiveOptions,
  config: ResolvedConfig,
  datasetFor: ReturnType<typeof datasetCache>,
): AsyncGenerator<FoldJob> {
  for (const symbol of options.symbols) {
    const { series, dataset } = await datasetFor(symbol, config);
    const folds = Math.min(options.folds ?? dataset.folds.length, dataset.folds.length);
    for (let fold = 0; fold < folds; fold++) {
      const source = dataset.fold(fold);
      const trainIndices = recentSamples(source.trainIndices, options.maxTrainSamples);
      const definition = defineModel(options.model, config.models, foldIo(dataset, config, trainIndices));
      yield { symbol, series, fold, source, trainIndices, definition };
    }
  }
}

/** Fits the fold's model (pruning signalled by a callback surfaces as the TrialPruned it threw). */
async function fitFold(
  options: ModelObjectiveOptions,
  config: ResolvedConfig,
  trial: Trial,
  job: FoldJob,
  validationIndices: Int32Array,
  callbacks: readonly Callback[] = [],
): Promise<FitResult> {
  let result: FitResult;
  try {
    result = await fitOnFold(
      config,
      trial.number,
      options.epochs,
      {
        symbol: job.symbol,
        model: options.model,
        definition: job.definition,
        data: { source: job.source, trainIndices: job.trainIndices, validationIndices },
      },
      {
        callbacks,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...(options.monitor === undefined ? {} : { monitor: options.monitor }),
      },
    );
  } catch (error) {
    if (error instanceof CallbackError && error.cause instanceof TrialPruned) throw error.cause;
    throw error;
  }
  if (result.status === "interrupted") throw new CryptomlError("INTERRUPTED", "tuning interrupted");
  return result;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The `loss` objective: the mean of the metric's last value over the folds. */
async function lossOfTrial(
  options: ModelObjectiveOptions,
  config: ResolvedConfig,
  trial: Trial,
  datasetFor: ReturnType<typeof datasetCache>,
): Promise<number> {
  const scores: number[] = [];
  let step = 0;
  for await (const job of foldJobs(options, config, datasetFor)) {
    const done = [...scores];
    // After every epoch: report the mean over the folds so far (this fold at its current epoch).
    const reporter: Callback = {
      name: "TrialReporter",
      onEpochEnd: async (snapshot) => {
        const value = snapshot.metrics[options.metric];
        if (value === undefined || !Number.isFinite(value)) return;
        await trial.report(mean([...done, value]), step);
        step += 1;
        if (await trial.shouldPrune())
          throw new TrialPruned(`pruned at ${job.symbol} fold ${job.fold}, epoch ${snapshot.epoch}`);
      },
    };
    const result = await fitFold(options, config, trial, job, job.source.testIndices, [reporter]);
    const last = result.history.at(-1)?.[options.metric];
    if (last === undefined || !Number.isFinite(last)) {
      throw new CryptomlError(
        "DATASET",
        `${job.symbol} fold ${job.fold}: the trial produced no finite ${options.metric} (${result.reason})`,
      );
    }
    scores.push(last);
  }
  return mean(scores);
}

/**
 * The `sharpe` objective: the mean over the folds of the backtest Sharpe ratio of the fold's test-block
 * predictions. The running means of the trading figures are kept in the trial's `backtest` user
 * attribute after every fold, so pruned trials carry them too.
 */
async function sharpeOfTrial(
  options: ModelObjectiveOptions,
  config: ResolvedConfig,
  trial: Trial,
  datasetFor: ReturnType<typeof datasetCache>,
): Promise<number> {
  const folds: FoldTrading[] = [];
  for await (const job of foldJobs(options, config, datasetFor)) {
    // No validation pass during the fit: the backtest below is this fold's only judgement.
    const result = await fitFold(options, config, trial, job, new Int32Array(0));
    const testIndices = job.source.testIndices;
    const strategy = foldStrategy(job.definition.io.head);
    const trading = foldBacktest({
      series: job.series,
      predictions: predictFold(job.definition, result.weights, job.source, testIndices),
      strategy,
      costs: options.costs ?? DEFAULT_TUNING_COSTS,
      fold: job.fold,
    });
    options.onFoldBacktest?.(job.symbol, strategy.kind, trading);
    folds.push(trading);
    await trial.setUserAttr(BACKTEST_ATTR, summariseFolds(folds));
    await trial.report(trading.sharpe, folds.length - 1);
    if (await trial.shouldPrune())
      throw new TrialPruned(`pruned after ${job.symbol} fold ${job.fold} (Sharpe ${trading.sharpe})`);
  }
  return mean(folds.map((f) => f.sharpe));
}

/** The objective function for Study.optimize. */
export function modelObjective(options: ModelObjectiveOptions): (trial: Trial) => Promise<number> {
  const datasetFor = datasetCache(options);
  const space = searchSpaceOf(options.config, options.model);
  return async (trial) => {
    const params: Record<string, unknown> = {};
    for (const { name, distribution } of space) params[name] = await trial.suggest(name, distribution);
    const config = applyParams(options.config, options.model, params as Record<string, never>);
    try {
      return options.objective === "sharpe"
        ? await sharpeOfTrial(options, config, trial, datasetFor)
        : await lossOfTrial(options, config, trial, datasetFor);
    } catch (error) {
      // Optuna's key for why a trial failed: `tune show` and optuna-dashboard display it.
      if (
        !(error instanceof TrialPruned) &&
        !(error instanceof CryptomlError && error.code === "INTERRUPTED")
      )
        await trial.setSystemAttr(FAIL_REASON_ATTR, (error as Error).message).catch(() => {});
      throw error;
    }
  };
}

/** The trial system attribute that holds a failed trial's error message (Optuna's name). */
export const FAIL_REASON_ATTR = "fail_reason";
