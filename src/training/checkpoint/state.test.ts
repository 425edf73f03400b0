import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Adam, type OptimizerState, type SchedulerState, StepLR } from "../../engine/optim/index.js";
import type { Parameter } from "../../engine/parameter.js";
import { Rng, type RngState } from "../../engine/random.js";
import type { CheckpointIO } from "./io.js";
import { LocalCheckpointIO } from "./local.js";
import { MemoryCheckpointIO } from "./memory.js";
import { CHECKPOINT_VERSION, type CheckpointState, decodeCheckpoint, encodeCheckpoint } from "./state.js";

/** A tiny training loop: gradients drawn from the run's Rng, one Adam step, one StepLR step. */
interface Run {
  params: Parameter[];
  adam: Adam;
  scheduler: StepLR;
  rng: Rng;
}

function newRun(seed: number): Run {
  const init = new Rng(seed);
  const params: Parameter[] = [
    { name: "w", shape: [3, 4], data: new Float32Array(12), grad: new Float32Array(12) },
    { name: "b", shape: [4], data: new Float32Array(4), grad: new Float32Array(4) },
  ];
  for (const p of params) for (let i = 0; i < p.data.length; i++) p.data[i] = init.normal();
  const adam = new Adam(params, { lr: 0.05, weightDecay: 0.01 });
  return { params, adam, scheduler: new StepLR(adam, { stepSize: 2, gamma: 0.5 }), rng: new Rng(seed + 1) };
}

function train(run: Run, steps: number): void {
  for (let s = 0; s < steps; s++) {
    for (const p of run.params) for (let i = 0; i < p.grad.length; i++) p.grad[i] = run.rng.normal();
    run.adam.step();
    run.scheduler.step();
  }
}

function snapshot(run: Run): CheckpointState {
  return {
    version: CHECKPOINT_VERSION,
    createdAt: new Date().toISOString(),
    step: run.adam.stepCount,
    epoch: 0,
    positionInEpoch: run.adam.stepCount,
    weights: run.params.map((p) => ({ name: p.name, shape: p.shape, data: p.data })),
    optimizer: run.adam.stateDict(),
    scheduler: run.scheduler.stateDict(),
    rng: run.rng.state(),
    callbacks: {},
    config: { seed: 7 },
    metadata: {},
  };
}

/** A fresh run (other seed, so nothing is shared by accident) restored from `state`. */
function restore(state: CheckpointState): Run {
  const run = newRun(999);
  for (const [i, w] of state.weights.entries()) run.params[i]?.data.set(w.data);
  run.adam.loadStateDict(state.optimizer as OptimizerState);
  run.scheduler.loadStateDict(state.scheduler as SchedulerState);
  run.rng.setState(state.rng as RngState);
  return run;
}

const bits = (run: Run): number[] => run.params.flatMap((p) => [...new Uint32Array(p.data.buffer)]);

describe.each<[string, () => CheckpointIO, string]>([
  ["LocalCheckpointIO", () => new LocalCheckpointIO(), "local"],
  ["MemoryCheckpointIO", () => new MemoryCheckpointIO(), "memory"],
])("exact resume through %s", (_name, makeIO, label) => {
  it("weights, Adam, StepLR and Rng resume bit-exactly", async () => {
    const dir = await mkdtemp(join(tmpdir(), `cryptoml-resume-${label}-`));
    try {
      const io = makeIO();
      const uninterrupted = newRun(7);
      train(uninterrupted, 5);
      const path = join(dir, "last.safetensors");
      await io.write(path, snapshot(uninterrupted));
      const resumed = restore(await io.read(path));
      expect(bits(resumed)).toEqual(bits(uninterrupted));
      train(uninterrupted, 6);
      train(resumed, 6);
      expect(resumed.adam.stepCount).toBe(11);
      expect(resumed.adam.lr).toBe(uninterrupted.adam.lr);
      expect(bits(resumed)).toEqual(bits(uninterrupted));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("encodeCheckpoint", () => {
  it("is deterministic and decodes to the same bytes again", () => {
    const state = snapshot(newRun(3));
    const bytes = encodeCheckpoint(state);
    expect(Buffer.from(encodeCheckpoint(state)).equals(Buffer.from(bytes))).toBe(true);
    const again = encodeCheckpoint(decodeCheckpoint(bytes, "<memory>"));
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
  });

  it("refuses duplicate weight names and a wrong shape", () => {
    const state = snapshot(newRun(3));
    const [w] = state.weights;
    if (w === undefined) throw new Error("no weight");
    expect(() => encodeCheckpoint({ ...state, weights: [w, w] })).toThrow(/"w" appears more than once/);
    expect(() => encodeCheckpoint({ ...state, weights: [{ ...w, shape: [5] }] })).toThrow();
  });
});
