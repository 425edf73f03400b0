/**
 * The data-parallel StepEngine: the batch is sharded over `workers` replica threads of
 * engine/parallel's DataParallelTrainer, whose gradients are all-reduced before every replica applies
 * the same update. With dropout 0 it follows LocalStepEngine's trajectory up to float rounding (the
 * gradient is summed in another order); with dropout each replica draws its masks from its own
 * generator, seeded `dropoutSeed(seed, rank)`.
 */
import { CryptomlError } from "../../core/errors.js";
import { DataParallelTrainer } from "../../engine/parallel/index.js";
import type { CheckpointWeight } from "../checkpoint/state.js";
import { dropoutSeed, type StepEngine, type StepEngineOptions, type StepResult } from "./types.js";

export class ParallelStepEngine implements StepEngine {
  readonly workers: number;
  readonly #ddp: DataParallelTrainer;
  #closed = false;

  private constructor(ddp: DataParallelTrainer) {
    this.#ddp = ddp;
    this.workers = ddp.workers;
  }

  /** Starts the replica threads (they need the compiled `dist/`: run `npm run build` first). */
  static async create(options: StepEngineOptions): Promise<ParallelStepEngine> {
    const { definition, seed, optimizer, gradientClip, workers } = options;
    if (!(gradientClip >= 0)) {
      throw new CryptomlError("CONFIG_INVALID", `training.gradient_clip=${gradientClip} must be >= 0`, {
        hint: "use 0 for no clipping, or a positive maximum gradient norm",
      });
    }
    const ddp = await DataParallelTrainer.create({
      workers,
      model: { kind: "definition", definition, seed },
      optimizer: { kind: optimizer.kind, lr: optimizer.lr, weightDecay: optimizer.weightDecay },
      ...(gradientClip > 0 ? { clipNorm: gradientClip } : {}),
      dropoutSeeds: Array.from({ length: workers }, (_, rank) => dropoutSeed(seed, rank)),
    });
    return new ParallelStepEngine(ddp);
  }

  get lr(): number {
    return this.#ddp.lr;
  }

  set lr(value: number) {
    this.#ddp.lr = value;
  }

  async step(x: Float32Array, targets: Float32Array, rows: number): Promise<StepResult> {
    return this.#ddp.guardedStep(x, targets, rows);
  }

  async predict(x: Float32Array, rows: number): Promise<Float32Array> {
    if (rows === 0) return new Float32Array(0);
    return this.#ddp.predict(x, rows);
  }

  weights(): CheckpointWeight[] {
    return this.#ddp.parameters();
  }

  async loadWeights(weights: readonly CheckpointWeight[]): Promise<void> {
    await this.#ddp.setParameters(weights.map((w) => ({ name: w.name, shape: w.shape, data: w.data })));
  }

  optimizerState(): unknown {
    return this.#ddp.optimizerState();
  }

  async loadOptimizerState(state: unknown): Promise<void> {
    await this.#ddp.loadOptimizerState(state);
  }

  rngState(): unknown {
    return this.#ddp.rngStates();
  }

  async loadRngState(state: unknown): Promise<void> {
    await this.#ddp.loadRngStates(state);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#ddp.close();
  }
}
