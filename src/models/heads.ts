/**
 * The training objective of each head: MSE on the scaled return column, binary cross-entropy on the
 * logit column, summed per sample for `both`, averaged over the batch — one autograd node.
 */
import { CryptomlError } from "../core/errors.js";
import { result, type Tensor } from "../engine/tensor.js";
import { type HeadKind, type ModelIo, outputColumns } from "./definition.js";

/**
 * Targets laid out like the model's output: row n holds, per column, `yReg[n] / returnScale` (return)
 * or `yCls[n]` (logit). Throws when a target is not finite (a dead-zone NaN class in a training batch,
 * say), so a bad sample is named instead of poisoning the loss.
 */
export function packTargets(yReg: Float32Array, yCls: Float32Array, io: ModelIo): Float32Array {
  const columns = outputColumns(io.head);
  const rows = yReg.length;
  const out = new Float32Array(rows * columns.length);
  for (let n = 0; n < rows; n++) {
    for (let c = 0; c < columns.length; c++) {
      const value = columns[c] === "return" ? (yReg[n] as number) / io.returnScale : (yCls[n] as number);
      if (!Number.isFinite(value)) {
        throw new CryptomlError(
          "DATASET",
          `target ${columns[c]} of batch row ${n} is ${value}; training targets must be finite`,
          {
            hint: "train on dataset.split.source.trainIndices (dead-zone samples are left out there); check the candles for zero prices",
          },
        );
      }
      out[n * columns.length + c] = value;
    }
  }
  return out;
}

/** The logistic function, in the form that neither overflows nor loses precision for large |x|. */
export const sigmoid = (x: number): number =>
  x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));

/**
 * Mean over rows of the sum over columns of (pred − t)² (return) or BCE-with-logits (logit); for a
 * single column this is exactly nn.MSELoss or nn.BCEWithLogitsLoss.
 */
export function forecastLoss(pred: Tensor, target: Float32Array, head: HeadKind): Tensor {
  const columns = outputColumns(head);
  const width = columns.length;
  if (pred.size !== target.length || pred.size === 0 || pred.size % width !== 0) {
    throw new CryptomlError(
      "INTERNAL",
      `forecastLoss: prediction [${pred.shape}] and ${target.length} targets do not match ${width} column(s)`,
    );
  }
  const rows = pred.size / width;
  const ps = pred.data;
  const isLogit = columns.map((c) => c === "logit");
  let total = 0;
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i] as number;
    const t = target[i] as number;
    total += isLogit[i % width]
      ? Math.max(p, 0) - p * t + Math.log1p(Math.exp(-Math.abs(p)))
      : (p - t) * (p - t);
  }
  return result(Float32Array.of(total / rows), [], [pred], (g) => {
    const k = (g[0] as number) / rows;
    const gp = pred.gradBuffer();
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i] as number;
      const t = target[i] as number;
      const d = isLogit[i % width] ? sigmoid(p) - t : 2 * (p - t);
      gp[i] = (gp[i] as number) + k * d;
    }
  });
}
