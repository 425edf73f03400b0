/**
 * Leakage-free datasets: windows (T × F) and targets of valid samples, chronological splits and
 * walk-forward folds with purge and embargo, scalers fitted on training rows only. See docs/datasets.md.
 */
export {
  buildDataset,
  type Dataset,
  type DatasetSplit,
  type FoldSource,
  type PartitionSource,
  type SplitSource,
} from "./dataset.js";
export {
  canonicalJson,
  type DatasetDescription,
  DESCRIPTION_VERSION,
  datasetFingerprint,
  describeDataset,
  type FoldDescription,
  type PartDescription,
  readDescription,
  writeDescription,
} from "./description.js";
export { type Fold, foldSpanEnd, walkForwardFolds } from "./folds.js";
export {
  classify,
  enumerateSamples,
  type SampleEnumeration,
  trainingIndices,
  usesDeadZone,
} from "./samples.js";
export {
  fitScaler,
  type Scaler,
  type ScalerJson,
  scaleFrame,
  scalerFromJson,
  windowRows,
} from "./scalers.js";
export {
  type ChronologicalSplit,
  chronologicalSplit,
  type PurgeResult,
  purgeBefore,
  rangeIndices,
  rangeSize,
} from "./splits.js";
export { closeTime, openTimeBefore } from "./times.js";
export {
  type BoundaryDrops,
  type DatasetConfig,
  DEFAULT_DATASET_CONFIG,
  type SampleDrops,
  type SampleRange,
  type SampleTable,
  SCALER_KINDS,
  type ScalerKind,
  TARGET_KINDS,
  type TargetKind,
  WALK_FORWARD_MODES,
  WALK_FORWARD_SPANS,
  type WalkForwardMode,
  type WalkForwardSpan,
} from "./types.js";
export { validateDatasetConfig } from "./validate.js";
export { type Batch, type BatchSource, WindowBatchSource } from "./windows.js";
