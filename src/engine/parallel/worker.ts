/**
 * Entry of a replica worker thread (compiled to dist/engine/parallel/worker.js). It builds its replica
 * from the init message's specs, loads the broadcast weights, then serves steps, predictions and state
 * transfers; the protocol is described in docs/engine-parallel.md.
 */
import { parentPort } from "node:worker_threads";
import { CryptomlError } from "../../core/errors.js";
import { abortBarrier, arriveAndWait, BarrierAbortedError } from "./barrier.js";
import { flatLayout, gather, reduceChunk, scatter, shardBatch } from "./layout.js";
import {
  type ExportMessage,
  type FromWorker,
  type ImportMessage,
  type InitMessage,
  PROTOCOL_VERSION,
  type StepMessage,
  type ToWorker,
} from "./protocol.js";
import { Replica } from "./replica.js";
import { buildModel, modelIo } from "./spec.js";

interface State {
  init: InitMessage;
  replica: Replica;
  control: Int32Array;
  grads: Float32Array;
  weights: Float32Array;
  /** Of the gradient layout (trainable parameters only). */
  stride: number;
  total: number;
  x: Float32Array;
  y: Float32Array;
  out: Float32Array;
  /** The lr of a guarded step waiting for its `apply`. */
  pendingLr: number | undefined;
}

const port = parentPort;
if (port === null) throw new Error("engine/parallel/worker.js must run as a worker thread");
let state: State | undefined;

function post(message: FromWorker): void {
  port?.postMessage(message);
}

function start(init: InitMessage): State {
  if (init.protocol !== PROTOCOL_VERSION) {
    throw new CryptomlError(
      "INTERNAL",
      `worker protocol ${PROTOCOL_VERSION} differs from the coordinator's ${init.protocol}`,
      { hint: "dist/ is stale: run `npm run build`" },
    );
  }
  const replica = new Replica(
    buildModel(init.model),
    modelIo(init.model),
    init.optimizer,
    init.clipNorm,
    init.dropoutSeed,
  );
  const names = replica.params.map((p) => p.name);
  const sizes = replica.params.map((p) => p.data.length);
  const trainable = replica.trainable.map((p) => p.name);
  if (
    JSON.stringify([names, sizes, trainable]) !== JSON.stringify([init.names, init.sizes, init.trainable])
  ) {
    throw new CryptomlError("INTERNAL", "this replica's parameters differ from the coordinator's");
  }
  const layout = flatLayout(replica.trainable);
  const weights = new Float32Array(init.buffers.weights);
  scatter(weights, 0, replica.params, "data");
  const empty = new Float32Array(0);
  return {
    init,
    replica,
    control: new Int32Array(init.buffers.control),
    grads: new Float32Array(init.buffers.grads),
    weights,
    stride: layout.stride,
    total: layout.total,
    x: empty,
    y: empty,
    out: empty,
    pendingLr: undefined,
  };
}

/** Σ_s (size_s / B) · slot_s over this rank's chunk, accumulated in float64 in slot order. */
function reduce(s: State, weightsOfSlots: number[]): void {
  const { start, size } = reduceChunk(s.total, s.init.world, s.init.rank);
  const reduced = s.init.world * s.stride;
  for (let i = start; i < start + size; i++) {
    let acc = 0;
    for (let slot = 0; slot < weightsOfSlots.length; slot++) {
      acc += (weightsOfSlots[slot] as number) * (s.grads[slot * s.stride + i] as number);
    }
    s.grads[reduced + i] = acc;
  }
}

/** Updates the replica; rank 0 then publishes the weights for the coordinator to read. */
function apply(s: State, lr: number): void {
  s.replica.update(lr);
  if (s.init.rank === 0) gather(s.replica.params, s.weights, 0, "data");
}

