import { describe, expect, it } from "vitest";
import { MemoryCheckpointIO } from "../checkpoint/memory.js";
import { CHECKPOINT_VERSION, type CheckpointState } from "../checkpoint/state.js";
import { CallbackDispatcher } from "./dispatcher.js";
import {
  ModelCheckpoint,
  type ModelCheckpointOptions,
  type ModelCheckpointState,
} from "./model-checkpoint.js";
import { createSnapshot, type TrainerContext, type TrainingSnapshot } from "./types.js";

const DIR = "/run/checkpoints";

/**
 * A fake Trainer: one ModelCheckpoint behind a dispatcher, whose captured checkpoints hold the
 * dispatcher's callback states (so they include the checkpoint callback's own bookkeeping).
 */
function harness(options: ModelCheckpointOptions = {}, io = new MemoryCheckpointIO(), dir = DIR) {
  const callback = new ModelCheckpoint(options);
  const dispatcher = new CallbackDispatcher([callback]);
  const logs: string[] = [];
  const writes: string[] = [];
  let now: TrainingSnapshot = createSnapshot(fields(0, 0, {}));
  const context: TrainerContext = {
    io: {
      write: (path, state) => {
        writes.push(path);
        return io.write(path, state);
      },
      read: (path) => io.read(path),
      list: (d) => io.list(d),
      remove: (path) => io.remove(path),
    },
    checkpointDir: dir,
    log: (line) => logs.push(line),
    captureCheckpoint: (): CheckpointState => ({
      version: CHECKPOINT_VERSION,
      createdAt: "2026-01-02T03:04:05.000Z",
      step: now.step,
      epoch: now.epoch,
      positionInEpoch: now.positionInEpoch,
      weights: [{ name: "w", shape: [1], data: Float32Array.from([now.step]) }],
      optimizer: { kind: "adam" },
      scheduler: null,
      rng: { s: [1, 2, 3, 4] },
      callbacks: dispatcher.stateDicts(),
      config: {},
      metadata: {},
    }),
  };
  const at = (epoch: number, step: number, metrics: Record<string, number>) => {
    now = createSnapshot(fields(epoch, step, metrics));
    return now;
  };
  return {
    callback,
    dispatcher,
    io,
    logs,
    writes,
    setup: () => dispatcher.setup(context),
    epochEnd: (epoch: number, step: number, metrics: Record<string, number>) =>
      dispatcher.dispatch("onEpochEnd", at(epoch, step, metrics)),
    stepEnd: (step: number) => dispatcher.dispatch("onStepEnd", at(0, step, { loss: 1 })),
    fitEnd: (step: number) => dispatcher.dispatch("onFitEnd", at(0, step, {})),
    files: () => io.list(dir),
  };
}

function fields(epoch: number, step: number, metrics: Record<string, number>): TrainingSnapshot {
  return { epoch, step, positionInEpoch: 0, metrics, learningRate: 0.01, elapsedMs: 0 };
}

const name = (epoch: number, step: number, loss: string) =>
  `${DIR}/epoch=${epoch}-step=${step}-val_loss=${loss}.safetensors`;
const LAST = `${DIR}/last.safetensors`;

/** Feeds one epoch per value, 10 steps per epoch. */
async function feed(
  h: ReturnType<typeof harness>,
  values: readonly number[],
  monitor = "val_loss",
  from = 0,
) {
  for (const [i, value] of values.entries()) {
    await h.epochEnd(from + i, (from + i + 1) * 10, { train_loss: 1, [monitor]: value });
  }
}

