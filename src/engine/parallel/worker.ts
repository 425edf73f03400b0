/**
 * Entry of a replica worker thread (compiled to dist/engine/parallel/worker.js). It builds its replica
 * from the init message's specs, loads the broadcast weights, then serves steps and predictions; the
 * protocol is described in docs/engine-parallel.md.
 */
import { parentPort } from "node:worker_threads";
import { CryptomlError } from "../../core/errors.js";
import { abortBarrier, arriveAndWait, BarrierAbortedError } from "./barrier.js";
import { flatLayout, gather, reduceChunk, scatter, shardBatch } from "./layout.js";
import { type FromWorker, type InitMessage, PROTOCOL_VERSION, type ToWorker } from "./protocol.js";
import { Replica } from "./replica.js";
import { buildModel, modelIo } from "./spec.js";

interface State {
  init: InitMessage;
  replica: Replica;
  control: Int32Array;
  grads: Float32Array;
  weights: Float32Array;
  stride: number;
  total: number;
  x: Float32Array;
  y: Float32Array;
  out: Float32Array;
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
  const replica = new Replica(buildModel(init.model), modelIo(init.model), init.optimizer, init.clipNorm);
  const names = replica.params.map((p) => p.name);
  const sizes = replica.params.map((p) => p.data.length);
  if (JSON.stringify([names, sizes]) !== JSON.stringify([init.names, init.sizes])) {
    throw new CryptomlError("INTERNAL", "this replica's parameters differ from the coordinator's");
  }
  const layout = flatLayout(replica.params);
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

function step(s: State, batch: number, lr: number): number {
  const { rank, world, timeoutMs } = s.init;
  const { window, features, outputs } = s.replica.io;
  const shards = shardBatch(batch, world);
  const mine = shards[rank] as { start: number; size: number };
  const sample = window * features;
  const loss = s.replica.computeGradients(
    s.x.subarray(mine.start * sample, (mine.start + mine.size) * sample),
    s.y.subarray(mine.start * outputs, (mine.start + mine.size) * outputs),
    mine.size,
  );
  gather(s.replica.params, s.grads, rank * s.stride, "grad");
  arriveAndWait(s.control, world, timeoutMs, `replica ${rank}: gradients written`);
  reduce(
    s,
    shards.map((shard) => shard.size / batch),
  );
  arriveAndWait(s.control, world, timeoutMs, `replica ${rank}: gradients reduced`);
  scatter(s.grads, world * s.stride, s.replica.params, "grad");
  s.replica.update(lr);
  if (rank === 0) gather(s.replica.params, s.weights, 0, "data");
  return loss;
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

function handle(message: ToWorker): FromWorker | undefined {
  if (message.type === "init") {
    state = start(message);
    return { type: "ready", protocol: PROTOCOL_VERSION };
  }
  if (state === undefined) throw new CryptomlError("INTERNAL", `${message.type} before init`);
  switch (message.type) {
    case "data":
      state.x = new Float32Array(message.x);
      state.y = new Float32Array(message.y);
      state.out = new Float32Array(message.out);
      return undefined;
    case "step":
      return { type: "stepped", loss: step(state, message.batch, message.lr) };
    case "predict":
      predict(state, message.batch);
      return { type: "predicted" };
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
