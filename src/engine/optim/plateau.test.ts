import { describe, expect, it } from "vitest";
import { createParameter } from "../parameter.js";
import { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from "./plateau.js";
import type { SchedulerState } from "./scheduler.js";
import { SGD } from "./sgd.js";

const sgd = (lr: number) => new SGD([createParameter("w", [1])], { lr });

/** LRs after construction and after each metric (what each following optimiser step would use). */
function lrs(scheduler: ReduceLROnPlateau, metrics: number[]): number[] {
  const out = [scheduler.lastLr];
  for (const metric of metrics) {
    scheduler.step(metric);
    expect(scheduler.optimizer.lr).toBe(scheduler.lastLr);
    out.push(scheduler.lastLr);
  }
  return out;
}

/** Runs `steps` metrics, saves, reloads on a fresh optimiser and checks the rest continues identically. */
function expectResume(options: ReduceLROnPlateauOptions, lr: number, metrics: number[], steps: number): void {
  const all = lrs(new ReduceLROnPlateau(sgd(lr), options), metrics);
  const first = new ReduceLROnPlateau(sgd(lr), options);
  lrs(first, metrics.slice(0, steps));
  const saved = JSON.parse(JSON.stringify(first.stateDict())) as SchedulerState;
  const resumed = new ReduceLROnPlateau(sgd(lr), options);
  resumed.loadStateDict(saved);
  expect([resumed.lastEpoch, resumed.best, resumed.numBadEpochs]).toEqual([
    steps,
    first.best,
    first.numBadEpochs,
  ]);
  expect(lrs(resumed, metrics.slice(steps))).toEqual(all.slice(steps));
}

describe("ReduceLROnPlateau", () => {
  it("matches torch (patience=1, cooldown=1, factor=0.5, min_lr=0.02)", () => {
    const s = new ReduceLROnPlateau(sgd(0.1), { patience: 1, cooldown: 1, factor: 0.5, minLr: 0.02 });
    const metrics = [5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3];
    expect(lrs(s, metrics)).toEqual([
      0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02,
    ]);
  });

  it("counts bad epochs against the relative threshold in min mode (default patience 10)", () => {
    const s = new ReduceLROnPlateau(sgd(1));
    s.step(1);
    // 0.99995 is not below 1·(1 − 1e-4): no improvement, 11 bad steps → reduce.
    for (let t = 0; t < 10; t++) s.step(0.99995);
    expect(s.lastLr).toBe(1);
    expect(s.numBadEpochs).toBe(10);
    s.step(0.99995);
    expect(s.lastLr).toBe(0.1);
    expect(s.numBadEpochs).toBe(0);
    expect(s.best).toBe(1);
  });

  it("max mode with an absolute threshold", () => {
    const s = new ReduceLROnPlateau(sgd(1), {
      mode: "max",
      threshold: 0.1,
      thresholdMode: "abs",
      patience: 0,
    });
    s.step(0.5); // better than −∞
    expect(s.best).toBe(0.5);
    s.step(0.55); // not > 0.6 → bad, patience 0 → reduce
    expect(s.lastLr).toBeCloseTo(0.1, 15);
    s.step(0.7); // > 0.6 → better
    expect([s.best, s.lastLr]).toEqual([0.7, s.lastLr]);
  });

  it("NaN is never an improvement", () => {
    const s = new ReduceLROnPlateau(sgd(1), { patience: 0 });
    s.step(1);
    s.step(Number.NaN);
    expect(s.lastLr).toBeCloseTo(0.1, 15);
  });

  it("does not reduce by less than eps, nor below minLr", () => {
    const s = new ReduceLROnPlateau(sgd(1e-8), { patience: 0, eps: 1e-8 });
    s.step(1);
    s.step(2);
    expect(s.lastLr).toBe(1e-8);
    const floor = new ReduceLROnPlateau(sgd(0.1), { patience: 0, minLr: 0.05 });
    floor.step(1);
    floor.step(1);
    expect(floor.lastLr).toBe(0.05);
  });

  it("resumes from its state (best = Infinity survives JSON)", () => {
    const fresh = new ReduceLROnPlateau(sgd(1)).stateDict();
    expect(fresh.extra?.best).toBe("Infinity");
    const metrics = [3, 2, 2, 2, 2.5, 1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    expectResume({ patience: 2, cooldown: 1 }, 0.3, metrics, 8);
    // a resume that starts inside a cooldown and mid-count
    expectResume({ patience: 2, cooldown: 3 }, 0.3, metrics, 5);
  });

  it("needs a metric and validates its options", () => {
    expect(() => new ReduceLROnPlateau(sgd(1)).step()).toThrow(
      "ReduceLROnPlateau.step(metric) needs the monitored value",
    );
    expect(() => new ReduceLROnPlateau(sgd(1), { factor: 1 })).toThrow(
      "ReduceLROnPlateau.factor=1 must be in (0, 1)",
    );
    expect(() => new ReduceLROnPlateau(sgd(1), { patience: -1 })).toThrow(
      "ReduceLROnPlateau.patience=-1 must be an integer >= 0",
    );
    expect(() => new ReduceLROnPlateau(sgd(1), { mode: "up" as "min" })).toThrow(
      'ReduceLROnPlateau.mode="up" must be one of "min", "max"',
    );
    expect(() => new ReduceLROnPlateau(sgd(1), { thresholdMode: "pct" as "rel" })).toThrow("thresholdMode");
    expect(() => new ReduceLROnPlateau(sgd(1), { cooldown: 0.5 })).toThrow(
      "cooldown=0.5 must be an integer >= 0",
    );
  });
});
