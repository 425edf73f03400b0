import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Parameter } from "../parameter.js";
import { Adam, type AdamOptions, AdamW } from "./adam.js";
import type { OptimizerState } from "./optimizer.js";
import { powInt } from "./scalar-math.js";

function param(name: string, data: number[], grad: number[] = data.map(() => 0)): Parameter {
  return { name, shape: [data.length], data: Float32Array.from(data), grad: Float32Array.from(grad) };
}

interface RefOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  amsgrad: boolean;
}

/** The textbook update in float64, one scalar parameter; the float32 implementation must stay close. */
function reference(p0: number, grads: number[], o: RefOptions): number[] {
  let p = p0;
  let m = 0;
  let v = 0;
  let vMax = 0;
  const out: number[] = [];
  grads.forEach((grad, i) => {
    const t = i + 1;
    let g = grad;
    if (o.decoupled) p *= 1 - o.lr * o.weightDecay;
    else g += o.weightDecay * p;
    m = o.betas[0] * m + (1 - o.betas[0]) * g;
    v = o.betas[1] * v + (1 - o.betas[1]) * g * g;
    vMax = Math.max(vMax, v);
    const vHat = (o.amsgrad ? vMax : v) / (1 - o.betas[1] ** t);
    p -= ((o.lr / (1 - o.betas[0] ** t)) * m) / (Math.sqrt(vHat) + o.eps);
    out.push(p);
  });
  return out;
}

function runOne(opt: Adam | AdamW, p: Parameter, grads: number[]): number[] {
  return grads.map((g) => {
    p.grad[0] = g;
    opt.step();
    return p.data[0] as number;
  });
}

const DEFAULTS: RefOptions = {
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  decoupled: false,
  amsgrad: false,
};

describe("Adam update", () => {
  it("the first step moves each parameter by about lr against the sign of its gradient", () => {
    const p = param("w", [1, -1, 0.5], [0.3, -20, 1e-3]);
    new Adam([p], { lr: 0.01 }).step();
    // m̂ = g, v̂ = g², so the step is lr·g/(|g| + eps).
    expect(p.data[0]).toBeCloseTo(0.99, 6);
    expect(p.data[1]).toBeCloseTo(-0.99, 6);
    expect(p.data[2]).toBeCloseTo(0.5 - (0.01 * 1e-3) / (1e-3 + 1e-8), 6);
  });

  it("zero gradient and no decay leaves the parameter unchanged", () => {
    const p = param("w", [3]);
    new Adam([p]).step();
    expect(p.data[0]).toBe(3);
  });

  it("follows the float64 formula over 50 steps within float32 rounding", () => {
    const grads = Array.from({ length: 50 }, (_, t) => Math.sin(t) * (t % 5 === 0 ? 5 : 0.2));
    const cases: [AdamOptions, RefOptions][] = [
      [{}, DEFAULTS],
      [
        { lr: 0.01, weightDecay: 0.1 },
        { ...DEFAULTS, lr: 0.01, weightDecay: 0.1 },
      ],
      [
        { lr: 0.01, amsgrad: true },
        { ...DEFAULTS, lr: 0.01, amsgrad: true },
      ],
      [
        { lr: 0.003, betas: [0.5, 0.9], eps: 1e-3 },
        { ...DEFAULTS, lr: 0.003, betas: [0.5, 0.9], eps: 1e-3 },
      ],
    ];
    for (const [options, ref] of cases) {
      const p = param("w", [0.7]);
      const ours = runOne(new Adam([p], options), p, grads);
      reference(0.7, grads, ref).forEach((want, t) => {
        expect(Math.abs((ours[t] as number) - want), `${JSON.stringify(options)} step ${t}`).toBeLessThan(
          2e-6,
        );
      });
    }
  });

  it("AMSGrad normalises by the largest second moment seen", () => {
    // A fast-forgetting β2 lets v fall after the large gradient; AMSGrad keeps dividing by its peak.
    const grads = [10, -0.1, -0.1, -0.1, -0.1, -0.1];
    const options: AdamOptions = { lr: 0.1, betas: [0.5, 0.5] };
    const plain = param("w", [0]);
    const ams = param("w", [0]);
    runOne(new Adam([plain], options), plain, grads);
    runOne(new Adam([ams], { ...options, amsgrad: true }), ams, grads);
    const want = reference(0, grads, { ...DEFAULTS, lr: 0.1, betas: [0.5, 0.5], amsgrad: true }).at(
      -1,
    ) as number;
    expect(ams.data[0]).toBeCloseTo(want, 6);
    // Without the max the shrinking v enlarges every later step, so the two runs end far apart.
    expect(Math.abs((plain.data[0] as number) - (ams.data[0] as number))).toBeGreaterThan(0.05);
  });

  it("weight decay is L2 in Adam: with g = 0 the first step is still about lr", () => {
    const p = param("w", [2]);
    new Adam([p], { lr: 0.1, weightDecay: 0.5 }).step();
    expect(p.data[0]).toBeCloseTo(1.9, 6);
  });

  it("changing momentum sets betas[0], which the next step uses", () => {
    const p = param("w", [0], [1]);
    const opt = new Adam([p], { betas: [0.9, 0.99] });
    opt.momentum = 0.8;
    expect(opt.betas).toEqual([0.8, 0.99]);
    expect(() => {
      opt.momentum = 1;
    }).toThrow("Adam.betas[0]=1 must be in [0, 1)");
  });
});

