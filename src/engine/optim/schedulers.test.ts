import { describe, expect, it } from "vitest";
import { createParameter } from "../parameter.js";
import { Adam } from "./adam.js";
import { CosineWithWarmup } from "./cosine-warmup.js";
import { OneCycleLR, type OneCycleOptions } from "./one-cycle.js";
import type { Optimizer } from "./optimizer.js";
import type { LrScheduler, SchedulerState } from "./scheduler.js";
import { SGD } from "./sgd.js";
import { StepLR } from "./step-lr.js";

const sgd = (lr: number, momentum = 0) => new SGD([createParameter("w", [1])], { lr, momentum });

/** LRs after construction and after each of `steps` steps (what each optimiser step would use). */
function lrs(scheduler: LrScheduler, steps: number, metrics: number[] = []): number[] {
  const out = [scheduler.lastLr];
  for (let t = 0; t < steps; t++) {
    scheduler.step(metrics[t]);
    expect(scheduler.optimizer.lr).toBe(scheduler.lastLr);
    out.push(scheduler.lastLr);
  }
  return out;
}

function expectClose(actual: number[], expected: number[], relative = 1e-13): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((want, t) => {
    const got = actual[t] as number;
    expect(Math.abs(got - want), `step ${t}: ${got} vs ${want}`).toBeLessThanOrEqual(
      relative * Math.abs(want) + 1e-18,
    );
  });
}

/** Runs `steps`, saves, rebuilds on a fresh optimiser, loads and checks both continue identically. */
function expectResume(
  make: (opt: Optimizer) => LrScheduler,
  opt: () => Optimizer,
  steps: number,
  metrics?: number[],
) {
  const straight = make(opt());
  const all = lrs(straight, 2 * steps, metrics);
  const first = make(opt());
  lrs(first, steps, metrics);
  const saved = JSON.parse(JSON.stringify(first.stateDict())) as SchedulerState;
  const resumedOpt = opt();
  const resumed = make(resumedOpt);
  resumed.loadStateDict(saved);
  expect(resumed.lastEpoch).toBe(steps);
  expect(resumedOpt.lr).toBe(all[steps]);
  expect(lrs(resumed, steps, metrics?.slice(steps))).toEqual(all.slice(steps));
  expect(resumedOpt.momentum).toBe(straight.optimizer.momentum);
}

describe("StepLR", () => {
  it("multiplies by gamma every stepSize steps (50 steps against base·gamma^⌊t/stepSize⌋)", () => {
    const got = lrs(new StepLR(sgd(0.8), { stepSize: 7, gamma: 0.5 }), 50);
    expect(got).toEqual(Array.from({ length: 51 }, (_, t) => 0.8 * 0.5 ** Math.floor(t / 7)));
    const tenth = lrs(new StepLR(sgd(0.1), { stepSize: 3 }), 50);
    expectClose(
      tenth,
      Array.from({ length: 51 }, (_, t) => 0.1 * 0.1 ** Math.floor(t / 3)),
      1e-13,
    );
  });

  it("matches torch's values (step_size=3, gamma=0.5)", () => {
    expect(lrs(new StepLR(sgd(0.1), { stepSize: 3, gamma: 0.5 }), 10)).toEqual([
      0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125,
    ]);
  });

  it("is chainable: a manual LR change carries on", () => {
    const opt = sgd(1);
    const s = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
    s.step();
    opt.lr = 4;
    s.step();
    expect(s.lastLr).toBe(2);
  });

  it("resumes from its state", () => {
    expectResume(
      (o) => new StepLR(o, { stepSize: 4, gamma: 0.3 }),
      () => sgd(0.2),
      9,
    );
  });

  it("validates its options", () => {
    expect(() => new StepLR(sgd(0.1), { stepSize: 0 })).toThrow("StepLR.stepSize=0 must be an integer >= 1");
    expect(() => new StepLR(sgd(0.1), { stepSize: 1.5 })).toThrow(
      "StepLR.stepSize=1.5 must be an integer >= 1",
    );
    expect(() => new StepLR(sgd(0.1), { stepSize: 2, gamma: 0 })).toThrow(
      "StepLR.gamma=0 must be a finite number > 0",
    );
  });
});

