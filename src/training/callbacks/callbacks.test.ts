import { describe, expect, it } from "vitest";
import { EarlyStopping, type EarlyStoppingOptions } from "./early-stopping.js";
import { LearningRateMonitor } from "./lr-monitor.js";
import { NanGuard } from "./nan-guard.js";
import { Timer } from "./timer.js";
import { createSnapshot, type TrainingSnapshot } from "./types.js";

const snap = (over: Partial<TrainingSnapshot> = {}): TrainingSnapshot =>
  createSnapshot({
    epoch: 0,
    step: 0,
    positionInEpoch: 0,
    metrics: {},
    learningRate: 0.1,
    elapsedMs: 0,
    ...over,
  });

/** Feeds `values` epoch by epoch; returns the epoch of the first stop (or -1) and its reason. */
function run(stopper: EarlyStopping, values: readonly number[], monitor = "val_loss", firstEpoch = 0) {
  for (const [i, value] of values.entries()) {
    const result = stopper.onEpochEnd(snap({ epoch: firstEpoch + i, metrics: { [monitor]: value } }));
    if (result) return { epoch: firstEpoch + i, reason: result.reason };
  }
  return { epoch: -1, reason: "" };
}

describe("EarlyStopping", () => {
  it("stops after `patience` epochs without improvement (min mode)", () => {
    const stopper = new EarlyStopping({ patience: 2 });
    expect(run(stopper, [1, 0.9, 0.95, 0.9, 0.8]).epoch).toBe(3);
    expect(stopper.best).toBe(0.9);
    expect(stopper.stoppedEpoch).toBe(3);
    expect(stopper.wait).toBe(2);
  });

  it("resets the wait on improvement", () => {
    expect(run(new EarlyStopping({ patience: 2 }), [1, 1.1, 0.9, 1.1, 0.8, 0.9, 0.85]).epoch).toBe(6);
  });

  it("stops at the first non-improvement with patience 0", () => {
    expect(run(new EarlyStopping({ patience: 0 }), [1, 0.5, 0.5]).epoch).toBe(2);
  });

  it("needs improvements larger than minDelta (strictly)", () => {
    const stopper = new EarlyStopping({ patience: 2, minDelta: 0.1 });
    // 0.9 is exactly minDelta better: not an improvement; 0.85 then is (0.85 < 1 - 0.1).
    const result = run(stopper, [1, 0.9, 0.85, 0.8, 0.76]);
    expect(result.epoch).toBe(4);
    expect(stopper.best).toBe(0.85);
    expect(result.reason).toBe(
      "val_loss did not improve by more than minDelta=0.1 for 2 epochs (patience=2); best val_loss=0.85",
    );
  });

  it("max mode with minDelta", () => {
    const stopper = new EarlyStopping({ monitor: "val_acc", mode: "max", patience: 1, minDelta: 0.01 });
    expect(run(stopper, [0.5, 0.6, 0.605], "val_acc").epoch).toBe(2);
    expect(stopper.best).toBe(0.6);
    expect(run(new EarlyStopping({ mode: "max", patience: 1 }), [0.5, 0.6, 0.7, 0.7]).epoch).toBe(3);
  });

  it("stops at once on a non-finite value when checkFinite", () => {
    const stopper = new EarlyStopping({ patience: 5 });
    const result = run(stopper, [1, Number.NaN]);
    expect(result).toEqual({ epoch: 1, reason: "val_loss=NaN is not finite (best so far 1); stopping" });
    expect(run(new EarlyStopping({ mode: "max" }), [1, Number.POSITIVE_INFINITY]).epoch).toBe(1);
  });

  it("counts a non-finite value as no improvement without checkFinite", () => {
    const stopper = new EarlyStopping({ patience: 2, checkFinite: false });
    expect(run(stopper, [1, Number.NaN, Number.NaN]).epoch).toBe(2);
    expect(stopper.best).toBe(1);
  });

  it("stops at once when the value crosses the divergence threshold", () => {
    const min = run(new EarlyStopping({ patience: 10, divergenceThreshold: 5 }), [1, 5, 5.01]);
    expect(min).toEqual({
      epoch: 2,
      reason: "val_loss=5.01 crossed divergenceThreshold=5 (above it); stopping",
    });
    expect(run(new EarlyStopping({ mode: "max", divergenceThreshold: 0.2 }), [0.5, 0.1]).epoch).toBe(1);
  });

  it("continues identically after a state round trip through JSON", () => {
    const values = [1, 0.8, 0.85, 0.9, 0.7, 0.75, 0.76, 0.77, 0.78];
    const options: EarlyStoppingOptions = { patience: 3, minDelta: 0.01 };
    const whole = run(new EarlyStopping(options), values);
    expect(whole.epoch).toBe(7);
    for (let cut = 0; cut <= 6; cut++) {
      const first = new EarlyStopping(options);
      expect(run(first, values.slice(0, cut)).epoch).toBe(-1);
      const resumed = new EarlyStopping(options);
      resumed.loadStateDict(JSON.parse(JSON.stringify(first.stateDict())));
      expect(run(resumed, values.slice(cut), "val_loss", cut)).toEqual(whole);
    }
  });

  it("saves infinite bests as strings", () => {
    const stopper = new EarlyStopping({ checkFinite: false });
    expect(stopper.stateDict()).toEqual({ best: "Infinity", wait: 0, stoppedEpoch: null });
    run(stopper, [Number.NEGATIVE_INFINITY]);
    const restored = new EarlyStopping();
    restored.loadStateDict(JSON.parse(JSON.stringify(stopper.stateDict())));
    expect(restored.best).toBe(Number.NEGATIVE_INFINITY);
  });

  it("validates its options and state", () => {
    expect(() => new EarlyStopping({ patience: -1 })).toThrow("EarlyStopping: patience=-1 must be >= 0");
    expect(() => new EarlyStopping({ patience: 1.5 })).toThrow(
      "EarlyStopping: patience=1.5 must be an integer",
    );
    expect(() => new EarlyStopping({ minDelta: -0.1 })).toThrow("EarlyStopping: minDelta=-0.1 must be >= 0");
    expect(() => new EarlyStopping({ mode: "up" as "min" })).toThrow(
      'EarlyStopping: mode="up" must be "min" or "max"',
    );
    expect(() => new EarlyStopping({ monitor: "" })).toThrow(
      'EarlyStopping: monitor="" must be a metric name',
    );
    expect(() => new EarlyStopping({ divergenceThreshold: Number.NaN })).toThrow(
      "EarlyStopping: divergenceThreshold=NaN must be a finite number",
    );
    const stopper = new EarlyStopping();
    expect(() => stopper.loadStateDict({ best: "big", wait: 0, stoppedEpoch: null })).toThrow(
      'EarlyStopping state.best="big" must be a finite number, "Infinity", "-Infinity" or null',
    );
    expect(() => stopper.loadStateDict(null)).toThrow("EarlyStopping state=null must be an object");
  });

  it("refuses an epoch without the monitored metric, listing those present", () => {
    expect(() => new EarlyStopping().onEpochEnd(snap({ metrics: { loss: 1, mae: 2 } }))).toThrow(
      'EarlyStopping: monitor="val_loss" is not among the epoch\'s metrics (loss, mae)',
    );
  });
});

