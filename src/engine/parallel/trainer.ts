/**
 * DataParallelTrainer: our DDP. N replicas of one model (worker threads; in-process when N = 1) each
 * take a contiguous shard of the batch, their gradients are combined through one SharedArrayBuffer
 * into the gradient of the batch's mean loss, and every replica applies the same update, so the
 * weights stay identical without being broadcast after the start. Design: docs/engine-parallel.md.
 */
import { CryptomlError } from "../../core/errors.js";
import type { RngState } from "../random.js";
import { CONTROL_WORDS } from "./barrier.js";
import { type FlatLayout, flatLayout, gather, shardBatch } from "./layout.js";
import { WorkerPool } from "./pool.js";
import { type FromWorker, type InitMessage, PROTOCOL_VERSION, type ToWorker } from "./protocol.js";
import { Replica, type StepMode } from "./replica.js";
import {
  buildModel,
  buildOptimizer,
  type ModelIo,
  type ModelSpec,
  modelIo,
  type OptimizerSpec,
  type ReplicaModel,
} from "./spec.js";
import { checkRngStates, type NamedWeights, orderWeights } from "./state.js";

export type { NamedWeights } from "./state.js";

/** Options of `DataParallelTrainer.create`. */
export interface DataParallelOptions {
  /** Replicas, an integer >= 1; 1 trains in-process without threads. */
  workers: number;
  /** The model every replica builds (equal weights are broadcast from the coordinator's copy). */
  model: ModelSpec;
  /** The optimiser every replica runs (over the model's trainable parameters). */
  optimizer: OptimizerSpec;
  /** Clip the averaged gradient to this global 2-norm before each update, > 0. Default: no clipping. */
  clipNorm?: number;
  /** How long a step, a prediction or a barrier may wait for a replica, in ms. Default 120000. */
  timeoutMs?: number;
  /** Seed of each replica's dropout generator, one per worker. Default: the rank. */
  dropoutSeeds?: readonly number[];
}

/** The outcome of a guarded step. */
export interface StepOutcome {
  /** The batch's mean loss before the update. */
  loss: number;
  /** The global 2-norm of the batch gradient before clipping (NaN when the loss is not finite). */
  gradNorm: number;
  /** False when the loss or the norm was not finite: no replica changed its weights or optimiser. */
  applied: boolean;
}

interface Batches {
  rows: number;
  x: Float32Array;
  y: Float32Array;
  out: Float32Array;
}

interface Parts {
  io: ModelIo;
  layout: FlatLayout;
  shapes: (readonly number[])[];
  weights: Float32Array;
  /** The coordinator's copy of the model: imported state is checked against it first. */
  shadow: ReplicaModel;
}

function requireInteger(what: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new CryptomlError("USAGE", `${what}=${value} must be an integer >= ${min}`);
  }
}

function sharedF32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(Math.max(length, 1) * 4));
}

function dropoutSeeds(options: DataParallelOptions): number[] {
  const seeds = options.dropoutSeeds ?? Array.from({ length: options.workers }, (_, rank) => rank);
  if (seeds.length !== options.workers || !seeds.every((s) => Number.isSafeInteger(s))) {
    throw new CryptomlError(
      "USAGE",
      `dropoutSeeds=${JSON.stringify(seeds)} must hold ${options.workers} safe integers, one per worker`,
    );
  }
  return [...seeds];
}

export class DataParallelTrainer {
  /** Learning rate of the next step, sent to every replica with it (a scheduler may change it). */
  lr: number;
  readonly workers: number;
  readonly #optimizer: OptimizerSpec;
  readonly #parts: Parts;
  /** workers = 1: the only replica, in this thread. */
  readonly #local: Replica | undefined;
  /** workers >= 2: the threads, and the weights rank 0 publishes after every step. */
  readonly #pool: WorkerPool | undefined;
  #batches: Batches | undefined;
  #closed = false;

