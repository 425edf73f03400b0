/**
 * DataParallelTrainer: our DDP. N replicas of one model (worker threads; in-process when N = 1) each
 * take a contiguous shard of the batch, their gradients are combined through one SharedArrayBuffer
 * into the gradient of the batch's mean loss, and every replica applies the same update, so the
 * weights stay identical without being broadcast after the start. Design: docs/engine-parallel.md.
 */
import { CryptomlError } from "../../core/errors.js";
import { CONTROL_WORDS } from "./barrier.js";
import { type FlatLayout, flatLayout, gather, shardBatch } from "./layout.js";
import { WorkerPool } from "./pool.js";
import { type FromWorker, type InitMessage, PROTOCOL_VERSION } from "./protocol.js";
import { Replica } from "./replica.js";
import { buildModel, type ModelIo, type ModelSpec, modelIo, type OptimizerSpec } from "./spec.js";

/** Options of `DataParallelTrainer.create`. */
export interface DataParallelOptions {
  /** Replicas, an integer >= 1; 1 trains in-process without threads. */
  workers: number;
  /** The model every replica builds (equal weights are broadcast from the coordinator's copy). */
  model: ModelSpec;
  /** The optimiser every replica runs. */
  optimizer: OptimizerSpec;
  /** Clip the averaged gradient to this global 2-norm before each update, > 0. Default: no clipping. */
  clipNorm?: number;
  /** How long a step, a prediction or a barrier may wait for a replica, in ms. Default 120000. */
  timeoutMs?: number;
}

/** A named weight tensor, as `writeSafetensors` takes it. */
export interface NamedWeights {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

interface Batches {
  rows: number;
  x: Float32Array;
  y: Float32Array;
  out: Float32Array;
}

function requireInteger(what: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new CryptomlError("USAGE", `${what}=${value} must be an integer >= ${min}`);
  }
}

function sharedF32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(Math.max(length, 1) * 4));
}

export class DataParallelTrainer {
  /** Learning rate of the next step, sent to every replica with it (a scheduler may change it). */
  lr: number;
  readonly workers: number;
  readonly #io: ModelIo;
  readonly #layout: FlatLayout;
  readonly #shapes: (readonly number[])[];
  /** workers = 1: the only replica, in this thread. */
  readonly #local: Replica | undefined;
  /** workers >= 2: the threads, and the weights rank 0 publishes after every step. */
  readonly #pool: WorkerPool | undefined;
  readonly #weights: Float32Array;
  #batches: Batches | undefined;
  #closed = false;

  private constructor(
    options: DataParallelOptions,
    parts: { io: ModelIo; layout: FlatLayout; shapes: (readonly number[])[]; weights: Float32Array },
    local: Replica | undefined,
    pool: WorkerPool | undefined,
  ) {
    this.workers = options.workers;
    this.lr = options.optimizer.lr ?? 1e-3;
    this.#io = parts.io;
    this.#layout = parts.layout;
    this.#shapes = parts.shapes;
    this.#weights = parts.weights;
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
    const io = modelIo(options.model);
    const model = buildModel(options.model);
    const params = model.parameters();
    const layout = flatLayout(params);
    const shapes = params.map((p) => p.shape);
    if (options.workers === 1) {
      const local = new Replica(model, io, options.optimizer, options.clipNorm);
      const parts = { io, layout, shapes, weights: new Float32Array(0) };
      return new DataParallelTrainer(options, parts, local, undefined);
    }
    const world = options.workers;
    const buffers = {
      control: new SharedArrayBuffer(CONTROL_WORDS * 4),
      grads: new SharedArrayBuffer((world + 1) * layout.stride * 4),
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
      names: layout.names,
      sizes: layout.sizes,
      buffers,
    });
    await pool.request(
      Array.from({ length: world }, (_, rank) => init(rank)),
      "ready",
    );
    return new DataParallelTrainer(options, { io, layout, shapes, weights }, undefined, pool);
  }

  #check(x: Float32Array, y: Float32Array | undefined, batch: number): void {
    if (this.#closed) throw new CryptomlError("USAGE", "the DataParallelTrainer is closed");
    requireInteger("batch", batch, 1);
    const { window, features, outputs } = this.#io;
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

  /** Shared batch buffers of at least `rows` rows, announcing new ones to the replicas. */
  #buffers(pool: WorkerPool, rows: number): Batches {
    if (this.#batches !== undefined && this.#batches.rows >= rows) return this.#batches;
    const { window, features, outputs } = this.#io;
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
   * ([batch, outputs]): every replica's gradient of the mean MSE over its shard, weighted by
   * shard size / batch and summed, is the gradient of the mean over the batch; every replica then
   * clips (if asked) and updates identically.
   *
   * @returns the mean MSE over the batch (before the update).
   * @throws CryptomlError with a replica's message when it fails (a non-finite loss, a throw, a
   *   timeout); the trainer is then closed and its threads terminated.
   */
  async step(x: Float32Array, y: Float32Array, batch: number): Promise<number> {
    this.#check(x, y, batch);
    if (this.#local !== undefined) {
      const loss = this.#local.computeGradients(x, y, batch);
      this.#local.update(this.lr);
      return loss;
    }
    const pool = this.#pool as WorkerPool;
    const buffers = this.#buffers(pool, batch);
    buffers.x.set(x);
    buffers.y.set(y);
    const message = { type: "step" as const, batch, lr: this.lr };
    const replies = await this.#run(pool, message, "stepped");
    const shards = shardBatch(batch, this.workers);
    let loss = 0;
    replies.forEach((reply, rank) => {
      if (reply.type === "stepped") loss += (reply.loss * (shards[rank]?.size ?? 0)) / batch;
    });
    return loss;
  }

  /** Predictions [batch, outputs] for `x` ([batch, T, F]), the batch split across replicas, no grad. */
  async predict(x: Float32Array, batch: number): Promise<Float32Array> {
    this.#check(x, undefined, batch);
    const out = new Float32Array(batch * this.#io.outputs);
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

  async #run(
    pool: WorkerPool,
    message: { type: "step"; batch: number; lr: number } | { type: "predict"; batch: number },
    expected: FromWorker["type"],
  ): Promise<FromWorker[]> {
    try {
      return await pool.request(
        Array.from({ length: this.workers }, () => message),
        expected,
      );
    } catch (error) {
      this.#closed = true;
      throw error;
    }
  }

  /** A copy of the main replica's (rank 0's) weights, in `parameters()` order with PyTorch's names. */
  parameters(): NamedWeights[] {
    const { names, offsets, sizes } = this.#layout;
    const local = this.#local?.params;
    return names.map((name, i) => {
      const at = offsets[i] as number;
      const data =
        local !== undefined
          ? (local[i] as { data: Float32Array }).data.slice()
          : this.#weights.slice(at, at + (sizes[i] as number));
      return { name, shape: [...(this.#shapes[i] as readonly number[])], data };
    });
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