describe("AdamW update", () => {
  it("decays the parameter by (1 − lr·wd) before the Adam step", () => {
    const p = param("w", [2]);
    new AdamW([p], { lr: 0.1, weightDecay: 0.5 }).step();
    // g = 0 → no Adam move; only the decoupled decay: 2·(1 − 0.05).
    expect(p.data[0]).toBe(Math.fround(2 * Math.fround(0.95)));
  });

  it("defaults to weightDecay 1e-2 and follows the float64 formula", () => {
    const grads = Array.from({ length: 40 }, (_, t) => Math.cos(t / 3));
    const p = param("w", [1.5]);
    const ours = runOne(new AdamW([p], { lr: 0.01 }), p, grads);
    const want = reference(1.5, grads, { ...DEFAULTS, lr: 0.01, weightDecay: 1e-2, decoupled: true });
    want.forEach((w, t) => {
      expect(Math.abs((ours[t] as number) - w)).toBeLessThan(2e-6);
    });
    expect(new AdamW([param("v", [1])]).stateDict().hyper).toMatchObject({ weightDecay: 1e-2, lr: 1e-3 });
  });
});

describe("Adam state", () => {
  const grad = (t: number, i: number, j: number) => Math.sin(11 * t + 5 * i + j) * (1 + (t % 3));

  function run(opt: Adam | AdamW, params: Parameter[], from: number, to: number): void {
    for (let t = from; t < to; t++) {
      params.forEach((p, i) => {
        for (let j = 0; j < p.grad.length; j++) p.grad[j] = grad(t, i, j);
      });
      opt.step();
    }
  }

  it.each([
    ["Adam", { lr: 0.01, weightDecay: 0.01 }],
    ["Adam amsgrad", { lr: 0.01, amsgrad: true }],
    ["AdamW", { lr: 0.01 }],
  ] as const)("%s: a JSON round trip resumes bit-exactly", (label, options) => {
    const Kind = label === "AdamW" ? AdamW : Adam;
    const make = () => [param("a", [0.1, 0.2, 0.3]), param("b", [-1, 4])];
    const straight = make();
    run(new Kind(straight, options), straight, 0, 12);

    const first = make();
    const optA = new Kind(first, options);
    run(optA, first, 0, 6);
    const saved = JSON.parse(JSON.stringify(optA.stateDict())) as OptimizerState;
    const copy = first.map((p) => param(p.name, [...p.data]));
    const optB = new Kind(copy, {});
    optB.loadStateDict(saved);
    expect(optB.stepCount).toBe(6);
    run(optB, copy, 6, 12);
    expect(copy.map((p) => [...p.data])).toEqual(straight.map((p) => [...p.data]));
  });

  it("a state saved before any step loads as zero moments", () => {
    const p = param("w", [1], [1]);
    const fresh = new Adam([param("w", [1])]).stateDict();
    const opt = new Adam([p]);
    opt.loadStateDict(fresh);
    opt.step();
    expect(p.data[0]).toBeCloseTo(1 - 1e-3, 6);
  });

  it("rejects a state of the other kind", () => {
    const state = new Adam([param("w", [1])]).stateDict();
    expect(() => new AdamW([param("w", [1])]).loadStateDict(state)).toThrow('kind="adam" must be "adamw"');
    const bad = { ...state, hyper: { ...state.hyper, betas: [1.5, 0.9] } } as OptimizerState;
    expect(() => new Adam([param("w", [1])]).loadStateDict(bad)).toThrow("betas[0]=1.5 must be in [0, 1)");
  });
});

describe("Adam options", () => {
  const p = () => [param("w", [1])];
  it.each([
    [{ lr: -1 }, "Adam.lr=-1 must be a finite number > 0"],
    [{ betas: [1, 0.999] }, "Adam.betas[0]=1 must be in [0, 1)"],
    [{ betas: [0.9, -0.1] }, "Adam.betas[1]=-0.1 must be in [0, 1)"],
    [{ betas: [0.9] }, "Adam.betas=[0.9] must be a pair [beta1, beta2]"],
    [{ eps: -1e-8 }, "Adam.eps=-1e-8 must be a finite number >= 0"],
    [{ weightDecay: -0.1 }, "Adam.weightDecay=-0.1 must be a finite number >= 0"],
    [{ amsgrad: "yes" }, 'Adam.amsgrad="yes" must be true or false'],
  ])("%o → %s", (options, message) => {
    expect(() => new Adam(p(), options as AdamOptions)).toThrow(message);
  });

  it("AdamW names itself in errors", () => {
    expect(() => new AdamW(p(), { lr: 0 })).toThrow("AdamW.lr=0 must be a finite number > 0");
  });
});

describe("powInt", () => {
  it("is exact where the answer is representable and matches ** to within an ulp elsewhere", () => {
    expect(powInt(0.5, 10)).toBe(2 ** -10);
    expect(powInt(3, 20)).toBe(3486784401);
    expect(powInt(0.9, 0)).toBe(1);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 100_000 }),
        (x, n) => {
          const want = x ** n;
          expect(Math.abs(powInt(x, n) - want)).toBeLessThanOrEqual(
            Math.abs(want) * 4e-16 + Number.MIN_VALUE,
          );
        },
      ),
    );
  });
});