  private constructor(
    options: DataParallelOptions,
    parts: Parts,
    local: Replica | undefined,
    pool: WorkerPool | undefined,
  ) {
    this.workers = options.workers;
    this.lr = options.optimizer.lr ?? 1e-3;
    this.#optimizer = options.optimizer;
    this.#parts = parts;
    this.#local = local;
    this.#pool = pool;
  }

  /**
   * Builds the replicas and waits until every one is ready with the coordinator's initial weights.
   * Errors of a replica's construction (an invalid optimiser option, say) reject with its message.
   */
  static async create(options: DataParallelOptions): Promise<DataParallelTrainer> {
    requireInteger("workers", options.workers, 1);
    if (options.clipNorm !== undefined && !(options.clipNorm > 0)) {
      throw new CryptomlError("USAGE", `clipNorm=${options.clipNorm} must be > 0`);
    }
    const timeoutMs = options.timeoutMs ?? 120_000;
    if (!(timeoutMs > 0)) throw new CryptomlError("USAGE", `timeoutMs=${timeoutMs} must be > 0`);
    const seeds = dropoutSeeds(options);
    const io = modelIo(options.model);
    const model = buildModel(options.model);
    const params = model.parameters();
    const layout = flatLayout(params);
    const shapes = params.map((p) => p.shape);
    if (options.workers === 1) {
      const local = new Replica(model, io, options.optimizer, options.clipNorm, seeds[0] as number);
      const parts = { io, layout, shapes, weights: new Float32Array(0), shadow: model };
      return new DataParallelTrainer(options, parts, local, undefined);
    }
    const world = options.workers;
    const trainable = model.trainableParameters();
    const gradLayout = flatLayout(trainable);
    const buffers = {
      control: new SharedArrayBuffer(CONTROL_WORDS * 4),
      grads: new SharedArrayBuffer((world + 1) * gradLayout.stride * 4),
      weights: new SharedArrayBuffer(Math.max(layout.total, 1) * 4),
    };
    const weights = new Float32Array(buffers.weights);
    gather(params, weights, 0, "data");
    const pool = new WorkerPool(world, new Int32Array(buffers.control), timeoutMs);
    const init = (rank: number): InitMessage => ({
      type: "init",
      protocol: PROTOCOL_VERSION,
      rank,
      world,
      model: options.model,
      optimizer: options.optimizer,
      clipNorm: options.clipNorm,
      timeoutMs,
      dropoutSeed: seeds[rank] as number,
      names: layout.names,
      sizes: layout.sizes,
      trainable: trainable.map((p) => p.name),
      buffers,
    });
    await pool.request(
      Array.from({ length: world }, (_, rank) => init(rank)),
      "ready",
    );
    return new DataParallelTrainer(options, { io, layout, shapes, weights, shadow: model }, undefined, pool);
  }

