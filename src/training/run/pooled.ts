/**
 * The pooled model's data: several symbols' sources behind one BatchSource. Global sample index =
 * offset of the symbol + its local index; each symbol's windows keep their own scaler (fitted on that
 * symbol's training part), so prices of different magnitude meet the network on the same scale.
 */
import { CryptomlError } from "../../core/errors.js";
import type { Batch, BatchSource } from "../../datasets/windows.js";
import type { TrainingData } from "../trainer.js";

class PooledBatchSource implements BatchSource {
  constructor(private readonly parts: readonly { source: BatchSource; offset: number; count: number }[]) {}

  get scaler(): BatchSource["scaler"] {
    return (this.parts[0] as { source: BatchSource }).source.scaler;
  }

  batch(indices: ArrayLike<number>): Batch {
    const n = indices.length;
    const pieces: Batch[] = [];
    const positions: number[][] = [];
    const byPart: number[][] = this.parts.map(() => []);
    for (let k = 0; k < n; k++) {
      const i = indices[k] as number;
      const part = this.parts.findIndex((p) => i >= p.offset && i < p.offset + p.count);
      if (part < 0) {
        throw new CryptomlError("DATASET", `pooled sample index ${i} belongs to no symbol`);
      }
      (byPart[part] as number[]).push(k);
    }
    this.parts.forEach((p, j) => {
      const ks = byPart[j] as number[];
      if (ks.length === 0) return;
      pieces.push(p.source.batch(ks.map((k) => (indices[k] as number) - p.offset)));
      positions.push(ks);
    });
    const first = pieces[0] as Batch;
    const [, window, features] = first.shape;
    const span = window * features;
    const x = new Float32Array(n * span);
    const y = new Float32Array(n);
    const yReg = new Float32Array(n);
    const yCls = new Float32Array(n);
    const index = new Int32Array(n);
    const endRow = new Int32Array(n);
    const firstFeatureTime = new Float64Array(n);
    const labelTime = new Float64Array(n);
    pieces.forEach((piece, j) => {
      (positions[j] as number[]).forEach((k, r) => {
        x.set(piece.x.subarray(r * span, (r + 1) * span), k * span);
        y[k] = piece.y[r] as number;
        yReg[k] = piece.yReg[r] as number;
        yCls[k] = piece.yCls[r] as number;
        index[k] = indices[k] as number;
        endRow[k] = piece.endRow[r] as number;
        firstFeatureTime[k] = piece.firstFeatureTime[r] as number;
        labelTime[k] = piece.labelTime[r] as number;
      });
    });
    return { x, shape: [n, window, features], y, yReg, yCls, index, endRow, firstFeatureTime, labelTime };
  }

  *batches(indices: ArrayLike<number>, batchSize: number): IterableIterator<Batch> {
    for (let start = 0; start < indices.length; start += batchSize) {
      yield this.batch(
        Array.from(
          { length: Math.min(batchSize, indices.length - start) },
          (_, k) => indices[start + k] as number,
        ),
      );
    }
  }
}

/** One TrainingData over several symbols' data (same window and features, checked by the caller). */
export function poolTrainingData(
  parts: readonly { data: TrainingData; sampleCount: number }[],
): TrainingData {
  let offset = 0;
  const layout = parts.map((p) => {
    const entry = { source: p.data.source, offset, count: p.sampleCount };
    offset += p.sampleCount;
    return entry;
  });
  const shift = (pick: (d: TrainingData) => Int32Array) =>
    Int32Array.from(
      parts.flatMap((p, j) => Array.from(pick(p.data), (i) => i + (layout[j] as { offset: number }).offset)),
    );
  return {
    source: new PooledBatchSource(layout),
    trainIndices: shift((d) => d.trainIndices),
    validationIndices: shift((d) => d.validationIndices),
  };
}
