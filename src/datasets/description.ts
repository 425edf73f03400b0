import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "../core/atomic-file.js";
import { CryptomlError, NotFoundError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import type { Interval } from "../data/intervals.js";
import type { FeatureFrame, FeatureSpec } from "../features/types.js";
import type { Fold } from "./folds.js";
import { type ScalerJson, scalerFromJson } from "./scalers.js";
import { type ChronologicalSplit, rangeSize } from "./splits.js";
import { isoTime } from "./times.js";
import type { BoundaryDrops, DatasetConfig, SampleDrops, SampleRange, SampleTable } from "./types.js";

/**
 * Bumped when the description's shape changes incompatibly; readers refuse other versions.
 * 2: fold scalers, lookback, fold span, feature specs always present, data digest in the fingerprint,
 * dead zone applied to training samples only.
 */
export const DESCRIPTION_VERSION = 2;

/** A part of the samples: index range, count and the span of candles it touches (ISO-8601 UTC). */
export interface PartDescription {
  start: number;
  end: number;
  count: number;
  /** Open of the first sample's first feature candle; null for an empty part. */
  firstFeatureTime: string | null;
  /** Opens of the first and the last sample's end candle (row t). */
  firstEndTime: string | null;
  lastEndTime: string | null;
  /** Close of the last sample's label candle (row t+h). */
  lastLabelTime: string | null;
}

export interface FoldDescription {
  index: number;
  train: PartDescription;
  test: PartDescription;
  testRows: { start: number; end: number };
  purged: number;
  embargoed: number;
  /** Samples of `train` left out of training for the dead zone (test blocks keep all theirs). */
  deadZone: number;
  /** Fitted on the windows of this fold's training samples only; `dataset.fold(index)` scales with it. */
  scaler: ScalerJson;
}

/** Everything needed to audit or reproduce a dataset, as plain JSON. */
export interface DatasetDescription {
  version: number;
  symbol: string;
  interval: Interval;
  window: number;
  horizon: number;
  target: DatasetConfig["target"];
  features: string[];
  /**
   * The frame's lookback L: a sample's rows t−T+1−L..t+h must be gap-free, so each isolated gap drops
   * T + h + L − 1 candidate windows.
   */
  lookback: number;
  config: DatasetConfig;
  /** Open times of the series' first and last candle. */
  candles: { count: number; first: string | null; last: string | null };
  counts: {
    candidates: number;
    samples: number;
    droppedForGaps: number;
    droppedForWarmup: number;
    droppedForInvalidTarget: number;
    /**
     * Samples of the split's training part left out of training because |y| ≤ dead_zone (classifying
     * targets only). They stay in the table; validation and test samples are never dropped for it.
     */
    droppedForDeadZone: number;
    /** Train + validation samples purged at the split boundaries (folds report their own). */
    droppedForPurge: number;
    droppedForEmbargo: number;
  };
  split: {
    train: PartDescription;
    validation: PartDescription;
    test: PartDescription;
    unused: PartDescription;
    boundaries: { train: BoundaryDrops; validation: BoundaryDrops };
  };
  /** The samples the walk-forward folds are laid over (`walk_forward.span`). */
  foldSpan: PartDescription;
  folds: FoldDescription[];
  /** Fitted on the windows of the split's training samples; `dataset.split.source` scales with it. */
  scaler: ScalerJson;
  fingerprint: string;
  /** The feature specifications the columns were computed from (empty for a hand-built frame). */
  featureSpecs: FeatureSpec[];
}

/** What `describeDataset` summarises. */
export interface DescriptionInputs {
  series: CandleSeries;
  frame: FeatureFrame;
  config: DatasetConfig;
  samples: SampleTable;
  drops: SampleDrops;
  candidates: number;
  split: ChronologicalSplit;
  /** How many of split.train's samples are trained on (the rest fall in the dead zone). */
  splitTrainCount: number;
  foldSpan: SampleRange;
  folds: readonly { fold: Fold; trainCount: number; scaler: ScalerJson }[];
  scaler: ScalerJson;
}

export function describeDataset(inputs: DescriptionInputs): DatasetDescription {
  const { series, frame, config, samples, drops, split } = inputs;
  const part = (range: SampleRange) => describePart(samples, range);
  const boundaries = split.drops;
  return {
    version: DESCRIPTION_VERSION,
    symbol: series.symbol,
    interval: series.interval,
    window: config.window,
    horizon: config.horizon,
    target: { ...config.target },
    features: [...frame.names],
    lookback: frame.lookback,
    config: structuredClone(config),
    candles: {
      count: series.length,
      first: timeAt(series.openTime, 0),
      last: timeAt(series.openTime, series.length - 1),
    },
    counts: {
      candidates: inputs.candidates,
      samples: samples.count,
      droppedForGaps: drops.gaps,
      droppedForWarmup: drops.warmup,
      droppedForInvalidTarget: drops.invalidTarget,
      droppedForDeadZone: rangeSize(split.train) - inputs.splitTrainCount,
      droppedForPurge: boundaries.train.purged + boundaries.validation.purged,
      droppedForEmbargo: boundaries.train.embargoed + boundaries.validation.embargoed,
    },
    split: {
      train: part(split.train),
      validation: part(split.validation),
      test: part(split.test),
      unused: part(split.unused),
      boundaries: structuredClone(boundaries),
    },
    foldSpan: part(inputs.foldSpan),
    folds: inputs.folds.map(({ fold, trainCount, scaler }) => ({
      index: fold.index,
      train: part(fold.train),
      test: part(fold.test),
      testRows: { ...fold.testRows },
      purged: fold.drops.purged,
      embargoed: fold.drops.embargoed,
      deadZone: rangeSize(fold.train) - trainCount,
      scaler,
    })),
    scaler: inputs.scaler,
    fingerprint: datasetFingerprint(series, frame, config),
    featureSpecs: structuredClone([...frame.specs]),
  };
}

export function describePart(samples: SampleTable, range: SampleRange): PartDescription {
  const count = Math.max(0, range.end - range.start);
  const first = count > 0 ? range.start : -1;
  const last = count > 0 ? range.end - 1 : -1;
  return {
    start: range.start,
    end: range.end,
    count,
    firstFeatureTime: timeAt(samples.firstFeatureTime, first),
    firstEndTime: timeAt(samples.endTime, first),
    lastEndTime: timeAt(samples.endTime, last),
    lastLabelTime: timeAt(samples.labelTime, last),
  };
}

function timeAt(times: Float64Array, index: number): string | null {
  const time = times[index];
  return time === undefined ? null : isoTime(time);
}

/**
 * sha256 over canonical JSON (sorted keys) of the config, symbol, interval, feature specs, names and
 * lookbacks, and row count, followed by the raw bytes of every candle column (open times and OHLCV, as
 * little-endian float64). Equal fingerprints mean the same settings on the same candles: two feature
 * variants that differ only in a parameter, or data re-imported with one corrected candle, differ.
 * Hashing ~3 MB per 65k candles costs a few milliseconds, a fraction of computing the features.
 */
export function datasetFingerprint(series: CandleSeries, frame: FeatureFrame, config: DatasetConfig): string {
  const payload = {
    config,
    symbol: series.symbol,
    interval: series.interval,
    featureSpecs: frame.specs,
    features: frame.names,
    lookbacks: frame.lookbacks,
    rows: series.length,
  };
  const hash = createHash("sha256").update(canonicalJson(payload));
  for (const column of [series.openTime, series.open, series.high, series.low, series.close, series.volume]) {
    hash.update(littleEndianBytes(column));
  }
  return hash.digest("hex");
}

/** The column's bytes in little-endian order (a copy only on a big-endian machine). */
function littleEndianBytes(column: Float64Array): Uint8Array {
  const bytes = new Uint8Array(column.buffer, column.byteOffset, column.byteLength);
  if (new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f) return bytes; // already little-endian
  const copy = new Uint8Array(column.byteLength);
  const view = new DataView(copy.buffer);
  for (let i = 0; i < column.length; i++) view.setFloat64(i * 8, column[i] as number, true);
  return copy;
}

/** JSON with object keys sorted at every level, so equal values always hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return inner;
    const entries = Object.entries(inner as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return Object.fromEntries(entries);
  });
}

/**
 * Writes the description as pretty JSON: to a temporary file beside `path`, then renamed over it, so
 * a crash leaves either the old file or the new one, never half of one. Creates missing folders.
 */
export async function writeDescription(path: string, description: DatasetDescription): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify(description, null, 2)}\n`);
}

/** Reads and checks a description written by {@link writeDescription}. */
export async function readDescription(path: string): Promise<DatasetDescription> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new NotFoundError(`cannot read dataset description ${path}`, {
      hint: "build the dataset first, or check the path",
      cause: error,
    });
  }
  const invalid = (why: string, cause?: unknown) =>
    new CryptomlError("DATASET", `${path}: ${why}`, {
      hint: "rebuild the dataset to write a fresh description",
      cause,
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw invalid("not valid JSON", error);
  }
  if (typeof parsed !== "object" || parsed === null) throw invalid("expected a JSON object");
  const description = parsed as DatasetDescription;
  if (description.version !== DESCRIPTION_VERSION) {
    throw invalid(
      `version ${String(description.version)} is not the supported version ${DESCRIPTION_VERSION}`,
    );
  }
  for (const key of ["symbol", "interval", "fingerprint"] as const) {
    if (typeof description[key] !== "string") throw invalid(`"${key}" is missing`);
  }
  for (const key of ["config", "counts", "split", "scaler"] as const) {
    if (typeof description[key] !== "object" || description[key] === null)
      throw invalid(`"${key}" is missing`);
  }
  if (!Array.isArray(description.features) || !Array.isArray(description.folds)) {
    throw invalid(`"features" and "folds" must be arrays`);
  }
  scalerFromJson(description.scaler);
  description.folds.forEach((fold, k) => {
    if (typeof fold !== "object" || fold === null) throw invalid(`folds[${k}] must be an object`);
    try {
      scalerFromJson(fold.scaler);
    } catch (error) {
      throw invalid(`folds[${k}].scaler is not a valid scaler`, error);
    }
  });
  return description;
}
