/**
 * Evaluation metrics of a head's predictions against the dataset's targets, in the units a trader reads:
 * MAE in log return, directional accuracy as the share of samples whose direction was called right.
 */
import { Rng } from "../engine/random.js";
import { type ModelIo, outputColumns } from "../models/definition.js";

/** Running sums of one evaluation pass, so batches can be folded in one at a time. */
export class EvaluationAccumulator {
  #lossSum = 0;
  #lossRows = 0;
  #absErrorSum = 0;
  #regressionRows = 0;
  #hits = 0;
  #directionRows = 0;
  readonly #columns: readonly string[];

  constructor(private readonly io: ModelIo) {
    this.#columns = outputColumns(io.head);
  }

  /**
   * Folds in one batch: `pred` [rows, outputs] as the model returns it, `yReg` the log returns, `yCls`
   * the classes (NaN inside the dead zone: left out of the classification terms).
   */
  add(pred: Float32Array, yReg: Float32Array, yCls: Float32Array): void {
    const width = this.#columns.length;
    const rows = yReg.length;
    const returnColumn = this.#columns.indexOf("return");
    const logitColumn = this.#columns.indexOf("logit");
    for (let n = 0; n < rows; n++) {
      const y = yReg[n] as number;
      const cls = yCls[n] as number;
      let loss = 0;
      let counted = false;
      if (returnColumn >= 0) {
        const p = pred[n * width + returnColumn] as number;
        const t = y / this.io.returnScale;
        loss += (p - t) * (p - t);
        counted = true;
        this.#absErrorSum += Math.abs(p * this.io.returnScale - y);
        this.#regressionRows += 1;
      }
      if (logitColumn >= 0 && Number.isFinite(cls)) {
        const x = pred[n * width + logitColumn] as number;
        loss += Math.max(x, 0) - x * cls + Math.log1p(Math.exp(-Math.abs(x)));
        counted = true;
      }
      if (counted) {
        this.#lossSum += loss;
        this.#lossRows += 1;
      }
      // The direction called: the classifier's when there is one, else the sign of the return.
      const calledUp =
        logitColumn >= 0
          ? (pred[n * width + logitColumn] as number) > 0
          : (pred[n * width + returnColumn] as number) > 0;
      const wentUp = Number.isFinite(cls) ? cls === 1 : y > 0;
      if (y !== 0 || Number.isFinite(cls)) {
        this.#directionRows += 1;
        if (calledUp === wentUp) this.#hits += 1;
      }
    }
  }

  /** `loss` (the training objective), `mae` (log return), `directional_accuracy` in [0, 1]; NaN when empty. */
  result(): { loss: number; mae: number; directional_accuracy: number; samples: number } {
    return {
      loss: this.#lossRows === 0 ? Number.NaN : this.#lossSum / this.#lossRows,
      mae: this.#regressionRows === 0 ? Number.NaN : this.#absErrorSum / this.#regressionRows,
      directional_accuracy: this.#directionRows === 0 ? Number.NaN : this.#hits / this.#directionRows,
      samples: this.#lossRows,
    };
  }
}

/**
 * The epoch's order of training samples: a Fisher–Yates shuffle drawn from a generator seeded by
 * (seed, epoch) alone, so a run resumed mid-epoch replays exactly the same order.
 */
export function epochOrder(indices: Int32Array, seed: number, epoch: number): Int32Array {
  const order = Int32Array.from(indices);
  const rng = new Rng((seed * 7_919 + epoch * 104_729 + 1) % Number.MAX_SAFE_INTEGER);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.uint32() % (i + 1);
    const tmp = order[i] as number;
    order[i] = order[j] as number;
    order[j] = tmp;
  }
  return order;
}
