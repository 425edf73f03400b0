import { describe, expect, it } from "vitest";
import { ModelCheckpoint } from "./callbacks/model-checkpoint.js";
import { MemoryCheckpointIO } from "./checkpoint/memory.js";
import { EpochTiming } from "./epoch-timing.js";
import { autoregressiveData } from "./testing.js";
import { Trainer } from "./trainer.js";

const PARTS = ["data", "compute", "logging", "checkpoint", "callbacks", "validation"];

describe("EpochTiming", () => {
  it("does not count checkpoint time inside callbacks twice, and starts a new period on take()", async () => {
    const timing = new EpochTiming();
    await timing.time("callbacks", async () => {
      timing.add("checkpoint", 40);
    });
    timing.add("data", 5);
    const first = timing.take();
    expect(first.time_checkpoint_s).toBeCloseTo(0.04, 9);
    expect(first.time_data_s).toBeCloseTo(0.005, 9);
    // The callback itself took ~0 ms of real time; the 40 ms are checkpointing, not callbacks.
    expect(first.time_callbacks_s).toBeLessThan(0);
    const second = timing.take();
    for (const part of PARTS) expect(second[`time_${part}_s`]).toBe(0);
  });
});

describe("Trainer timing", () => {
  it("reports where each epoch's time went and tells the observer of every checkpoint written", async () => {
    const ar = autoregressiveData({ samples: 300, window: 6, phi: 0.7, seed: 3 });
    const written: string[] = [];
    const result = await new Trainer({
      epochs: 2,
      batchSize: 32,
      seed: 1,
      optimizer: { kind: "adam", lr: 0.01, weightDecay: 0 },
      gradientClip: 1,
      checkpointDir: "/ckpt",
      checkpointIO: new MemoryCheckpointIO(),
      callbacks: [
        new ModelCheckpoint({
          monitor: "val_loss",
          mode: "min",
          saveTopK: 1,
          saveLast: true,
          everyNSteps: 3,
        }),
      ],
      observer: { checkpointWritten: (path) => written.push(path) },
    }).fit(
      {
        className: "gru",
        config: { hidden_size: 8, num_layers: 1, dropout: 0 },
        io: { ...ar.io, head: "regression" },
      },
      ar.data,
    );
    expect(written.length).toBeGreaterThan(2);
    expect(written.some((p) => p.endsWith("last.safetensors"))).toBe(true);
    const second = result.history[1] as Record<string, number>;
    for (const part of PARTS) expect(second[`time_${part}_s`], part).toBeGreaterThanOrEqual(0);
    // Checkpoints every 3 steps fell inside the second epoch's period.
    expect(second.time_checkpoint_s).toBeGreaterThan(0);
    expect(second.time_compute_s).toBeGreaterThan(0);
    const parts = PARTS.reduce((sum, part) => sum + (second[`time_${part}_s`] as number), 0);
    expect(parts).toBeLessThanOrEqual((second.time_wall_s as number) + 1e-6);
  });
});
