/** Inference over a set of samples, batch by batch, shared by evaluation, ensembles and backtests. */
import type { Batch, BatchSource } from "../datasets/windows.js";
import { noGrad, Tensor } from "../engine/tensor.js";
import type { ForecastModel } from "../models/definition.js";

/**
 * Each batch of `indices` (in order) with the model's outputs for it, [rows, outputs] row-major, in
 * evaluation mode (no dropout, no graph).
 */
export function* predictBatches(
  model: ForecastModel,
  source: BatchSource,
  indices: ArrayLike<number>,
  batchSize = 512,
): IterableIterator<{ batch: Batch; output: Float32Array }> {
  const { window, features } = model.definition.io;
  for (const batch of source.batches(indices, batchSize)) {
    const rows = batch.index.length;
    yield { batch, output: noGrad(() => model.forward(new Tensor(batch.x, [rows, window, features]))).data };
  }
}
