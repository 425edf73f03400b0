import { describe, expect, it } from "vitest";
import type { ModelDefinition } from "../models/definition.js";
import { ModelCheckpoint } from "./callbacks/model-checkpoint.js";
import { type Callback, stopRequest } from "./callbacks/types.js";
import { MemoryCheckpointIO } from "./checkpoint/memory.js";
import { autoregressiveData } from "./testing.js";
import { Trainer, type TrainerOptions } from "./trainer.js";

const AR = autoregressiveData({ samples: 400, window: 6, phi: 0.7, seed: 5 });
const LSTM: ModelDefinition = {
  className: "lstm",
  config: { hidden_size: 8, num_layers: 1, dropout: 0.1 },
  io: { ...AR.io, head: "both" },
};

function options(overrides: Partial<TrainerOptions> = {}): TrainerOptions {
  return {
    epochs: 3,
    batchSize: 32,
    seed: 11,
    optimizer: { kind: "adam", lr: 0.01, weightDecay: 0 },
    gradientClip: 1,
    checkpointDir: "/ckpt",
    ...overrides,
  };
}

const flat = (weights: readonly { data: Float32Array }[]) => weights.flatMap((w) => Array.from(w.data));

/** Asks to stop once `step` is reached (simulating a kill right after a checkpoint). */
const stopAtStep = (step: number): Callback => ({
  name: "StopAt",
  onStepEnd: (s) => (s.step === step ? stopRequest(`step ${step}`) : undefined),
});

describe("Trainer", () => {
  it("trains, reports step and epoch metrics, and is deterministic per seed", async () => {
    const steps: Record<string, number>[] = [];
    const logged: string[] = [];
    const run = () =>
      new Trainer(
        options({
          callbacks: [{ onStepEnd: (s) => void steps.push({ ...s.metrics }) }],
          logger: { log: (r) => void logged.push(r.scope) },
        }),
      ).fit(LSTM, AR.data);
    const a = await run();
    const b = await run();
    expect(a.status).toBe("completed");
    expect(a.epochsCompleted).toBe(3);
    expect(a.steps).toBe(3 * Math.ceil(300 / 32));
    expect(flat(a.weights)).toEqual(flat(b.weights));
    const first = a.history[0] as Record<string, number>;
    const last = a.history[2] as Record<string, number>;
    expect(last.train_loss).toBeLessThan(first.train_loss as number);
    for (const key of [
      "train_loss",
      "val_loss",
      "val_mae",
      "val_directional_accuracy",
      "lr",
      "samples_per_s",
    ]) {
      expect(Number.isFinite(last[key]), key).toBe(true);
    }
    expect(Object.keys(steps[0] ?? {}).sort()).toEqual(["grad_norm", "loss", "lr", "samples_per_s"]);
    expect(logged.filter((s) => s === "epoch")).toHaveLength(6); // two runs
  });

  it.each([3, 10, 13])(
    "resumes from a checkpoint written at step %i and ends with the uninterrupted run's weights",
    async (killStep) => {
      const uninterrupted = await new Trainer(options()).fit(LSTM, AR.data);
      const io = new MemoryCheckpointIO();
      const first = await new Trainer(
        options({
          checkpointIO: io,
          callbacks: [stopAtStep(killStep), new ModelCheckpoint({ everyNSteps: 1 })],
        }),
      ).fit(LSTM, AR.data);
      expect(first.status).toBe("stopped");
      const state = await io.read("/ckpt/last.safetensors");
      expect(state.step).toBe(killStep);
      const resumed = await new Trainer(
        options({ checkpointIO: io, callbacks: [new ModelCheckpoint({ everyNSteps: 1 })] }),
      ).fit(LSTM, AR.data, state);
      expect(resumed.status).toBe("completed");
      expect(resumed.steps).toBe(uninterrupted.steps);
      const a = flat(uninterrupted.weights);
      const b = flat(resumed.weights);
      expect(Math.max(...a.map((v, i) => Math.abs(v - (b[i] as number))))).toBeLessThanOrEqual(1e-6);
      expect(resumed.history.map((h) => h.val_loss)).toEqual(uninterrupted.history.map((h) => h.val_loss));
    },
  );

  it("stops at the deadline and on an aborted signal", async () => {
    let now = 0;
    const clock = () => now;
    const ticking: Callback = {
      onStepEnd: () => {
        now += 1000;
      },
    };
    const timed = await new Trainer(options({ clock, deadline: 5000, callbacks: [ticking] })).fit(
      LSTM,
      AR.data,
    );
    expect(timed.status).toBe("deadline");
    expect(timed.steps).toBe(5);
    const controller = new AbortController();
    const aborting: Callback = { onStepEnd: (s) => void (s.step === 2 && controller.abort()) };
    const interrupted = await new Trainer(options({ signal: controller.signal, callbacks: [aborting] })).fit(
      LSTM,
      AR.data,
    );
    expect(interrupted.status).toBe("interrupted");
    expect(interrupted.steps).toBe(2);
  });

  it("stops with a clear reason when the loss turns non-finite and keeps the last good weights", async () => {
    const huge = await new Trainer(
      options({ optimizer: { kind: "sgd", lr: 1e30, weightDecay: 0 }, gradientClip: 0 }),
    ).fit({ ...LSTM, config: { ...LSTM.config, dropout: 0 } } as ModelDefinition, AR.data);
    expect(huge.status).toBe("diverged");
    expect(huge.reason).toMatch(/non-finite (loss|gradient norm).*last good weights are kept/);
    expect(flat(huge.weights).every(Number.isFinite)).toBe(true);
  });

  it("refuses NaN inputs, naming the sample", async () => {
    const x = AR.source.x.slice();
    x[6 * 2 * 7] = Number.NaN; // sample 7
    const { ArrayBatchSource } = await import("./testing.js");
    const source = new ArrayBatchSource(x, AR.source.yReg, 6, 2);
    await expect(
      new Trainer(options()).fit(LSTM, { ...AR.data, source, trainIndices: Int32Array.of(7, 8) }),
    ).rejects.toThrow(/input window of sample 7 holds NaN/);
  });

  it("refuses a checkpoint written with another configuration or another model", async () => {
    const io = new MemoryCheckpointIO();
    await new Trainer(
      options({
        checkpointIO: io,
        config: { batch: 32 },
        callbacks: [stopAtStep(2), new ModelCheckpoint({ everyNSteps: 1 })],
      }),
    ).fit(LSTM, AR.data);
    const state = await io.read("/ckpt/last.safetensors");
    await expect(
      new Trainer(
        options({ checkpointIO: io, config: { batch: 64 }, callbacks: [new ModelCheckpoint({})] }),
      ).fit(LSTM, AR.data, state),
    ).rejects.toThrow(/different configuration \(batch: 32 → 64\)/);
    const gru = { ...LSTM, className: "gru" } as ModelDefinition;
    await expect(new Trainer(options({ checkpointIO: io })).fit(gru, AR.data, state)).rejects.toThrow(
      /checkpoint is of a lstm model, but this run trains gru/,
    );
  });

  it("rejects bad settings and empty data with a hint", () => {
    expect(() => new Trainer(options({ epochs: 0 }))).toThrow(/training.epochs=0 must be an integer >= 1/);
    expect(() => new Trainer(options({ batchSize: 1.5 }))).toThrow(/training.batch_size=1.5/);
    return expect(
      new Trainer(options()).fit(LSTM, { ...AR.data, trainIndices: new Int32Array(0) }),
    ).rejects.toThrow(/no training samples/);
  });
});