function step(s: State, { batch, lr, mode }: StepMessage): FromWorker {
  const { rank, world, timeoutMs } = s.init;
  const { window, features, outputs } = s.replica.io;
  const shards = shardBatch(batch, world);
  const mine = shards[rank] as { start: number; size: number };
  const sample = window * features;
  const loss = s.replica.computeGradients(
    s.x.subarray(mine.start * sample, (mine.start + mine.size) * sample),
    s.y.subarray(mine.start * outputs, (mine.start + mine.size) * outputs),
    mine.size,
    mode,
  );
  gather(s.replica.trainable, s.grads, rank * s.stride, "grad");
  arriveAndWait(s.control, world, timeoutMs, `replica ${rank}: gradients written`);
  reduce(
    s,
    shards.map((shard) => shard.size / batch),
  );
  arriveAndWait(s.control, world, timeoutMs, `replica ${rank}: gradients reduced`);
  scatter(s.grads, world * s.stride, s.replica.trainable, "grad");
  const gradNorm = s.replica.clip(mode);
  if (mode === "strict") apply(s, lr);
  else s.pendingLr = lr;
  return { type: "stepped", loss, gradNorm };
}

function predict(s: State, batch: number): void {
  const mine = shardBatch(batch, s.init.world)[s.init.rank] as { start: number; size: number };
  const { window, features, outputs } = s.replica.io;
  s.replica.predictInto(
    s.x.subarray(mine.start * window * features, (mine.start + mine.size) * window * features),
    mine.size,
    s.out.subarray(mine.start * outputs, (mine.start + mine.size) * outputs),
  );
}

function load(s: State, message: ImportMessage): void {
  if (message.weights) scatter(s.weights, 0, s.replica.params, "data");
  if (message.optimizer !== undefined) s.replica.loadOptimizerState(message.optimizer);
  if (message.rng !== undefined) s.replica.loadRngState(message.rng);
}

/** Answers through the message's own port and wakes the coordinator blocked on its flag. */
function exportState(message: ExportMessage): void {
  let reply: FromWorker;
  try {
    if (state === undefined) throw new CryptomlError("INTERNAL", "export before init");
    const optimizer = message.optimizer ? state.replica.optimizerState() : undefined;
    reply = { type: "exported", rng: state.replica.rng.state(), ...(message.optimizer ? { optimizer } : {}) };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    reply = { type: "error", message: `replica ${state?.init.rank ?? -1}: ${text}`, aborted: false };
  }
  message.port.postMessage(reply);
  message.port.close();
  const flag = new Int32Array(message.flag);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

function handle(message: ToWorker): FromWorker | undefined {
  if (message.type === "init") {
    state = start(message);
    return { type: "ready", protocol: PROTOCOL_VERSION };
  }
  if (message.type === "export") {
    exportState(message);
    return undefined;
  }
  if (state === undefined) throw new CryptomlError("INTERNAL", `${message.type} before init`);
  switch (message.type) {
    case "data":
      state.x = new Float32Array(message.x);
      state.y = new Float32Array(message.y);
      state.out = new Float32Array(message.out);
      return undefined;
    case "step":
      return step(state, message);
    case "apply": {
      const lr = state.pendingLr;
      if (lr === undefined) throw new CryptomlError("INTERNAL", "apply without a guarded step");
      state.pendingLr = undefined;
      if (message.apply) apply(state, lr);
      return { type: "applied" };
    }
    case "predict":
      predict(state, message.batch);
      return { type: "predicted" };
    case "import":
      load(state, message);
      return { type: "imported" };
  }
}

port.on("message", (message: ToWorker) => {
  try {
    const reply = handle(message);
    if (reply !== undefined) post(reply);
  } catch (error) {
    // Wake peers blocked in a barrier first, so the coordinator hears from everyone promptly.
    if (state !== undefined) abortBarrier(state.control);
    const rank = state?.init.rank ?? (message.type === "init" ? message.rank : -1);
    const text = error instanceof Error ? error.message : String(error);
    post({
      type: "error",
      message: `replica ${rank}: ${text}`,
      aborted: error instanceof BarrierAbortedError,
    });
  }
});
