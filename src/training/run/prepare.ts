/**
 * From stored candles to what a fit needs: features, the leakage-free dataset, the training and
 * validation indices of its chronological split, the return scale of the regression head, and the
 * naive baselines a model must beat on the same validation samples.
 */
import { CryptomlError } from "../../core/errors.js";
import type { CandleSeries } from "../../data/candles.js";
import { buildDataset, type Dataset } from "../../datasets/index.js";
import type { DatasetConfig } from "../../datasets/types.js";
import { computeFeatures } from "../../features/index.js";
import type { FeatureSpec } from "../../features/types.js";
import type { HeadKind, ModelIo } from "../../models/definition.js";
import type { TrainingData } from "../trainer.js";

/** Directional accuracy and MAE of the naive forecasts on the validation samples. */
export interface Baselines {
  /** Predicts a zero return: direction "not up", MAE = mean |y|. */
  readonly zeroReturn: { readonly directionalAccuracy: number; readonly mae: number };
  /** Predicts the last `horizon` candles' return again (momentum). */
  readonly lastReturn: { readonly directionalAccuracy: number; readonly mae: number };
}

export interface PreparedSymbol {
  readonly symbol: string;
  readonly dataset: Dataset;
  readonly data: TrainingData;
  readonly io: ModelIo;
  readonly baselines: Baselines;
}

/** The standard deviation of the training targets (1 when degenerate), so the network sees values near 1. */
export function returnScaleOf(yReg: Float32Array, indices: Int32Array): number {
  let sum = 0;
  let sumSq = 0;
  for (const i of indices) {
    const y = yReg[i] as number;
    sum += y;
    sumSq += y * y;
  }
  const n = indices.length;
  const variance = n > 1 ? (sumSq - (sum * sum) / n) / (n - 1) : 0;
  const std = Math.sqrt(Math.max(variance, 0));
  return Number.isFinite(std) && std > 1e-12 ? Math.fround(std) : 1;
}

/** The naive forecasts' scores on `indices` of the dataset built from `series`. */
export function naiveBaselines(series: CandleSeries, dataset: Dataset, indices: Int32Array): Baselines {
  const { samples } = dataset;
  let zeroHits = 0;
  let lastHits = 0;
  let zeroAbs = 0;
  let lastAbs = 0;
  let counted = 0;
  for (const i of indices) {
    const y = samples.yReg[i] as number;
    const cls = samples.yCls[i] as number;
    const wentUp = Number.isFinite(cls) ? cls === 1 : y > 0;
    const t = samples.endRow[i] as number;
    const past = t - samples.horizon;
    const last =
      past >= 0 && (series.close[past] as number) > 0
        ? Math.log((series.close[t] as number) / (series.close[past] as number))
        : 0;
    zeroAbs += Math.abs(y);
    lastAbs += Math.abs(last - y);
    if (y === 0 && !Number.isFinite(cls)) continue;
    counted += 1;
    if (!wentUp) zeroHits += 1;
    if (last > 0 === wentUp) lastHits += 1;
  }
  const n = indices.length;
  return {
    zeroReturn: {
      directionalAccuracy: counted ? zeroHits / counted : Number.NaN,
      mae: n ? zeroAbs / n : Number.NaN,
    },
    lastReturn: {
      directionalAccuracy: counted ? lastHits / counted : Number.NaN,
      mae: n ? lastAbs / n : Number.NaN,
    },
  };
}

/**
 * Builds the dataset of one symbol and the data of its fit.
 * @throws CryptomlError (DATASET) when there are no validation samples to judge the model on.
 */
export function prepareSymbol(
  series: CandleSeries,
  features: readonly FeatureSpec[],
  datasetConfig: DatasetConfig,
): PreparedSymbol {
  const frame = computeFeatures(series, features);
  const dataset = buildDataset(series, frame, datasetConfig);
  const { source } = dataset.split;
  if (source.validationIndices.length === 0) {
    throw new CryptomlError(
      "DATASET",
      `${series.symbol}: the validation part is empty (dataset.split.validation = ${datasetConfig.split.validation})`,
      {
        hint: "set dataset.split.validation > 0 (e.g. 0.15) so checkpoints and early stopping have a metric",
      },
    );
  }
  const head: HeadKind = datasetConfig.target.kind;
  const io: ModelIo = {
    window: dataset.samples.window,
    features: dataset.featureNames.length,
    head,
    returnScale: head === "classification" ? 1 : returnScaleOf(dataset.samples.yReg, source.trainIndices),
  };
  return {
    symbol: series.symbol,
    dataset,
    data: { source, trainIndices: source.trainIndices, validationIndices: source.validationIndices },
    io,
    baselines: naiveBaselines(series, dataset, source.validationIndices),
  };
}
