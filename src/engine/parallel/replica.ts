/**
 * One replica's arithmetic, shared by the worker threads and the in-process (workers = 1) path so
 * both run the same code: a shard's forward + MSE + backward, the update from the batch gradient
 * (optional clipping, then the optimiser), and inference.
 */
import { CryptomlError } from "../../core/errors.js";
import type { Module } from "../../models/module.js";
import { mseLoss } from "../ops/losses.js";
import { clipGradNorm, type Optimizer } from "../optim/index.js";
import { backward, noGrad, type ParameterTensor, Tensor } from "../tensor.js";
import { buildOptimizer, type ModelIo, type OptimizerSpec } from "./spec.js";

export class Replica {
  readonly params: readonly ParameterTensor[];
  readonly optimizer: Optimizer;

  constructor(
    readonly model: Module,
    readonly io: ModelIo,
    optimizer: OptimizerSpec,
    private readonly clipNorm: number | undefined,
  ) {
    this.params = model.parameters();
    this.optimizer = buildOptimizer(optimizer, model);
  }

  private input(x: Float32Array, rows: number): Tensor {
    return new Tensor(x, [rows, this.io.window, this.io.features]);
  }

  /**
   * Leaves in every `param.grad` the gradient of the mean MSE over these `rows` samples and returns
   * that loss; an empty shard leaves zero gradients and returns 0.
   *
   * @throws CryptomlError when the loss is not finite (the step must not be applied anywhere).
   */
  computeGradients(x: Float32Array, y: Float32Array, rows: number): number {
    this.optimizer.zeroGrad();
    if (rows === 0) return 0;
    const loss = mseLoss(
      this.model.forward(this.input(x, rows), { training: true }),
      new Tensor(y, [rows, this.io.outputs]),
    );
    const value = loss.item();
    if (!Number.isFinite(value)) {
      throw new CryptomlError("INTERNAL", `loss is ${value} on a shard of ${rows} samples`, {
        hint: "the inputs or targets hold NaN/Infinity, or training diverged; lower the learning rate",
      });
    }
    backward(loss);
    return value;
  }

  /** Applies one update from the batch gradient now in `param.grad` (clipped first when asked). */
  update(lr: number): void {
    this.optimizer.lr = lr;
    if (this.clipNorm !== undefined) {
      clipGradNorm(this.params, this.clipNorm, 2, { errorIfNonfinite: true });
    }
    this.optimizer.step();
  }

  /** Writes the predictions of `rows` samples ([rows, outputs]) into `out`. */
  predictInto(x: Float32Array, rows: number, out: Float32Array): void {
    if (rows === 0) return;
    const pred = noGrad(() => this.model.forward(this.input(x, rows), { training: false }));
    if (pred.size !== rows * this.io.outputs) {
      throw new CryptomlError(
        "INTERNAL",
        `model output [${pred.shape}] is not [${rows}, ${this.io.outputs}]`,
      );
    }
    out.set(pred.data);
  }
}