describe("NanGuard", () => {
  it("stops on the first non-finite loss, naming the step and the metric", () => {
    const guard = new NanGuard();
    expect(guard.onStepEnd(snap({ step: 40, metrics: { loss: 0.3 } }))).toBeUndefined();
    const result = guard.onStepEnd(
      snap({ step: 41, epoch: 2, positionInEpoch: 7, metrics: { loss: Number.NaN } }),
    );
    expect(result?.stop).toBe(true);
    expect(result?.reason).toMatch(/^loss=NaN at step 41 \(epoch 2, batch 7\) is not finite; stopping/);
    expect(guard.onStepEnd(snap({ metrics: { loss: Number.NEGATIVE_INFINITY } }))?.reason).toMatch(
      /^loss=-Infinity/,
    );
  });

  it("refuses a step without the metric, and a bad metric option", () => {
    expect(() => new NanGuard().onStepEnd(snap({ metrics: { mae: 1 } }))).toThrow(
      'NanGuard: metric="loss" is not among the step\'s metrics (mae)',
    );
    expect(() => new NanGuard({ metric: "" })).toThrow('NanGuard: metric="" must be a metric name');
    expect(
      new NanGuard({ metric: "val_loss" }).onStepEnd(snap({ metrics: { val_loss: Number.NaN } }))?.stop,
    ).toBe(true);
  });
});

describe("Timer", () => {
  it("stops at or after the deadline, from the injected clock", () => {
    let now = 1_000;
    const timer = new Timer({ deadline: 2_000, clock: () => now });
    expect(timer.onStepEnd(snap({ step: 1 }))).toBeUndefined();
    expect(timer.remainingMs()).toBe(1_000);
    now = 1_999;
    expect(timer.onStepEnd(snap({ step: 2 }))).toBeUndefined();
    now = 2_000;
    expect(timer.onStepEnd(snap({ step: 3 }))).toEqual({
      stop: true,
      reason: "deadline 1970-01-01T00:00:02.000Z reached at the end of step 3 (0 ms past it)",
    });
    now = 2_500;
    expect(timer.onEpochEnd(snap({ epoch: 4 }))?.reason).toBe(
      "deadline 1970-01-01T00:00:02.000Z reached at the end of epoch 4 (500 ms past it)",
    );
  });

  it("validates the deadline", () => {
    expect(() => new Timer({ deadline: -1 })).toThrow(
      "Timer: deadline=-1 must be a finite number >= 0 (epoch milliseconds)",
    );
    expect(() => new Timer({ deadline: Number.POSITIVE_INFINITY })).toThrow(
      "Timer: deadline=Infinity must be",
    );
    expect(() => new Timer({ deadline: 1, clock: 5 as unknown as () => number })).toThrow(
      "clock must be a function",
    );
  });
});

describe("LearningRateMonitor", () => {
  it("records the learning rate per step", () => {
    const monitor = new LearningRateMonitor();
    for (let step = 1; step <= 3; step++) monitor.onStepEnd(snap({ step, learningRate: 0.1 / step }));
    expect(monitor.history).toEqual([
      { step: 1, epoch: 0, learningRate: 0.1 },
      { step: 2, epoch: 0, learningRate: 0.05 },
      { step: 3, epoch: 0, learningRate: 0.1 / 3 },
    ]);
    expect(Object.isFrozen(monitor.history)).toBe(true);
  });

  it("records every N steps, and validates N", () => {
    const monitor = new LearningRateMonitor({ everyNSteps: 2 });
    for (let step = 1; step <= 5; step++) monitor.onStepEnd(snap({ step }));
    expect(monitor.history.map((r) => r.step)).toEqual([2, 4]);
    expect(() => new LearningRateMonitor({ everyNSteps: 0 })).toThrow(
      "LearningRateMonitor: everyNSteps=0 must be an integer >= 1",
    );
  });
});
