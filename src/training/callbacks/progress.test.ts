import { describe, expect, it } from "vitest";
import { MemoryCheckpointIO } from "../checkpoint/memory.js";
import { ProgressDisplay, type ProgressDisplayOptions } from "./progress.js";
import { createSnapshot, type TrainingSnapshot } from "./types.js";

const snap = (over: Partial<TrainingSnapshot> = {}): TrainingSnapshot =>
  createSnapshot({
    epoch: 2,
    step: 1200,
    positionInEpoch: 40,
    metrics: { loss: 0.81234, lr: 0.001, grad_norm: 1.2, samples_per_s: 411.6 },
    learningRate: 0.001,
    elapsedMs: 0,
    ...over,
  });

function display(options: ProgressDisplayOptions = {}) {
  const lines: string[] = [];
  const clock = { now: 0 };
  const progress = new ProgressDisplay({ write: (l) => lines.push(l), clock: () => clock.now, ...options });
  return { progress, lines, clock };
}

describe("ProgressDisplay", () => {
  it("writes at most one progress line per intervalMs, the first at once", () => {
    const { progress, lines, clock } = display({ epochs: 50, batchesPerEpoch: 120 });
    for (const t of [0, 500, 1999, 2000, 2500, 3999, 4100]) {
      clock.now = t;
      progress.onStepEnd(snap());
    }
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe("epoch 3/50  step 1200  batch 40/120  loss 0.8123  412 samples/s");
  });

  it("leaves out what it does not know", () => {
    const { progress, lines } = display();
    progress.onStepEnd(snap({ metrics: {} }));
    expect(lines).toEqual(["epoch 3  step 1200"]);
  });

  it("tells the ETA from the deadline", () => {
    const { progress, lines, clock } = display({ intervalMs: 0 });
    clock.now = 1_000_000;
    progress.onStepEnd(snap({ deadline: 1_000_000 + 130_000 }));
    expect(lines[0]).toBe("epoch 3  step 1200  loss 0.8123  412 samples/s  ETA 2m 10s");
    clock.now = 2_000_000;
    progress.onStepEnd(snap({ deadline: 1_000_000 }));
    expect(lines[1]?.endsWith("ETA 0s")).toBe(true);
  });

  it("tells the ETA from the batches left at this process's rate, or the deadline if sooner", () => {
    const { progress, lines, clock } = display({ intervalMs: 0, epochs: 2, batchesPerEpoch: 10 });
    progress.onFitStart(snap({ epoch: 0, step: 0, positionInEpoch: 0 }));
    clock.now = 5_000;
    progress.onStepEnd(snap({ epoch: 0, step: 5, positionInEpoch: 5, metrics: {} }));
    expect(lines[0]).toBe("epoch 1/2  step 5  batch 5/10  ETA 15s");
    progress.onStepEnd(snap({ epoch: 0, step: 5, positionInEpoch: 5, metrics: {}, deadline: 8_000 }));
    expect(lines[1]).toBe("epoch 1/2  step 5  batch 5/10  ETA 3s");
    expect(progress.etaMs(snap({ epoch: 1, positionInEpoch: 10 }))).toBe(0);
  });

  it("writes one line per epoch end, never held back", () => {
    const { progress, lines } = display({ epochs: 50 });
    progress.onStepEnd(snap());
    progress.onEpochEnd(
      snap({
        metrics: { train_loss: 0.81234, val_loss: 0.84561, val_mae: 0.01, val_directional_accuracy: 0.5423 },
        elapsedMs: 725_000,
      }),
    );
    expect(lines[1]).toBe(
      "epoch 3/50 done  train_loss 0.8123  val_loss 0.8456  val_dir_acc 54.2%  elapsed 12m 5s",
    );
  });

  it("writes to context.log by default", () => {
    const lines: string[] = [];
    const progress = new ProgressDisplay();
    progress.setup({
      log: (l) => lines.push(l),
      io: new MemoryCheckpointIO(),
      checkpointDir: "/ckpt",
      captureCheckpoint: () => {
        throw new Error("not used");
      },
    });
    progress.onStepEnd(snap({ metrics: {} }));
    expect(lines).toEqual(["epoch 3  step 1200"]);
    expect(() => new ProgressDisplay().onStepEnd(snap())).toThrow("ProgressDisplay has nowhere to write");
  });

  it.each([
    [{ intervalMs: -1 }, "ProgressDisplay: intervalMs=-1 must be a finite number >= 0"],
    [{ epochs: 0 }, "ProgressDisplay: epochs=0 must be an integer >= 1"],
    [{ batchesPerEpoch: 2.5 }, "ProgressDisplay: batchesPerEpoch=2.5 must be an integer >= 1"],
    [{ write: "stderr" }, 'ProgressDisplay: write="stderr" must be a function'],
  ])("rejects %j", (options, message) => {
    expect(() => new ProgressDisplay(options as ProgressDisplayOptions)).toThrow(message);
  });
});
