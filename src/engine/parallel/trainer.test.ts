import { afterEach, describe, expect, it } from "vitest";
import type { ReferenceModelName, ReferenceShape } from "../../models/reference.js";
import { Rng } from "../random.js";
import { noGrad, Tensor } from "../tensor.js";
import { liveReplicaThreads } from "./pool.js";
import { buildModel, type OptimizerSpec } from "./spec.js";
import { DataParallelTrainer, type NamedWeights } from "./trainer.js";

// Small shapes keep 3 × 20 steps per model quick on two cores.
const SHAPE: ReferenceShape = {
  features: 4,
  window: 8,
  hidden: 8,
  convChannels: 4,
  heads: 2,
  feedForward: 16,
  layers: 1,
};
const SAMPLE = SHAPE.window * SHAPE.features;

interface Batch {
  x: Float32Array;
  y: Float32Array;
  rows: number;
}

function batches(count: number, rows: number, seed = 3): Batch[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => ({
    x: new Float32Array(rows * SAMPLE).map(() => rng.normal()),
    y: new Float32Array(rows).map(() => rng.normal() * 0.5),
    rows,
  }));
}

async function train(
  name: ReferenceModelName,
  workers: number,
  data: Batch[],
  optimizer: OptimizerSpec = { kind: "adam", lr: 1e-2 },
  clipNorm?: number,
): Promise<{ losses: number[]; weights: NamedWeights[] }> {
  const ddp = await DataParallelTrainer.create({
    workers,
    model: { name, shape: SHAPE, seed: 5 },
    optimizer,
    ...(clipNorm === undefined ? {} : { clipNorm }),
  });
  try {
    const losses: number[] = [];
    for (const b of data) losses.push(await ddp.step(b.x, b.y, b.rows));
    return { losses, weights: ddp.parameters() };
  } finally {
    await ddp.close();
  }
}

/**
 * |a − b| ≤ 1e-5·|b| + 1e-6·max|b|. Replicas sum gradients in another order (per shard, then across
 * shards) than one replica does, so results differ by float32 rounding (~1e-7 relative per step),
 * which 20 Adam steps carry into the weights; 1e-5 leaves a wide margin yet catches any real error
 * (a wrong shard weight shifts the weights by ~1e-3).
 */
function expectClose(ours: ArrayLike<number>, ref: ArrayLike<number>, what: string): void {
  let scale = 0;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i] as number));
  for (let i = 0; i < ref.length; i++) {
    const a = ours[i] as number;
    const b = ref[i] as number;
    if (!(Math.abs(a - b) <= 1e-5 * Math.abs(b) + 1e-6 * scale)) {
      expect.fail(`${what}[${i}]: ${a} differs from the single replica's ${b}`);
    }
  }
}

/**
 * Compares weights, skipping the attention's key bias: its gradient is zero in exact arithmetic
 * (softmax ignores a shift shared by all keys), so Adam normalises float rounding noise into
 * ±lr steps whose signs depend on summation order. It has no effect on outputs or losses, which match.
 */
function expectSameWeights(ours: NamedWeights[], ref: NamedWeights[], label: string): void {
  expect(ours.map((w) => w.name)).toEqual(ref.map((w) => w.name));
  ours.forEach((w, i) => {
    const r = ref[i] as NamedWeights;
    expect(w.shape).toEqual(r.shape);
    if (w.name.endsWith("self_attn.in_proj_bias")) {
      const d = w.data.length / 3;
      expectClose(w.data.subarray(0, d), r.data.subarray(0, d), `${label} ${w.name} (query)`);
      expectClose(w.data.subarray(2 * d), r.data.subarray(2 * d), `${label} ${w.name} (value)`);
    } else expectClose(w.data, r.data, `${label} ${w.name}`);
  });
}

afterEach(() => {
  expect(liveReplicaThreads()).toBe(0);
});

describe.each(["lstm", "transformer"] as const)("DataParallelTrainer on %s", (name) => {
  it("gives the same 20 Adam steps with 1, 2 and 3 workers (uneven shards: batch 7)", async () => {
    const data = batches(20, 7);
    const single = await train(name, 1, data);
    const initial = buildModel({ name, shape: SHAPE, seed: 5 }).parameters();
    expect(single.weights[0]?.data).not.toEqual(initial[0]?.data); // it did train
    for (const workers of [2, 3]) {
      const multi = await train(name, workers, data);
      expectClose(multi.losses, single.losses, `${workers} workers: losses`);
      expectSameWeights(multi.weights, single.weights, `${workers} workers:`);
    }
  });

  it("predicts what a single replica's forward pass gives", async () => {
    const [batch] = batches(1, 11, 9) as [Batch];
    const model = buildModel({ name, shape: SHAPE, seed: 5 });
    const expected = noGrad(() => model.forward(new Tensor(batch.x, [11, SHAPE.window, SHAPE.features])));
    for (const workers of [1, 3]) {
      const ddp = await DataParallelTrainer.create({
        workers,
        model: { name, shape: SHAPE, seed: 5 },
        optimizer: { kind: "adam" },
      });
      const out = await ddp.predict(batch.x, 11);
      await ddp.close();
      expect(out).toHaveLength(11);
      expectClose(out, expected.data, `predict with ${workers} workers`);
    }
  });
});

describe("DataParallelTrainer", () => {
  it("matches one replica with SGD momentum, clipping, and a batch smaller than the workers", async () => {
    const optimizer: OptimizerSpec = { kind: "sgd", lr: 0.05, momentum: 0.9 };
    const data = [...batches(4, 5), ...batches(2, 2, 4)];
    const single = await train("lstm", 1, data, optimizer, 0.05);
    const multi = await train("lstm", 3, data, optimizer, 0.05);
    expectClose(multi.losses, single.losses, "losses");
    expectSameWeights(multi.weights, single.weights, "3 workers:");
  });

  it("rejects a step with the failing replica's message and leaves no thread running", async () => {
    const ddp = await DataParallelTrainer.create({
      workers: 2,
      model: { name: "lstm", shape: SHAPE, seed: 1 },
      optimizer: { kind: "adamw", lr: 1e-3 },
      timeoutMs: 20_000,
    });
    const [good] = batches(1, 6) as [Batch];
    await ddp.step(good.x, good.y, 6);
    const y = good.y.slice();
    y[5] = Number.NaN; // in replica 1's shard only: replica 0 is left waiting at the barrier
    await expect(ddp.step(good.x, y, 6)).rejects.toThrow(/replica 1: loss is NaN on a shard of 3 samples/);
    expect(ddp.liveThreads).toBe(0);
    await expect(ddp.step(good.x, good.y, 6)).rejects.toThrow(/closed/);
    await ddp.close();
  });

  it("rejects create() with a replica's construction error", async () => {
    await expect(
      DataParallelTrainer.create({
        workers: 2,
        model: { name: "gru", shape: SHAPE },
        optimizer: { kind: "adam", lr: -1 },
      }),
    ).rejects.toThrow(/replica \d: Adam\.lr=-1 must be a finite number > 0/);
  });

  it("validates its options and the batch", async () => {
    const model = { name: "gru" as const, shape: SHAPE };
    await expect(
      DataParallelTrainer.create({ workers: 0, model, optimizer: { kind: "adam" } }),
    ).rejects.toThrow("workers=0 must be an integer >= 1");
    const ddp = await DataParallelTrainer.create({ workers: 1, model, optimizer: { kind: "adam" } });
    await expect(ddp.step(new Float32Array(3), new Float32Array(1), 1)).rejects.toThrow(
      /x has 3 values but batch=1 windows of 8×4 need 32/,
    );
    await ddp.close();
  });
});
