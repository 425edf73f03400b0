/** The in-process StepEngine: one model, one optimiser, one dropout generator, in this thread. */
import { CryptomlError } from "../../core/errors.js";
import { Adam, AdamW, clipGradNorm, type Optimizer, SGD } from "../../engine/optim/index.js";
import type { OptimizerState } from "../../engine/optim/optimizer.js";
import { Rng, type RngState } from "../../engine/random.js";
import { backward, noGrad, type ParameterTensor, Tensor } from "../../engine/tensor.js";
import type { ForecastModel } from "../../models/definition.js";
import { forecastLoss } from "../../models/heads.js";
import { createModel, loadWeights, weightsOf } from "../../models/registry.js";
import type { CheckpointWeight } from "../checkpoint/state.js";
import {
  dropoutSeed,
  type OptimizerSettings,
  type StepEngine,
  type StepEngineOptions,
  type StepResult,
} from "./types.js";

/** The optimiser of `settings` over `params`, or undefined when nothing is trainable (a mean ensemble). */
export function buildOptimizer(
  settings: OptimizerSettings,
  params: readonly ParameterTensor[],
): Optimizer | undefined {
  if (params.length === 0) return undefined;
  const { kind, lr, weightDecay } = settings;
  if (kind === "adam") return new Adam(params, { lr, weightDecay });
  if (kind === "adamw") return new AdamW(params, { lr, weightDecay });
  if (kind === "sgd") return new SGD(params, { lr, weightDecay });
  throw new CryptomlError("CONFIG_INVALID", `training.optimizer=${JSON.stringify(kind)} is unknown`, {
    hint: "use adam, adamw or sgd",
  });
}

export class LocalStepEngine implements StepEngine {
  readonly workers = 1;
  readonly model: ForecastModel;
  readonly #optimizer: Optimizer | undefined;
  readonly #clip: number;
  #rng: Rng;
  #lr: number;

  constructor(options: StepEngineOptions) {
    this.model = createModel(options.definition, new Rng(options.seed));
    this.#optimizer = buildOptimizer(options.optimizer, this.model.trainableParameters());
    this.#clip = options.gradientClip;
    this.#rng = new Rng(dropoutSeed(options.seed, 0));
    this.#lr = options.optimizer.lr;
  }

  static async create(options: StepEngineOptions): Promise<LocalStepEngine> {
    return new LocalStepEngine(options);
  }

  get lr(): number {
    return this.#lr;
  }

  set lr(value: number) {
    this.#lr = value;
    if (this.#optimizer !== undefined) this.#optimizer.lr = value;
  }

  #input(x: Float32Array, rows: number): Tensor {
    const { window, features } = this.model.definition.io;
    if (x.length !== rows * window * features) {
      throw new CryptomlError(
        "INTERNAL",
        `batch of ${x.length} values is not ${rows} windows of ${window} × ${features}`,
      );
    }
    return new Tensor(x, [rows, window, features]);
  }

  async step(x: Float32Array, targets: Float32Array, rows: number): Promise<StepResult> {
    const optimizer = this.#optimizer;
    const trainable = this.model.trainableParameters();
    for (const p of trainable) p.grad.fill(0);
    const pred = this.model.forward(this.#input(x, rows), { training: true, rng: this.#rng });
    const loss = forecastLoss(pred, targets, this.model.definition.io.head);
    const value = loss.item();
    if (!Number.isFinite(value)) return { loss: value, gradNorm: Number.NaN, applied: false };
    if (optimizer === undefined) return { loss: value, gradNorm: 0, applied: true };
    backward(loss);
    const gradNorm = clipGradNorm(trainable, this.#clip > 0 ? this.#clip : Number.POSITIVE_INFINITY);
    if (!Number.isFinite(gradNorm)) return { loss: value, gradNorm, applied: false };
    optimizer.step();
    return { loss: value, gradNorm, applied: true };
  }

  async predict(x: Float32Array, rows: number): Promise<Float32Array> {
    if (rows === 0) return new Float32Array(0);
    return noGrad(() => this.model.forward(this.#input(x, rows), { training: false })).data.slice();
  }

  weights(): CheckpointWeight[] {
    return weightsOf(this.model);
  }

  async loadWeights(weights: readonly CheckpointWeight[]): Promise<void> {
    loadWeights(this.model, weights);
  }

  optimizerState(): unknown {
    return this.#optimizer?.stateDict() ?? { kind: "none" };
  }

  async loadOptimizerState(state: unknown): Promise<void> {
    if (this.#optimizer === undefined) return;
    this.#optimizer.loadStateDict(state as OptimizerState);
    this.#lr = this.#optimizer.lr;
  }

  rngState(): unknown {
    return [this.#rng.state()];
  }

  async loadRngState(state: unknown): Promise<void> {
    if (!Array.isArray(state) || state.length !== 1) {
      throw new CryptomlError(
        "CONFIG_INVALID",
        `the checkpoint holds ${Array.isArray(state) ? state.length : "no"} dropout generator state(s); this run has 1 worker`,
        { hint: "resume with the --workers the run was started with" },
      );
    }
    const rng = new Rng(0);
    rng.setState(state[0] as RngState);
    this.#rng = rng;
  }

  async close(): Promise<void> {}
}
