/**
 * Out-of-sample predictions of a trained run: each symbol's dataset is rebuilt with the run's saved
 * configuration (so features, scaling and the chronological split are exactly the training run's), its
 * saved model is loaded, and the samples of the test part (or, with `inSample`, the training part) are
 * predicted. The regression column is scaled back to a log return (× io.returnScale) and the logit
 * becomes probabilityUp (sigmoid).
 */
import type { ResolvedConfig } from "../config/index.js";
import { CryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import type { BatchSource } from "../datasets/windows.js";
import { type ForecastModel, outputColumns } from "../models/definition.js";
import { sigmoid } from "../models/heads.js";
import { loadModel } from "../models/registry.js";
import { predictBatches } from "../training/predict.js";
import { prepareSymbol } from "../training/run/prepare.js";
import type { ModelSource } from "./source.js";
import type { Prediction } from "./types.js";

/** The part of a run directory's config.json the backtest reads. */
export interface SavedRunConfig {
  readonly config: ResolvedConfig;
  readonly symbols: readonly string[];
  readonly model: string;
}

export interface SymbolPredictions {
  readonly symbol: string;
  readonly series: CandleSeries;
  /** Sorted by strictly increasing endRow. */
  readonly predictions: readonly Prediction[];
  /** Forecast horizon of the samples, in candles. */
  readonly horizon: number;
  readonly inSample: boolean;
  /** Whether the model has a regression (return) column and a classification (logit) column. */
  readonly hasReturn: boolean;
  readonly hasProbability: boolean;
}

/** Predicts the test part (or the training part when `inSample`) of one symbol with its saved model. */
export async function predictSymbol(
  run: Pick<ModelSource, "saved" | "modelPath">,
  series: CandleSeries,
  inSample: boolean,
  batchSize = 512,
): Promise<SymbolPredictions> {
  const { config } = run.saved;
  const prepared = prepareSymbol(series, config.features, config.dataset);
  const model = await loadModel(run.modelPath(series.symbol));
  const io = model.definition.io;
  if (io.window !== prepared.io.window || io.features !== prepared.io.features) {
    throw new CryptomlError(
      "DATA_FORMAT",
      `${series.symbol}: the saved model takes windows of ${io.window}×${io.features}, the rebuilt dataset has ${prepared.io.window}×${prepared.io.features}`,
      { hint: "the run's config.json and models do not belong together; retrain" },
    );
  }
  const { source } = prepared.dataset.split;
  const indices = inSample ? source.trainIndices : source.testIndices;
  if (indices.length === 0) {
    throw new CryptomlError(
      "DATASET",
      `${series.symbol}: the ${inSample ? "training" : "test"} part has no samples to backtest`,
      { hint: "set dataset.split.test > 0 when training, or pass --in-sample" },
    );
  }
  const predictions = modelPredictions(model, source, indices, batchSize);
  const columns = outputColumns(io.head);
  return {
    symbol: series.symbol,
    series,
    predictions,
    horizon: prepared.dataset.samples.horizon,
    inSample,
    hasReturn: columns.includes("return"),
    hasProbability: columns.includes("logit"),
  };
}

/**
 * A model's predictions for `indices` of `source`, in endRow order, as the backtester takes them: the
 * regression column scaled back to a log return (× io.returnScale), the logit turned into probabilityUp.
 */
export function modelPredictions(
  model: ForecastModel,
  source: BatchSource,
  indices: Int32Array,
  batchSize = 512,
): Prediction[] {
  const { io } = model.definition;
  const columns = outputColumns(io.head);
  const width = columns.length;
  const returnColumn = columns.indexOf("return");
  const logitColumn = columns.indexOf("logit");
  const predictions: Prediction[] = [];
  for (const { batch, output } of predictBatches(model, source, indices, batchSize)) {
    for (let n = 0; n < batch.index.length; n++) {
      const prediction: { endRow: number; expectedReturn?: number; probabilityUp?: number } = {
        endRow: batch.endRow[n] as number,
      };
      if (returnColumn >= 0)
        prediction.expectedReturn = (output[n * width + returnColumn] as number) * io.returnScale;
      if (logitColumn >= 0) prediction.probabilityUp = sigmoid(output[n * width + logitColumn] as number);
      predictions.push(prediction);
    }
  }
  return predictions.sort((a, b) => a.endRow - b.endRow);
}
