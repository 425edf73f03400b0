import { CryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import type { FeatureFrame } from "../features/types.js";
import { type DatasetDescription, describeDataset } from "./description.js";
import { type Fold, walkForwardFolds } from "./folds.js";
import { enumerateSamples } from "./samples.js";
import { fitScaler, windowRows } from "./scalers.js";
import { type ChronologicalSplit, chronologicalSplit, rangeIndices } from "./splits.js";
import type { DatasetConfig, SampleDrops, SampleRange, SampleTable } from "./types.js";
import { validateDatasetConfig, validateInputs } from "./validate.js";
import { type Batch, type BatchSource, WindowBatchSource } from "./windows.js";

/** A fold's batches, scaled with a scaler fitted on that fold's own training windows. */
export interface FoldSource extends BatchSource {
  readonly fold: Fold;
}

/**
 * Leakage-free samples of one series, with splits, walk-forward folds and batch access. `batch()`
 * (from {@link BatchSource}) scales with `scaler`, fitted on the split's training windows only.
 */
export interface Dataset extends BatchSource {
  readonly config: DatasetConfig;
  readonly description: DatasetDescription;
  readonly featureNames: readonly string[];
  readonly samples: SampleTable;
  readonly drops: SampleDrops;
  readonly split: ChronologicalSplit;
  readonly folds: readonly Fold[];
  /** Sample indices of a range (a split part or a fold's train/test), ascending. */
  indices(range: SampleRange): Int32Array;
  /**
   * Every requested sample at once (default: all N). Costs N × T × F × 4 bytes — prefer `batches()`
   * for training on long series.
   */
  materialize(indices?: ArrayLike<number>): Batch;
  /** Batches for walk-forward fold `index`; its scaler is fitted on first use and kept. */
  fold(index: number): FoldSource;
}

/**
 * Builds the dataset: enumerates valid samples (no gap filling, no warm-up rows), splits them in time
 * order with purge and embargo, lays out walk-forward folds, and fits the scaler on training windows.
 *
 * Throws a DATASET error when the config breaks a rule, the frame does not match the series, the series
 * is shorter than window + horizon, fewer than max(1, folds + 1) samples are valid, the training part
 * ends up empty, or a fold has no test or no training samples; each message names the numbers.
 */
export function buildDataset(series: CandleSeries, frame: FeatureFrame, config: DatasetConfig): Dataset {
  validateDatasetConfig(config);
  validateInputs(series, frame, config);
  const { samples, drops, candidates } = enumerateSamples(series, frame, config);
  requireSamples(samples.count, drops, candidates, config);
  const split = chronologicalSplit(samples, config.split, config.embargo, series.interval);
  requireTraining(split, samples.count, config);
  const folds = walkForwardFolds(samples, config.walk_forward, config.embargo, series.interval);
  const scaler = fitScaler(config.scaler, frame, windowRows(samples, split.train));
  const source = new WindowBatchSource(samples, frame, scaler, config.target.kind);
  const description = describeDataset({
    series,
    frame,
    config,
    samples,
    drops,
    candidates,
    split,
    folds,
    scaler: scaler.toJSON(),
  });
  const foldSources = new Map<number, FoldSource>();

  return {
    config,
    description,
    featureNames: frame.names,
    samples,
    drops,
    split,
    folds,
    scaler,
    indices: rangeIndices,
    batch: (indices) => source.batch(indices),
    batches: (indices, batchSize) => source.batches(indices, batchSize),
    materialize: (indices) => source.batch(indices ?? rangeIndices({ start: 0, end: samples.count })),
    fold(index) {
      const fold = folds[index];
      if (fold === undefined) {
        throw new CryptomlError(
          "DATASET",
          `fold ${index} does not exist; this dataset has ${folds.length} folds`,
          {
            hint: `use 0..${folds.length - 1} or raise dataset.walk_forward.folds`,
          },
        );
      }
      let found = foldSources.get(index);
      if (found === undefined) {
        const foldScaler = fitScaler(config.scaler, frame, windowRows(samples, fold.train));
        const foldSource = new WindowBatchSource(samples, frame, foldScaler, config.target.kind);
        found = Object.assign(foldSource, { fold });
        foldSources.set(index, found);
      }
      return found;
    },
  };
}

function requireSamples(count: number, drops: SampleDrops, candidates: number, config: DatasetConfig): void {
  const needed = Math.max(1, config.walk_forward.folds + 1);
  if (count >= needed) return;
  throw new CryptomlError(
    "DATASET",
    `${count} valid samples but at least ${needed} are needed (walk_forward.folds = ${config.walk_forward.folds}); ` +
      `of ${candidates} candidate windows, ${drops.gaps} span a gap, ${drops.warmup} touch warm-up or non-finite ` +
      `features, ${drops.invalidTarget} lack a positive close, ${drops.deadZone} fall in the dead zone`,
    {
      hint: "load more candles, lower dataset.window / horizon / walk_forward.folds, or lower target.dead_zone",
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
