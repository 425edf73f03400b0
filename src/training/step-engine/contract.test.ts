/**
 * The StepEngine contract, run against every implementation: LocalStepEngine, and ParallelStepEngine
 * in-process (1 worker) and over threads (2 workers; they run the compiled dist/, so `npm run build`
 * first, as for src/engine/parallel's tests).
 */
import { afterEach, describe, expect, it } from "vitest";
import { CryptomlError } from "../../core/errors.js";
import { liveReplicaThreads } from "../../engine/parallel/index.js";
import { Rng } from "../../engine/random.js";
import type { ModelDefinition } from "../../models/definition.js";
import type { CheckpointWeight } from "../checkpoint/state.js";
import {
  createStepEngine,
  LocalStepEngine,
  ParallelStepEngine,
  type StepEngine,
  type StepEngineOptions,
} from "./index.js";

const IO = { window: 6, features: 3, head: "both", returnScale: 1 } as const;
const ROWS = 8;
const OUTPUTS = 2;

function lstm(dropout: number, hidden = 8): ModelDefinition {
  return { className: "lstm", config: { hidden_size: hidden, num_layers: 1, dropout }, io: IO };
}

function options(definition: ModelDefinition, workers: number, seed = 11): StepEngineOptions {
  return {
    definition,
    seed,
    optimizer: { kind: "adam", lr: 1e-2, weightDecay: 0 },
    gradientClip: 1,
    workers,
  };
}

interface Batch {
  x: Float32Array;
  targets: Float32Array;
}

/** Windows of normals; targets packed [rows, return, logit] with a 0/1 class. */
function batch(seed: number): Batch {
  const rng = new Rng(seed);
  const x = new Float32Array(ROWS * IO.window * IO.features).map(() => rng.normal());
  const targets = new Float32Array(ROWS * OUTPUTS).map((_, i) =>
    i % OUTPUTS === 0 ? rng.normal() * 0.5 : rng.uniform() < 0.5 ? 0 : 1,
  );
  return { x, targets };
}

type Make = (o: StepEngineOptions) => Promise<StepEngine>;

const ENGINES: [string, number, Make][] = [
  ["LocalStepEngine", 1, (o) => LocalStepEngine.create(o)],
  ["ParallelStepEngine (1 worker)", 1, (o) => ParallelStepEngine.create(o)],
  ["ParallelStepEngine (2 workers)", 2, (o) => ParallelStepEngine.create(o)],
];

function expectWeightsClose(
  ours: CheckpointWeight[],
  ref: CheckpointWeight[],
  tol: number,
  what: string,
): void {
  expect(ours.map((w) => [w.name, w.shape])).toEqual(ref.map((w) => [w.name, w.shape]));
  ours.forEach((w, i) => {
    const r = ref[i] as CheckpointWeight;
    for (let k = 0; k < w.data.length; k++) {
      const d = Math.abs((w.data[k] as number) - (r.data[k] as number));
      if (!(d <= tol)) expect.fail(`${what}: ${w.name}[${k}] differs by ${d} (> ${tol})`);
    }
  });
}

async function using<T>(engine: StepEngine, body: (e: StepEngine) => Promise<T>): Promise<T> {
  try {
    return await body(engine);
  } finally {
    await engine.close();
  }
}

afterEach(() => {
  expect(liveReplicaThreads()).toBe(0);
});