describe("ModelCheckpoint top k", () => {
  it("keeps the k best by the monitored metric and deletes the rest", async () => {
    const h = harness({ saveTopK: 2 });
    await h.setup();
    await feed(h, [0.5, 0.4, 0.6, 0.3]);
    expect(await h.files()).toEqual([name(1, 20, "0.4000"), name(3, 40, "0.3000"), LAST].sort());
    expect(h.callback.bestModelPath).toBe(name(3, 40, "0.3000"));
    expect(h.callback.bestModelScore).toBe(0.3);
    expect(h.callback.lastModelPath).toBe(LAST);
    expect(h.callback.bestK.map((e) => e.score)).toEqual([0.3, 0.4]);
  });

  it("writes the state of a checkpoint already listing that checkpoint", async () => {
    const h = harness({ saveTopK: 1 });
    await h.setup();
    await feed(h, [0.5, 0.4]);
    const saved = await h.io.read(name(1, 20, "0.4000"));
    const state = saved.callbacks.ModelCheckpoint as ModelCheckpointState;
    expect(state.bestModelPath).toBe(name(1, 20, "0.4000"));
    expect(state.bestK).toEqual([{ path: name(1, 20, "0.4000"), score: 0.4 }]);
    expect(state.lastModelPath).toBe(LAST);
    expect((await h.io.read(LAST)).step).toBe(20);
  });

  it("ranks by the highest value in mode max, keeping the older on a tie", async () => {
    const h = harness({ monitor: "val_directional_accuracy", mode: "max", filename: "e{epoch}" });
    await h.setup();
    await feed(h, [0.5, 0.6, 0.55, 0.6], "val_directional_accuracy");
    expect(await h.files()).toEqual([`${DIR}/e1.safetensors`, LAST]);
    expect(h.callback.bestModelScore).toBe(0.6);
  });

  it("keeps all with saveTopK -1 and none (without needing the metric) with 0", async () => {
    const all = harness({ saveTopK: -1 });
    await all.setup();
    await feed(all, [0.5, 0.6, 0.4]);
    expect(all.callback.bestK.map((e) => e.score)).toEqual([0.4, 0.5, 0.6]);
    expect(await all.files()).toHaveLength(4);

    const none = harness({ saveTopK: 0 });
    await none.setup();
    await none.epochEnd(0, 10, { train_loss: 1 });
    expect(await none.files()).toEqual([LAST]);
    expect(none.callback.bestModelPath).toBeNull();
  });

  it("never ranks a non-finite value, so NaN does not replace the last good best", async () => {
    const h = harness({ saveTopK: 1 });
    await h.setup();
    await feed(h, [0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(h.callback.bestModelPath).toBe(name(0, 10, "0.5000"));
    expect(await h.files()).toEqual([name(0, 10, "0.5000"), LAST]);
    expect((await h.io.read(LAST)).step).toBe(40);
    expect(h.logs[0]).toBe(
      "ModelCheckpoint: val_loss=NaN at epoch 1 is not finite; not ranked among the best checkpoints",
    );
  });

  it("sanitises the file name and adds -v1 when a pattern repeats a kept name", async () => {
    const h = harness({ saveTopK: 2, filename: "run/best {val_loss:.1f}" });
    await h.setup();
    await feed(h, [0.52, 0.48]);
    expect(await h.files()).toEqual([
      LAST,
      `${DIR}/run_best_0.5-v1.safetensors`,
      `${DIR}/run_best_0.5.safetensors`,
    ]);
    expect(h.callback.bestModelPath).toBe(`${DIR}/run_best_0.5-v1.safetensors`);
  });

  it("names the available metrics when the monitored one is missing", async () => {
    const h = harness();
    await h.setup();
    await expect(h.epochEnd(0, 10, { train_loss: 1, val_mae: 2 })).rejects.toThrow(
      'callback ModelCheckpoint failed in onEpochEnd: ModelCheckpoint: monitor="val_loss" is not among the epoch\'s metrics (train_loss, val_mae)',
    );
    const pattern = harness({ filename: "{val_mae:.2f}" });
    await pattern.setup();
    await expect(pattern.epochEnd(0, 10, { val_loss: 1 })).rejects.toThrow(
      'filename="{val_mae:.2f}" uses {val_mae}, which is not among the epoch\'s metrics (val_loss)',
    );
  });
});

describe("ModelCheckpoint last", () => {
  it("rewrites last every N steps and at fit end", async () => {
    const h = harness({ everyNSteps: 3 });
    await h.setup();
    for (let step = 1; step <= 7; step++) await h.stepEnd(step);
    expect(h.writes).toEqual([LAST, LAST]);
    expect((await h.io.read(LAST)).step).toBe(6);
    await h.fitEnd(7);
    expect((await h.io.read(LAST)).step).toBe(7);
    expect(h.writes).toHaveLength(3);
  });

  it("rewrites last every T minutes of the injected clock, counted from the last write", async () => {
    let clock = 0;
    const h = harness({ everyMinutes: 2, clock: () => clock });
    await h.setup();
    const steps: number[] = [];
    for (let step = 1; step <= 10; step++) {
      clock = step * 30_000; // 30 s per step
      await h.stepEnd(step);
      if (h.writes.length > steps.length) steps.push(step);
    }
    expect(steps).toEqual([4, 8]);
    clock = 9 * 30_000 + 60_000;
    await h.epochEnd(0, 10, { val_loss: 1 }); // an epoch-end write restarts the count
    clock += 90_000;
    await h.stepEnd(11);
    expect(h.writes).toHaveLength(4);
  });

  it("writes no last with saveLast false", async () => {
    const h = harness({ saveLast: false });
    await h.setup();
    await feed(h, [0.5]);
    await h.fitEnd(10);
    expect(await h.files()).toEqual([name(0, 10, "0.5000")]);
    expect(h.callback.lastModelPath).toBeNull();
  });
});

describe("ModelCheckpoint state", () => {
  it("round-trips through JSON, and a resumed run keeps managing the same files", async () => {
    const io = new MemoryCheckpointIO();
    const first = harness({ saveTopK: 2 }, io);
    await first.setup();
    await feed(first, [0.5, 0.4]);
    // Resume from the checkpoint the first run left: its own state comes from inside it.
    const saved = await io.read(LAST);
    const json = JSON.parse(JSON.stringify(saved.callbacks)) as Record<string, unknown>;
    expect(json.ModelCheckpoint).toEqual(first.callback.stateDict());

    const resumed = harness({ saveTopK: 2 }, io);
    await resumed.setup();
    resumed.dispatcher.loadStateDicts(json);
    expect(resumed.callback.stateDict()).toEqual(first.callback.stateDict());
    await feed(resumed, [0.45, 0.3], "val_loss", 2);
    expect(await resumed.files()).toEqual([name(1, 20, "0.4000"), name(3, 40, "0.3000"), LAST]);
  });

  it("forgets (without deleting) the top k of a state written for another directory", async () => {
    const io = new MemoryCheckpointIO();
    const first = harness({ saveTopK: 1 }, io);
    await first.setup();
    await feed(first, [0.5]);
    const moved = harness({ saveTopK: 1 }, io, "/other");
    await moved.setup();
    moved.callback.loadStateDict(first.callback.stateDict());
    expect(moved.callback.bestModelPath).toBeNull();
    expect(moved.logs[0]).toContain("is for directory /run/checkpoints, this run writes to /other");
    await moved.epochEnd(1, 20, { val_loss: 0.4 });
    expect(await io.list(DIR)).toEqual([name(0, 10, "0.5000"), LAST]);
  });

  it("refuses malformed states with the field and the rule", () => {
    const cb = new ModelCheckpoint({ saveTopK: 2 });
    const good: ModelCheckpointState = {
      dirpath: DIR,
      monitor: "val_loss",
      mode: "min",
      bestModelPath: "/a.safetensors",
      bestModelScore: 0.1,
      lastModelPath: null,
      bestK: [
        { path: "/a.safetensors", score: 0.1 },
        { path: "/b.safetensors", score: 0.2 },
      ],
    };
    expect(() => cb.loadStateDict(null)).toThrow("ModelCheckpoint state=null must be an object");
    expect(() => cb.loadStateDict({ ...good, bestK: [{ path: "/a", score: "NaN" }] })).toThrow(
      'ModelCheckpoint state.bestK[0].score="NaN" must be a finite number',
    );
    expect(() => cb.loadStateDict({ ...good, bestK: [...good.bestK].reverse() })).toThrow(
      'must be sorted best first (mode "min")',
    );
    expect(() => cb.loadStateDict({ ...good, bestModelScore: 0.2 })).toThrow(
      "must be the first entry of bestK",
    );
    expect(() => cb.loadStateDict({ ...good, mode: "max" })).toThrow(
      'ModelCheckpoint state was written with monitor="val_loss" mode="max", but this one has monitor="val_loss" mode="min"',
    );
    expect(() => new ModelCheckpoint({ saveTopK: 1 }).loadStateDict(good)).toThrow(
      'ModelCheckpoint state.bestK="2 entries" exceeds saveTopK=1',
    );
    cb.loadStateDict(good);
    expect(cb.bestModelPath).toBe("/a.safetensors");
  });
});

describe("ModelCheckpoint options", () => {
  it.each([
    [{ saveTopK: -2 }, "ModelCheckpoint: saveTopK=-2 must be an integer >= -1"],
    [{ saveTopK: 1.5 }, "ModelCheckpoint: saveTopK=1.5 must be an integer >= -1"],
    [{ mode: "best" }, 'ModelCheckpoint: mode="best" must be "min" or "max"'],
    [{ monitor: "" }, 'ModelCheckpoint: monitor="" must be a metric name'],
    [{ everyNSteps: 0 }, "ModelCheckpoint: everyNSteps=0 must be an integer >= 1"],
    [{ everyMinutes: Number.NaN }, "ModelCheckpoint: everyMinutes=NaN must be a finite number > 0"],
    [
      { saveLast: false, everyNSteps: 5 },
      "ModelCheckpoint: saveLast=false conflicts with everyNSteps/everyMinutes",
    ],
    [{ filename: "epoch={epoch" }, 'ModelCheckpoint: filename="epoch={epoch" must be text with {name}'],
    [{ filename: "last" }, 'ModelCheckpoint: filename="last" must not be empty or name last.safetensors'],
    [{ dirpath: "" }, 'ModelCheckpoint: dirpath="" must be a non-empty path'],
  ])("rejects %j", (options, message) => {
    expect(() => new ModelCheckpoint(options as ModelCheckpointOptions)).toThrow(message);
  });

  it("asks for setup before writing", async () => {
    await expect(new ModelCheckpoint().onFitEnd(createSnapshot(fields(0, 1, {})))).rejects.toThrow(
      "ModelCheckpoint was not set up",
    );
  });

  it("writes to dirpath when given", async () => {
    const h = harness({ dirpath: "/elsewhere" });
    await h.setup();
    await feed(h, [0.5]);
    expect(await h.io.list("/elsewhere")).toEqual([
      "/elsewhere/epoch=0-step=10-val_loss=0.5000.safetensors",
      "/elsewhere/last.safetensors",
    ]);
  });
});
