/**
 * One replica's arithmetic, shared by the worker threads and the in-process (workers = 1) path so
 * both run the same code: a shard's forward + loss + backward, the measure (and clipping) of the
 * batch gradient, the update, inference, and the replica's exportable state.
 */
import { CryptomlError } from "../../core/errors.js";
import { clipGradNorm, type Optimizer, type OptimizerState } from "../optim/index.js";
import { Rng, type RngState } from "../random.js";
import { backward, noGrad, type ParameterTensor, Tensor } from "../tensor.js";
import { buildOptimizer, type ModelIo, type OptimizerSpec, type ReplicaModel } from "./spec.js";

/**
 * How a step treats a non-finite loss or gradient norm. `strict`: the replica throws (the trainer's
 * original contract: the step fails loudly). `guarded`: the numbers are reported and the coordinator
 * decides whether any replica applies the update.
 */
export type StepMode = "strict" | "guarded";

export class Replica {
  /** Every parameter (the weights buffer's order). */
  readonly params: readonly ParameterTensor[];
  /** The optimised parameters, whose gradients are all-reduced. */
  readonly trainable: readonly ParameterTensor[];
  readonly optimizer: Optimizer | undefined;
  /** This replica's dropout generator. */
  rng: Rng;

  constructor(
    readonly model: ReplicaModel,
    readonly io: ModelIo,
    optimizer: OptimizerSpec,
    private readonly clipNorm: number | undefined,
    dropoutSeed: number,
  ) {
    this.params = model.parameters();
    this.trainable = model.trainableParameters();
    this.optimizer = buildOptimizer(optimizer, this.trainable);
    this.rng = new Rng(dropoutSeed);
  }

  private input(x: Float32Array, rows: number): Tensor {
    return new Tensor(x, [rows, this.io.window, this.io.features]);
  }

  /**
   * Leaves in every trainable `param.grad` the gradient of the mean loss over these `rows` samples and
   * returns that loss; an empty shard leaves zero gradients and returns 0. A non-finite loss leaves
   * zero gradients too (guarded mode: the step will not be applied anyway).
   *
   * @throws CryptomlError in strict mode when the loss is not finite.
   */
  computeGradients(x: Float32Array, y: Float32Array, rows: number, mode: StepMode = "strict"): number {
    for (const p of this.trainable) p.grad.fill(0);
    if (rows === 0) return 0;
    const pred = this.model.forward(this.input(x, rows), { training: true, rng: this.rng });
    const loss = this.model.loss(pred, y);
    const value = loss.item();
    if (!Number.isFinite(value)) {
      if (mode === "guarded") return value;
      throw new CryptomlError("INTERNAL", `loss is ${value} on a shard of ${rows} samples`, {
        hint: "the inputs or targets hold NaN/Infinity, or training diverged; lower the learning rate",
      });
    }
    // Nothing trainable (a mean ensemble): the loss has no graph to walk back.
    if (this.trainable.length > 0) backward(loss);
    return value;
  }

  /**
   * Clips the batch gradient now in `param.grad` (when asked) and returns its global 2-norm before
   * clipping; 0 with nothing trainable.
   *
   * @throws NonFiniteGradNormError in strict mode when clipping meets a non-finite norm.
   */
  clip(mode: StepMode = "strict"): number {
    if (this.trainable.length === 0) return 0;
    const max = this.clipNorm ?? Number.POSITIVE_INFINITY;
    return clipGradNorm(this.trainable, max, 2, {
      errorIfNonfinite: mode === "strict" && this.clipNorm !== undefined,
    });
  }

  /** Applies one update from the (clipped) batch gradient now in `param.grad`. */
  update(lr: number): void {
    if (this.optimizer === undefined) return;
    this.optimizer.lr = lr;
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

  /** The optimiser's state, or `{ kind: "none" }` when nothing is trainable. */
  optimizerState(): OptimizerState | { kind: "none" } {
    return this.optimizer?.stateDict() ?? { kind: "none" };
  }

  loadOptimizerState(state: unknown): void {
    this.optimizer?.loadStateDict(state as OptimizerState);
  }

  loadRngState(state: RngState): void {
    this.rng = Rng.fromState(state);
  }
}