  #check(x: Float32Array, y: Float32Array | undefined, batch: number): void {
    this.#open();
    requireInteger("batch", batch, 1);
    const { window, features, outputs } = this.#parts.io;
    if (x.length !== batch * window * features) {
      throw new CryptomlError(
        "USAGE",
        `x has ${x.length} values but batch=${batch} windows of ${window}×${features} need ${batch * window * features}`,
      );
    }
    if (y !== undefined && y.length !== batch * outputs) {
      throw new CryptomlError(
        "USAGE",
        `y has ${y.length} values but batch=${batch} targets of ${outputs} need ${batch * outputs}`,
      );
    }
  }

  #open(): void {
    if (this.#closed) throw new CryptomlError("USAGE", "the DataParallelTrainer is closed");
  }

  /** Shared batch buffers of at least `rows` rows, announcing new ones to the replicas. */
  #buffers(pool: WorkerPool, rows: number): Batches {
    if (this.#batches !== undefined && this.#batches.rows >= rows) return this.#batches;
    const { window, features, outputs } = this.#parts.io;
    const batches = {
      rows,
      x: sharedF32(rows * window * features),
      y: sharedF32(rows * outputs),
      out: sharedF32(rows * outputs),
    };
    pool.broadcast({
      type: "data",
      x: batches.x.buffer as SharedArrayBuffer,
      y: batches.y.buffer as SharedArrayBuffer,
      out: batches.out.buffer as SharedArrayBuffer,
    });
    this.#batches = batches;
    return batches;
  }

  /**
   * One training step on `batch` windows `x` ([batch, T, F], row-major) with targets `y`
   * ([batch, outputs]): every replica's gradient of the mean loss over its shard, weighted by
   * shard size / batch and summed, is the gradient of the mean over the batch; every replica then
   * clips (if asked) and updates identically.
   *
   * @returns the mean loss over the batch (before the update).
   * @throws CryptomlError with a replica's message when it fails (a non-finite loss, a throw, a
   *   timeout); the trainer is then closed and its threads terminated.
   */
  async step(x: Float32Array, y: Float32Array, batch: number): Promise<number> {
    return (await this.#step(x, y, batch, "strict")).loss;
  }

  /**
   * Like `step`, but a non-finite loss or gradient norm skips the update on every replica (the
   * coordinator decides after the all-reduce, so all agree) instead of failing; the trainer stays usable.
   */
  async guardedStep(x: Float32Array, y: Float32Array, batch: number): Promise<StepOutcome> {
    return this.#step(x, y, batch, "guarded");
  }

  async #step(x: Float32Array, y: Float32Array, batch: number, mode: StepMode): Promise<StepOutcome> {
    this.#check(x, y, batch);
    const local = this.#local;
    if (local !== undefined) {
      const loss = local.computeGradients(x, y, batch, mode);
      const gradNorm = Number.isFinite(loss) ? local.clip(mode) : Number.NaN;
      const applied = mode === "strict" || (Number.isFinite(loss) && Number.isFinite(gradNorm));
      if (applied) local.update(this.lr);
      return { loss, gradNorm, applied };
    }
    const pool = this.#pool as WorkerPool;
    const buffers = this.#buffers(pool, batch);
    buffers.x.set(x);
    buffers.y.set(y);
    const replies = await this.#run(pool, { type: "step", batch, lr: this.lr, mode }, "stepped");
    const shards = shardBatch(batch, this.workers);
    let loss = 0;
    let gradNorm = Number.NaN;
    replies.forEach((reply, rank) => {
      if (reply.type !== "stepped") return;
      loss += (reply.loss * (shards[rank]?.size ?? 0)) / batch;
      if (rank === 0) gradNorm = reply.gradNorm;
    });
    if (!Number.isFinite(loss)) gradNorm = Number.NaN;
    if (mode === "strict") return { loss, gradNorm, applied: true };
    const applied = Number.isFinite(loss) && Number.isFinite(gradNorm);
    await this.#run(pool, { type: "apply", apply: applied }, "applied");
    return { loss, gradNorm, applied };
  }

  /** Predictions [batch, outputs] for `x` ([batch, T, F]), the batch split across replicas, no grad. */
  async predict(x: Float32Array, batch: number): Promise<Float32Array> {
    this.#check(x, undefined, batch);
    const out = new Float32Array(batch * this.#parts.io.outputs);
    if (this.#local !== undefined) {
      this.#local.predictInto(x, batch, out);
      return out;
    }
    const pool = this.#pool as WorkerPool;
    const buffers = this.#buffers(pool, batch);
    buffers.x.set(x);
    await this.#run(pool, { type: "predict", batch }, "predicted");
    out.set(buffers.out.subarray(0, out.length));
    return out;
  }

  /** Sends `message` (or `message[rank]`) to every replica; a failure closes the trainer (the pool is terminated). */
  async #run(
    pool: WorkerPool,
    message: ToWorker | readonly ToWorker[],
    expected: FromWorker["type"],
  ): Promise<FromWorker[]> {
    const messages = Array.isArray(message)
      ? message
      : Array.from({ length: this.workers }, () => message as ToWorker);
    try {
      return await pool.request(messages, expected);
    } catch (error) {
      this.#closed = true;
      throw error;
    }
  }

  /** A copy of the main replica's (rank 0's) weights, in `parameters()` order with PyTorch's names. */
  parameters(): NamedWeights[] {
    const { layout, shapes, weights } = this.#parts;
    const local = this.#local?.params;
    return layout.names.map((name, i) => {
      const at = layout.offsets[i] as number;
      const data =
        local !== undefined
          ? (local[i] as { data: Float32Array }).data.slice()
          : weights.slice(at, at + (layout.sizes[i] as number));
      return { name, shape: [...(shapes[i] as readonly number[])], data };
    });
  }

  /**
   * Replaces every weight on every replica. The names must be exactly the model's, the shapes equal.
   * @throws CryptomlError (USAGE) naming the first mismatch; nothing changes then.
   */
  async setParameters(weights: readonly NamedWeights[]): Promise<void> {
    this.#open();
    const { layout, shapes } = this.#parts;
    const ordered = orderWeights(layout, shapes, weights);
    if (this.#local !== undefined) {
      this.#local.params.forEach((p, i) => {
        p.data.set(ordered[i] as Float32Array);
      });
      return;
    }
    ordered.forEach((data, i) => {
      this.#parts.weights.set(data, layout.offsets[i] as number);
    });
    await this.#run(this.#pool as WorkerPool, { type: "import", weights: true }, "imported");
  }

  /**
   * The optimiser's `stateDict()` (identical on every replica: rank 0's), `{ kind: "none" }` with
   * nothing trainable. Read it between steps: with threads, it blocks until rank 0 answers.
   */
  optimizerState(): unknown {
    this.#open();
    const state =
      this.#local !== undefined
        ? this.#local.optimizerState()
        : (this.#pool as WorkerPool).requestSync(0, true).optimizer;
    // Replicas learn the lr with each step; the state carries the next step's, as torch's would.
    const hyper = (state as { hyper?: object } | undefined)?.hyper;
    return hyper === undefined ? state : { ...(state as object), hyper: { ...hyper, lr: this.lr } };
  }

  /**
   * Loads an optimiser state into every replica, and takes its lr as the next step's.
   * @throws the optimiser's own error when the state does not fit; nothing changes then.
   */
  async loadOptimizerState(state: unknown): Promise<void> {
    this.#open();
    if (this.#local !== undefined) {
      this.#local.loadOptimizerState(state);
      this.lr = this.#local.optimizer?.lr ?? this.lr;
      return;
    }
    // Checked on a throwaway optimiser over the coordinator's copy, so a bad state fails here.
    const probe = buildOptimizer(this.#optimizer, this.#parts.shadow.trainableParameters());
    if (probe === undefined) return;
    probe.loadStateDict(state as Parameters<typeof probe.loadStateDict>[0]);
    await this.#run(
      this.#pool as WorkerPool,
      { type: "import", weights: false, optimizer: probe.stateDict() },
      "imported",
    );
    this.lr = probe.lr;
  }

  /** Every replica's dropout generator state, by rank. */
  rngStates(): RngState[] {
    this.#open();
    if (this.#local !== undefined) return [this.#local.rng.state()];
    const pool = this.#pool as WorkerPool;
    return Array.from({ length: this.workers }, (_, rank) => pool.requestSync(rank, false).rng);
  }

  /** Restores every replica's dropout generator (one state per rank, as `rngStates()` gave them). */
  async loadRngStates(states: unknown): Promise<void> {
    this.#open();
    const checked = checkRngStates(states, this.workers);
    if (this.#local !== undefined) {
      this.#local.loadRngState(checked[0] as RngState);
      return;
    }
    const messages = checked.map((rng): ToWorker => ({ type: "import", weights: false, rng }));
    await this.#run(this.#pool as WorkerPool, messages, "imported");
  }

  /** Worker threads still running (0 for workers = 1 and after `close()`). */
  get liveThreads(): number {
    return this.#pool?.live ?? 0;
  }

  /** Terminates the worker threads; resolves once all have exited. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool?.terminate();
  }
}