describe("CosineWithWarmup", () => {
  /** transformers' formula, written independently of the implementation. */
  function formula(t: number, base: number, warmup: number, total: number, minLr: number): number {
    if (t < warmup) return (base * t) / warmup;
    const p = Math.min(1, (t - warmup) / (total - warmup));
    return minLr + (base - minLr) * 0.5 * (1 + Math.cos(Math.PI * p));
  }

  it("warms up linearly from 0, then follows a half cosine to 0 and holds it (50 steps)", () => {
    const got = lrs(new CosineWithWarmup(sgd(0.01), { warmupSteps: 10, totalSteps: 40 }), 50);
    expectClose(
      got,
      Array.from({ length: 51 }, (_, t) => formula(t, 0.01, 10, 40, 0)),
      1e-12,
    );
    expect(got[0]).toBe(0);
    expect(got[10]).toBe(0.01);
    expect(got[25]).toBeCloseTo(0.005, 15);
    expect(got[40]).toBe(0);
    expect(got[50]).toBe(0);
  });

  it("decays to minLr and stays there", () => {
    const got = lrs(new CosineWithWarmup(sgd(0.1), { warmupSteps: 5, totalSteps: 30, minLr: 0.01 }), 50);
    expectClose(
      got,
      Array.from({ length: 51 }, (_, t) => formula(t, 0.1, 5, 30, 0.01)),
      1e-12,
    );
    expect(got[50]).toBeCloseTo(0.01, 15);
  });

  it("without warm-up starts at the base LR", () => {
    const got = lrs(new CosineWithWarmup(sgd(0.1), { warmupSteps: 0, totalSteps: 4 }), 4);
    expectClose(got, [0.1, 0.1 * 0.5 * (1 + Math.SQRT1_2), 0.05, 0.1 * 0.5 * (1 - Math.SQRT1_2), 0], 1e-12);
  });

  it("resumes from its state", () => {
    expectResume(
      (o) => new CosineWithWarmup(o, { warmupSteps: 3, totalSteps: 20, minLr: 1e-4 }),
      () => sgd(0.1),
      7,
    );
  });

  it("validates its options", () => {
    const make = (o: { warmupSteps: number; totalSteps: number; minLr?: number }) => () =>
      new CosineWithWarmup(sgd(0.1), o);
    expect(make({ warmupSteps: -1, totalSteps: 10 })).toThrow(
      "CosineWithWarmup.warmupSteps=-1 must be an integer >= 0",
    );
    expect(make({ warmupSteps: 10, totalSteps: 5 })).toThrow(
      "CosineWithWarmup.totalSteps=5 must be an integer >= 10",
    );
    expect(make({ warmupSteps: 0, totalSteps: 0 })).toThrow(
      "CosineWithWarmup.totalSteps=0 must be an integer >= 1",
    );
    expect(make({ warmupSteps: 1, totalSteps: 5, minLr: 0.2 })).toThrow(
      "CosineWithWarmup.minLr=0.2 must be <= the optimiser's lr=0.1",
    );
  });
});