describe.each(ENGINES)("StepEngine contract: %s", (_label, workers, make) => {
  it("lowers the loss over 50 steps on a fixed batch", async () => {
    const { x, targets } = batch(1);
    await using(await make(options(lstm(0), workers)), async (engine) => {
      expect(engine.workers).toBe(workers);
      const first = await engine.step(x, targets, ROWS);
      let last = first;
      for (let i = 1; i < 50; i++) last = await engine.step(x, targets, ROWS);
      expect(first.applied && last.applied).toBe(true);
      expect(first.gradNorm).toBeGreaterThan(0);
      expect(last.loss).toBeLessThan(first.loss * 0.8);
      const predictions = await engine.predict(x, ROWS);
      expect(predictions).toHaveLength(ROWS * OUTPUTS);
      expect(await engine.predict(x, 0)).toHaveLength(0);
    });
  });

  it("resumes exactly from exported weights, optimiser and dropout generator states", async () => {
    const definition = lstm(0.3);
    const data = Array.from({ length: 8 }, (_, i) => batch(10 + i));
    const straight = await make(options(definition, workers));
    const resumed = await using(straight, async (a) => {
      for (const b of data.slice(0, 4)) await a.step(b.x, b.targets, ROWS);
      a.lr = 5e-3; // a scheduler's change travels in the optimiser state
      // A different seed: everything the resumed run needs must come from the import.
      const b = await make(options(definition, workers, 99));
      await b.loadWeights(a.weights());
      await b.loadOptimizerState(JSON.parse(JSON.stringify(a.optimizerState())));
      await b.loadRngState(JSON.parse(JSON.stringify(a.rngState())));
      return using(b, async (bb) => {
        expect(bb.lr).toBe(5e-3);
        for (const batch of data.slice(4)) {
          const ra = await a.step(batch.x, batch.targets, ROWS);
          const rb = await bb.step(batch.x, batch.targets, ROWS);
          expect(rb.loss).toBeCloseTo(ra.loss, 6);
        }
        expectWeightsClose(bb.weights(), a.weights(), 1e-6, "resumed");
        return true;
      });
    });
    expect(resumed).toBe(true);
  });

  it("skips a step whose inputs or targets hold NaN and keeps its weights", async () => {
    const { x, targets } = batch(2);
    await using(await make(options(lstm(0), workers)), async (engine) => {
      await engine.step(x, targets, ROWS);
      const before = engine.weights();
      const badTargets = targets.slice();
      badTargets[ROWS * OUTPUTS - 2] = Number.NaN; // the last row: the second replica's shard
      const r1 = await engine.step(x, badTargets, ROWS);
      expect(r1.applied).toBe(false);
      const badX = x.slice();
      badX[0] = Number.NaN;
      const r2 = await engine.step(badX, targets, ROWS);
      expect(r2.applied).toBe(false);
      expectWeightsClose(engine.weights(), before, 0, "after skipped steps");
      expect((await engine.step(x, targets, ROWS)).applied).toBe(true);
    });
  });

  it("rejects weights of the wrong shape with a clear error, changing nothing", async () => {
    await using(await make(options(lstm(0), workers)), async (engine) => {
      const before = engine.weights();
      const wrong = before.map((w, i) => (i === 0 ? { ...w, shape: [1, w.data.length] } : w));
      await expect(engine.loadWeights(wrong)).rejects.toThrow(/has shape \[1, \d+\] but the \w+ needs/);
      expectWeightsClose(engine.weights(), before, 0, "after a rejected load");
    });
  });

  it("steps a mean ensemble with nothing trainable (applied, gradient norm 0)", async () => {
    const ensemble: ModelDefinition = {
      className: "ensemble",
      config: { method: "mean", members: [lstm(0), lstm(0, 4)] },
      io: IO,
    };
    const { x, targets } = batch(3);
    await using(await make(options(ensemble, workers)), async (engine) => {
      const result = await engine.step(x, targets, ROWS);
      expect(result).toEqual({ loss: expect.any(Number), gradNorm: 0, applied: true });
      expect(Number.isFinite(result.loss)).toBe(true);
    });
  });

  it("closes idempotently", async () => {
    const engine = await make(options(lstm(0), workers));
    await engine.close();
    await engine.close();
  });
});

describe("ParallelStepEngine", () => {
  it("follows LocalStepEngine's weights with 2 workers when dropout is 0", async () => {
    const data = Array.from({ length: 20 }, (_, i) => batch(30 + i));
    const run = async (engine: StepEngine) =>
      using(engine, async (e) => {
        const norms: number[] = [];
        for (const b of data) norms.push((await e.step(b.x, b.targets, ROWS)).gradNorm);
        return { norms, weights: e.weights() };
      });
    const local = await run(await LocalStepEngine.create(options(lstm(0), 1)));
    const parallel = await run(await ParallelStepEngine.create(options(lstm(0), 2)));
    expectWeightsClose(parallel.weights, local.weights, 1e-5, "2 workers vs local");
    parallel.norms.forEach((n, i) => {
      expect(n).toBeCloseTo(local.norms[i] as number, 4);
    });
  });
});

describe("createStepEngine", () => {
  it("builds the local engine for 1 worker and the parallel one above", async () => {
    const one = await createStepEngine(options(lstm(0), 1));
    expect(one).toBeInstanceOf(LocalStepEngine);
    await one.close();
    const two = await createStepEngine(options(lstm(0), 2));
    expect(two).toBeInstanceOf(ParallelStepEngine);
    await two.close();
  });

  it.each([0, 1.5, -2, Number.NaN])("rejects workers=%s with a hint", async (workers) => {
    const error = await createStepEngine(options(lstm(0), workers)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CryptomlError);
    expect((error as CryptomlError).message).toMatch(/workers=.* must be an integer >= 1/);
    expect((error as CryptomlError).hint).toMatch(/--workers/);
  });
});
