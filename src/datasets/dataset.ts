import { CryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import type { FeatureFrame } from "../features/types.js";
import { type DatasetDescription, describeDataset } from "./description.js";
import { type Fold, foldSpanEnd, walkForwardFolds } from "./folds.js";
import { enumerateSamples, trainingIndices } from "./samples.js";
import { fitScaler, type Scaler, windowRows } from "./scalers.js";
import { type ChronologicalSplit, chronologicalSplit, rangeIndices } from "./splits.js";
import type { DatasetConfig, SampleDrops, SampleRange, SampleTable } from "./types.js";
import { validateDatasetConfig, validateInputs } from "./validate.js";
import { type BatchSource, WindowBatchSource } from "./windows.js";

/**
 * Batches of one partition of the samples (the chronological split, or one walk-forward fold), scaled
 * with a scaler fitted on that partition's training windows only. `batch` refuses samples outside the
 * partition's parts, so indices of another partition cannot be scaled with a scaler that saw their future.
 */
export interface PartitionSource extends BatchSource {
  /**
   * The samples to train on, ascending: the training range, less the dead-zone samples when the target
   * classifies and `dead_zone > 0`.
   */
  readonly trainIndices: Int32Array;
  /** Every sample of the test part (or the fold's test block), ascending; the dead zone removes none. */
  readonly testIndices: Int32Array;
}

/** The chronological split's batches: train, validation and test, scaled with the train scaler. */
export interface SplitSource extends PartitionSource {
  /** Every sample of the validation part, ascending; the dead zone removes none. */
  readonly validationIndices: Int32Array;
}

/** A fold's batches, scaled with a scaler fitted on that fold's own training windows. */
export interface FoldSource extends PartitionSource {
  readonly fold: Fold;
}

/** The chronological split's ranges, and `source` to batch them. */
export interface DatasetSplit extends ChronologicalSplit {
  readonly source: SplitSource;
}

/**
 * Leakage-free samples of one series, with a chronological split and walk-forward folds. There is no
 * batch access on the dataset itself: batches come from `split.source` or `fold(k)`, each scaled for its
 * own partition.
 */
export interface Dataset {
  readonly config: DatasetConfig;
  readonly description: DatasetDescription;
  readonly featureNames: readonly string[];
  readonly samples: SampleTable;
  readonly drops: SampleDrops;
  readonly split: DatasetSplit;
  /** Walk-forward folds over `description.foldSpan` (by default every sample before the test part). */
  readonly folds: readonly Fold[];
  /** Sample indices of a range, ascending (every sample: no dead-zone filtering). */
  indices(range: SampleRange): Int32Array;
  /** Batches for walk-forward fold `index`, scaled with that fold's scaler. */
  fold(index: number): FoldSource;
}

/**
 * Builds the dataset: enumerates valid samples (no gap filling, no warm-up rows, no feature computed
 * across a gap), splits them in time order with purge and embargo, lays out walk-forward folds over the
 * configured span, and fits one scaler per partition on its training windows.
 *
 * Throws a DATASET error when the config breaks a rule, the frame does not match the series, the series
 * is shorter than window + horizon, fewer than max(1, folds + 1) samples are valid, the training part
 * ends up empty, or a fold has no test or no training samples; each message names the numbers.
 */
export function buildDataset(series: CandleSeries, frame: FeatureFrame, input: DatasetConfig): Dataset {
  const config = validateDatasetConfig(input);
  validateInputs(series, frame, config);
  const { samples, drops, candidates } = enumerateSamples(series, frame, config);
  requireSamples(samples.count, drops, candidates, config);
  const split = chronologicalSplit(samples, config.split, config.embargo, series.interval);
  requireTraining(split, samples.count, config);
  const spanEnd = foldSpanEnd(split, config.walk_forward.span, samples.count);
  const folds = walkForwardFolds(samples, config.walk_forward, config.embargo, series.interval, spanEnd);

  const fitOn = (range: SampleRange): Scaler => fitScaler(config.scaler, frame, windowRows(samples, range));
  const train = (range: SampleRange) => trainingIndices(samples, range, config.target);
  const serve = (scaler: Scaler, parts: { name: string; range: SampleRange }[]) =>
    new WindowBatchSource(samples, frame, scaler, config.target.kind, parts);

  const splitScaler = fitOn(split.train);
  const splitServer = serve(splitScaler, [
    { name: "train", range: split.train },
    { name: "validation", range: split.validation },
    { name: "test", range: split.test },
  ]);
  const source: SplitSource = {
    ...delegate(splitServer),
    trainIndices: requireTrainable("the training part", train(split.train), split.train, config),
    validationIndices: rangeIndices(split.validation),
    testIndices: rangeIndices(split.test),
  };
  const foldSources: FoldSource[] = folds.map((fold) => ({
    ...delegate(
      serve(fitOn(fold.train), [
        { name: `fold ${fold.index} train`, range: fold.train },
        { name: `fold ${fold.index} test`, range: fold.test },
      ]),
    ),
    fold,
    trainIndices: requireTrainable(`walk-forward fold ${fold.index}`, train(fold.train), fold.train, config),
    testIndices: rangeIndices(fold.test),
  }));

  const description = describeDataset({
    series,
    frame,
    config,
    samples,
    drops,
    candidates,
    split,
    splitTrainCount: source.trainIndices.length,
    foldSpan: { start: 0, end: spanEnd },
    folds: foldSources.map((f) => ({
      fold: f.fold,
      trainCount: f.trainIndices.length,
      scaler: f.scaler.toJSON(),
    })),
    scaler: splitScaler.toJSON(),
  });

  return {
    config,
    description,
    featureNames: frame.names,
    samples,
    drops,
    split: { ...split, source },
    folds,
    indices: rangeIndices,
    fold(index) {
      const found = foldSources[index];
      if (found !== undefined) return found;
      throw new CryptomlError(
        "DATASET",
        `fold ${index} does not exist; this dataset has ${folds.length} folds`,
        {
          hint:
            folds.length === 0
              ? "raise dataset.walk_forward.folds (0 disables walk-forward)"
              : `use 0..${folds.length - 1} or raise dataset.walk_forward.folds`,
        },
      );
    },
  };
}

/** The BatchSource surface of a WindowBatchSource, as plain functions (so spreading keeps them bound). */
function delegate(source: WindowBatchSource): BatchSource {
  return {
    scaler: source.scaler,
    batch: (indices) => source.batch(indices),
    batches: (indices, batchSize) => source.batches(indices, batchSize),
  };
}

function requireSamples(count: number, drops: SampleDrops, candidates: number, config: DatasetConfig): void {
  const needed = Math.max(1, config.walk_forward.folds + 1);
  if (count >= needed) return;
  throw new CryptomlError(
    "DATASET",
    `${count} valid samples but at least ${needed} are needed (walk_forward.folds = ${config.walk_forward.folds}); ` +
      `of ${candidates} candidate windows, ${drops.gaps} span a gap (window, horizon or feature lookback), ` +
      `${drops.warmup} touch warm-up or non-finite features, ${drops.invalidTarget} lack a positive close`,
    {
      hint: "load more candles, lower dataset.window / horizon / walk_forward.folds, or use shorter feature lookbacks",
    },
  );
}

function requireTraining(split: ChronologicalSplit, count: number, config: DatasetConfig): void {
  if (split.train.end > split.train.start) return;
  const { purged, embargoed } = split.drops.train;
  throw new CryptomlError(
    "DATASET",
    `the training part is empty: split.train = ${config.split.train} of ${count} samples, ` +
      `${purged} purged and ${embargoed} embargoed before the next part`,
    { hint: "raise dataset.split.train, lower dataset.embargo or horizon, or load more candles" },
  );
}

/** The dead zone may not leave a training range without samples: there would be nothing to learn from. */
function requireTrainable(what: string, indices: Int32Array, range: SampleRange, config: DatasetConfig) {
  if (indices.length > 0) return indices;
  throw new CryptomlError(
    "DATASET",
    `${what} has no training samples outside the dead zone: all ${range.end - range.start} have ` +
      `|log return| <= target.dead_zone = ${config.target.dead_zone}`,
    { hint: "lower dataset.target.dead_zone" },
  );
}