describe("OneCycleLR", () => {
  /** Two-phase cosine schedule written from the paper's description, independently of the code. */
  function formula(t: number, o: { maxLr: number; total: number; pct: number }) {
    const initial = o.maxLr / 25;
    const final = initial / 1e4;
    const upEnd = o.pct * o.total - 1;
    const cosine = (from: number, to: number, x: number) =>
      to + ((from - to) * (1 + Math.cos(Math.PI * x))) / 2;
    if (t <= upEnd)
      return { lr: cosine(initial, o.maxLr, t / upEnd), momentum: cosine(0.95, 0.85, t / upEnd) };
    const x = (t - upEnd) / (o.total - 1 - upEnd);
    return { lr: cosine(o.maxLr, final, x), momentum: cosine(0.85, 0.95, x) };
  }

  it("follows the two-phase cosine cycle for LR and momentum (50 steps)", () => {
    const opt = sgd(1, 0.9);
    const s = new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 50 });
    const momenta = [opt.momentum];
    const got = [s.lastLr];
    for (let t = 1; t <= 50; t++) {
      s.step();
      got.push(s.lastLr);
      momenta.push(opt.momentum);
    }
    const want = Array.from({ length: 51 }, (_, t) => formula(t, { maxLr: 0.1, total: 50, pct: 0.3 }));
    expectClose(
      got.slice(0, 50),
      want.slice(0, 50).map((w) => w.lr),
      1e-12,
    );
    expectClose(
      momenta.slice(0, 50),
      want.slice(0, 50).map((w) => w.momentum),
      1e-12,
    );
    expect(got[14]).toBeCloseTo(0.1, 15); // the peak at pctStart·T − 1
    expect(got[49]).toBeCloseTo(0.1 / 25 / 1e4, 18);
  });

  it("matches torch's values exactly (SGD momentum, max_lr=0.1, total_steps=10)", () => {
    const opt = sgd(0.01, 0.9);
    const s = new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 10 });
    const torch = [
      [0.0040000000000000036, 0.95],
      [0.052000000000000005, 0.8999999999999999],
      [0.1, 0.85],
      [0.09504846320134738, 0.854951556604879],
      [0.0811745653949763, 0.8688255099070633],
      [0.06112620219362893, 0.8888739533021842],
      [0.03887419780637107, 0.9111260466978157],
      [0.0188258346050237, 0.9311744900929366],
      [0.004951936798652629, 0.945048443395121],
      [4e-7, 0.95],
      [0.004951936798652624, 0.945048443395121],
    ];
    const got = [[s.lastLr, opt.momentum]];
    for (let t = 0; t < 10; t++) {
      s.step();
      got.push([s.lastLr, opt.momentum]);
    }
    got.forEach(([lr, m], t) => {
      expectClose([lr as number, m as number], torch[t] as number[], 1e-15);
    });
    expect(() => s.step()).toThrow("OneCycleLR: step 11 is past totalSteps=10");
  });

  it("matches torch's three-phase linear schedule and cycles Adam's beta1", () => {
    const opt = new Adam([createParameter("w", [1])], { lr: 0.01 });
    const s = new OneCycleLR(opt, {
      maxLr: 0.01,
      totalSteps: 12,
      threePhase: true,
      annealStrategy: "linear",
    });
    const torch = [
      [0.0004, 0.95],
      [0.004092307692307694, 0.9115384615384615],
      [0.007784615384615387, 0.8730769230769231],
      [0.008523076923076921, 0.8653846153846154],
      [0.004830769230769229, 0.9038461538461539],
      [0.0011384615384615344, 0.9423076923076923],
      [0.00034483310344827583, 0.95],
      [0.0002758744827586207, 0.95],
      [0.00020691586206896548, 0.95],
      [0.00013795724137931028, 0.95],
      [6.899862068965518e-5, 0.95],
      [3.999999999997929e-8, 0.95],
    ];
    const got = [[s.lastLr, opt.betas[0]]];
    for (let t = 0; t < 12; t++) {
      s.step();
      got.push([s.lastLr, opt.betas[0]]);
    }
    torch.forEach((want, t) => {
      expectClose(got[t] as number[], want, 1e-14);
    });
    // torch extrapolates to −6.9e-5 at t = totalSteps (never used by a step of the cycle); we clamp to 0.
    expect(got[12]).toEqual([0, 0.95]);
  });

  it("leaves momentum alone when cycleMomentum is false", () => {
    const opt = sgd(0.1, 0.5);
    const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 5, cycleMomentum: false });
    s.step();
    expect(opt.momentum).toBe(0.5);
  });

  it("resumes from its state, momentum included", () => {
    expectResume(
      (o) => new OneCycleLR(o, { maxLr: 0.05, totalSteps: 30 }),
      () => sgd(0.01, 0.9),
      11,
    );
    expectResume(
      (o) => new OneCycleLR(o, { maxLr: 0.05, totalSteps: 30, threePhase: true }),
      () => new Adam([createParameter("w", [2])]),
      15,
    );
  });

  it("validates its options", () => {
    const make = (o: Partial<OneCycleOptions>) => () =>
      new OneCycleLR(sgd(0.1), { maxLr: 1, totalSteps: 10, ...o });
    expect(make({ maxLr: -1 })).toThrow("OneCycleLR.maxLr=-1 must be a finite number > 0");
    expect(make({ totalSteps: 0 })).toThrow("OneCycleLR.totalSteps=0 must be an integer >= 1");
    expect(make({ pctStart: 1.5 })).toThrow("OneCycleLR.pctStart=1.5 must be in [0, 1]");
    expect(make({ annealStrategy: "exp" as "cos" })).toThrow(
      'OneCycleLR.annealStrategy="exp" must be one of "cos", "linear"',
    );
    expect(make({ divFactor: 0 })).toThrow("OneCycleLR.divFactor=0 must be a finite number > 0");
    expect(make({ baseMomentum: -0.1 })).toThrow("OneCycleLR.baseMomentum=-0.1 must be a finite number >= 0");
    // pctStart·totalSteps = 1 makes the first phase empty: torch divides by zero at step 0.
    expect(make({ pctStart: 0.1 })).toThrow("OneCycleLR: phase 1 is empty (pctStart=0.1, totalSteps=10)");
    expect(
      () =>
        new OneCycleLR(new Adam([createParameter("w", [1])]), { maxLr: 1, totalSteps: 5, maxMomentum: 1 }),
    ).toThrow("Adam.betas[0]=1 must be in [0, 1)");
  });
});

describe("scheduler state", () => {
  it("rejects a state of another kind or format", () => {
    const state = new StepLR(sgd(0.1), { stepSize: 2 }).stateDict();
    expect(() => new OneCycleLR(sgd(0.1), { maxLr: 1, totalSteps: 5 }).loadStateDict(state)).toThrow(
      'OneCycleLR state.kind="step" must be "one-cycle"',
    );
    expect(() => new StepLR(sgd(0.1), { stepSize: 2 }).loadStateDict({ ...state, format: 2 as 1 })).toThrow(
      "StepLR state.format=2 must be 1",
    );
    expect(() =>
      new StepLR(sgd(0.1), { stepSize: 2 }).loadStateDict({
        ...state,
        config: { ...state.config, stepSize: 0 },
      }),
    ).toThrow("StepLR state.config.stepSize=0 must be an integer >= 1");
  });
});
