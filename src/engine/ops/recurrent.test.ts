import { describe, expect, it } from "vitest";
import { backward, noGrad, ParameterTensor, type Tensor, tensor } from "../tensor.js";
import { gradcheck } from "../testing/gradcheck.js";
import { add, mul, reshape, scale, sigmoid, tanh } from "./elementwise.js";
import { linear } from "./linear.js";
import { gru, lstm, type RecurrentParameters } from "./recurrent.js";
import { concat, slice } from "./structure.js";

/** A trainable tensor with deterministic, varied values in [-amp, amp]. */
function param(shape: number[], seed: number, amp = 0.8): ParameterTensor {
  const p = new ParameterTensor(`p${seed}`, shape);
  for (let i = 0; i < p.size; i++) p.data[i] = Math.sin(seed * 7.13 + i * 1.7) * amp;
  return p;
}

const SMALL = { B: 2, T: 4, F: 3, H: 5 };

function weights(gates: number, F: number, H: number, seed = 100): RecurrentParameters {
  return {
    weightIh: param([gates * H, F], seed),
    weightHh: param([gates * H, H], seed + 1),
    biasIh: param([gates * H], seed + 2),
    biasHh: param([gates * H], seed + 3),
  };
}

const paramList = (p: RecurrentParameters) => [p.weightIh, p.weightHh, p.biasIh, p.biasHh];

/** Every output in one tensor, so a single backward sends gradients into all of them. */
function joined(parts: readonly Tensor[]): Tensor {
  return concat(
    parts.map((t) => reshape(t, [t.shape[0] as number, t.size / (t.shape[0] as number)])),
    1,
  );
}

// The same layers composed from the engine's primitive ops, step by step: an independent reference.
const stepInput = (x: Tensor, t: number) =>
  reshape(slice(x, 1, t, t + 1), [x.shape[0] as number, x.shape[2] as number]);
const block = (pre: Tensor, k: number, H: number) => slice(pre, 1, k * H, (k + 1) * H);
const zeros = (B: number, H: number) => tensor(new Float32Array(B * H), [B, H]);

function unfusedLstm(x: Tensor, p: RecurrentParameters, h0?: Tensor, c0?: Tensor) {
  const [B, T] = x.shape as [number, number];
  const H = p.weightHh.shape[1] as number;
  let h = h0 ?? zeros(B, H);
  let c = c0 ?? zeros(B, H);
  const steps: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const pre = add(linear(stepInput(x, t), p.weightIh, p.biasIh), linear(h, p.weightHh, p.biasHh));
    const i = sigmoid(block(pre, 0, H));
    const f = sigmoid(block(pre, 1, H));
    const g = tanh(block(pre, 2, H));
    const o = sigmoid(block(pre, 3, H));
    c = add(mul(f, c), mul(i, g));
    h = mul(o, tanh(c));
    steps.push(reshape(h, [B, 1, H]));
  }
  return { output: concat(steps, 1), h, c };
}

function unfusedGru(x: Tensor, p: RecurrentParameters, h0?: Tensor) {
  const [B, T] = x.shape as [number, number];
  const H = p.weightHh.shape[1] as number;
  let h = h0 ?? zeros(B, H);
  const steps: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const gi = linear(stepInput(x, t), p.weightIh, p.biasIh);
    const gh = linear(h, p.weightHh, p.biasHh);
    const r = sigmoid(add(block(gi, 0, H), block(gh, 0, H)));
    const z = sigmoid(add(block(gi, 1, H), block(gh, 1, H)));
    const n = tanh(add(block(gi, 2, H), mul(r, block(gh, 2, H))));
    h = add(n, mul(z, add(h, scale(n, -1))));
    steps.push(reshape(h, [B, 1, H]));
  }
  return { output: concat(steps, 1), h };
}

describe("lstm gradients match finite differences", () => {
  const { B, T, F, H } = SMALL;
  const setup = () => {
    const x = param([B, T, F], 1);
    const p = weights(4, F, H);
    const h0 = param([B, H], 2);
    const c0 = param([B, H], 3);
    return { x, p, h0, c0, all: [x, ...paramList(p), h0, c0] };
  };

  it("through output, h and c together, for x, every weight, h0 and c0", () => {
    const { x, p, h0, c0, all } = setup();
    const f = () => {
      const r = lstm(x, p, { h0, c0 });
      return joined([r.output, r.h, r.c]);
    };
    expect(gradcheck(f, all)).toEqual([]);
  });

  it.each([
    ["output", 0],
    ["h", 1],
    ["c", 2],
  ] as const)("when only %s is used", (_name, which) => {
    const { x, p, h0, c0, all } = setup();
    const f = () => {
      const r = lstm(x, p, { h0, c0 });
      return [r.output, r.h, r.c][which] as Tensor;
    };
    expect(gradcheck(f, all)).toEqual([]);
  });

  it("with zero initial state", () => {
    const { x, p } = setup();
    const f = () => {
      const r = lstm(x, p);
      return joined([r.output, r.c]);
    };
    expect(gradcheck(f, [x, ...paramList(p)])).toEqual([]);
  });
});

describe("gru gradients match finite differences", () => {
  const { B, T, F, H } = SMALL;
  const setup = () => {
    const x = param([B, T, F], 4);
    const p = weights(3, F, H, 200);
    const h0 = param([B, H], 5);
    return { x, p, h0, all: [x, ...paramList(p), h0] };
  };

  it("through output and h together, for x, every weight and h0", () => {
    const { x, p, h0, all } = setup();
    const f = () => {
      const r = gru(x, p, { h0 });
      return joined([r.output, r.h]);
    };
    expect(gradcheck(f, all)).toEqual([]);
  });

  it.each([
    ["output", 0],
    ["h", 1],
  ] as const)("when only %s is used", (_name, which) => {
    const { x, p, h0, all } = setup();
    const f = () => {
      const r = gru(x, p, { h0 });
      return [r.output, r.h][which] as Tensor;
    };
    expect(gradcheck(f, all)).toEqual([]);
  });

  it("with zero initial state", () => {
    const { x, p } = setup();
    expect(gradcheck(() => gru(x, p).output, [x, ...paramList(p)])).toEqual([]);
  });
});

describe("stacked layers", () => {
  it("pass gradients from a GRU on top into the LSTM below and its input", () => {
    const { B, T, F, H } = SMALL;
    const x = param([B, T, F], 6);
    const p1 = weights(4, F, H, 300);
    const p2 = weights(3, H, 4, 400);
    const f = () => gru(lstm(x, p1).output, p2).output;
    expect(gradcheck(f, [x, ...paramList(p1), ...paramList(p2)])).toEqual([]);
  });
});

/** Forward values and every gradient of the fused layer against the step-by-step composition. */
function compareWithUnfused(
  fused: () => Tensor[],
  unfused: () => Tensor[],
  inputs: readonly ParameterTensor[],
): void {
  const run = (f: () => Tensor[]) => {
    for (const t of inputs) t.grad.fill(0);
    const outs = f();
    const all = joined(outs);
    const seed = Float32Array.from({ length: all.size }, (_, i) => Math.cos(i * 0.37));
    backward(all, seed);
    return { values: Array.from(all.data), grads: inputs.map((t) => Array.from(t.grad)) };
  };
  const a = run(fused);
  const b = run(unfused);
  a.values.forEach((v, i) => {
    expect(v).toBeCloseTo(b.values[i] as number, 5);
  });
  a.grads.forEach((g, k) => {
    g.forEach((v, i) => {
      expect(v, `input ${k} element ${i}`).toBeCloseTo(b.grads[k]?.[i] as number, 4);
    });
  });
}

describe("fused layers equal the same layer composed from primitive ops", () => {
  const [B, T, F, H] = [3, 6, 4, 7];
  it("lstm", () => {
    const x = param([B, T, F], 7);
    const p = weights(4, F, H, 500);
    const h0 = param([B, H], 8);
    const c0 = param([B, H], 9);
    const all = [x, ...(paramList(p) as ParameterTensor[]), h0, c0];
    const pick = (r: { output: Tensor; h: Tensor; c: Tensor }) => [r.output, r.h, r.c];
    compareWithUnfused(
      () => pick(lstm(x, p, { h0, c0 })),
      () => pick(unfusedLstm(x, p, h0, c0)),
      all,
    );
  });

  it("gru", () => {
    const x = param([B, T, F], 10);
    const p = weights(3, F, H, 600);
    const h0 = param([B, H], 11);
    const all = [x, ...(paramList(p) as ParameterTensor[]), h0];
    const pick = (r: { output: Tensor; h: Tensor }) => [r.output, r.h];
    compareWithUnfused(
      () => pick(gru(x, p, { h0 })),
      () => pick(unfusedGru(x, p, h0)),
      all,
    );
  });
});

describe("a single step, by hand", () => {
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const scalars = (values: number[]) => tensor(values, [values.length]);

  it("lstm: B = T = F = H = 1", () => {
    // Pre-activations a = W_ih·x + b_ih + W_hh·h0 + b_hh per gate, with x = 2, h0 = 0.5, c0 = −1.
    const p: RecurrentParameters = {
      weightIh: tensor([0.5, -0.25, 1, 0.1], [4, 1]),
      weightHh: tensor([0.2, 0.4, -0.6, 1], [4, 1]),
      biasIh: scalars([0.1, 0.2, 0.3, -0.4]),
      biasHh: scalars([-0.1, 0, 0.05, 0.2]),
    };
    const r = lstm(tensor([2], [1, 1, 1]), p, { h0: tensor([0.5], [1, 1]), c0: tensor([-1], [1, 1]) });
    const i = sig(1 + 0.1 + 0.1 - 0.1);
    const f = sig(-0.5 + 0.2 + 0.2);
    const g = Math.tanh(2 + -0.3 + 0.3 + 0.05);
    const o = sig(0.2 + 0.5 - 0.4 + 0.2);
    const c = f * -1 + i * g;
    expect(r.c.item()).toBeCloseTo(c, 6);
    expect(r.h.item()).toBeCloseTo(o * Math.tanh(c), 6);
    expect(r.output.data[0]).toBeCloseTo(o * Math.tanh(c), 6);
  });

  it("gru: B = T = F = H = 1", () => {
    const p: RecurrentParameters = {
      weightIh: tensor([0.5, -0.25, 1], [3, 1]),
      weightHh: tensor([0.2, 0.4, -0.6], [3, 1]),
      biasIh: scalars([0.1, 0.2, 0.3]),
      biasHh: scalars([-0.1, 0, 0.05]),
    };
    const r = gru(tensor([2], [1, 1, 1]), p, { h0: tensor([0.5], [1, 1]) });
    const rg = sig(1 + 0.1 + 0.1 - 0.1);
    const z = sig(-0.5 + 0.2 + 0.2);
    const n = Math.tanh(2 + 0.3 + rg * (-0.3 + 0.05));
    expect(r.h.item()).toBeCloseTo((1 - z) * n + z * 0.5, 6);
    expect(r.output.data[0]).toBeCloseTo(r.h.item(), 7);
  });
});

describe("recurrent layers, mechanics", () => {
  it("build no graph under noGrad and compute the same values", () => {
    const x = param([2, 5, 3], 12);
    const p = weights(4, 3, 4, 700);
    const withGraph = lstm(x, p);
    const plain = noGrad(() => lstm(x, p));
    expect(withGraph.output.requiresGrad).toBe(true);
    expect(plain.output.requiresGrad).toBe(false);
    expect(plain.h.parents).toEqual([]);
    expect(Array.from(plain.output.data)).toEqual(Array.from(withGraph.output.data));
    expect(Array.from(plain.c.data)).toEqual(Array.from(withGraph.c.data));
    const q = weights(3, 3, 4, 800);
    expect(Array.from(noGrad(() => gru(x, q)).h.data)).toEqual(Array.from(gru(x, q).h.data));
  });

  it("put the last step of output in h", () => {
    const x = param([3, 4, 2], 13);
    const r = gru(x, weights(3, 2, 5, 900));
    for (let b = 0; b < 3; b++) {
      for (let j = 0; j < 5; j++) expect(r.output.data[(b * 4 + 3) * 5 + j]).toBe(r.h.data[b * 5 + j]);
    }
  });

  it("add into existing gradients rather than overwrite them", () => {
    const x = param([2, 3, 2], 16);
    const p = weights(4, 2, 3, 1100);
    const h0 = param([2, 3], 17);
    const seed = new Float32Array(6).fill(1);
    backward(lstm(x, p, { h0 }).h, seed);
    const once = [x, h0, ...paramList(p)].map((t) => Array.from(t.grad ?? []));
    backward(lstm(x, p, { h0 }).h, seed);
    [x, h0, ...paramList(p)].forEach((t, k) => {
      Array.from(t.grad ?? []).forEach((v, i) => {
        expect(v).toBeCloseTo(2 * (once[k]?.[i] as number), 6);
      });
    });
  });

  it("refuse a second backward through the same forward pass", () => {
    const x = param([1, 2, 2], 14);
    const r = lstm(x, weights(4, 2, 3, 1000));
    backward(r.h, new Float32Array(3).fill(1));
    expect(() => backward(r.h, new Float32Array(3).fill(1))).toThrow(/backward ran twice/);
  });

  it("refuse shapes that do not fit, naming the tensor and the rule", () => {
    const x = param([2, 3, 4], 15);
    expect(() => lstm(x, weights(4, 5, 6))).toThrow(
      "lstm: weightIh has shape [24, 5] but must be [24, 4] ([4·H, F] with F = 4 from x)",
    );
    expect(() => gru(x, weights(4, 4, 6))).toThrow("gru: weightHh has shape [24, 6] but must be [18, 6]");
    const p = { ...weights(3, 4, 6), biasHh: param([6], 1) };
    expect(() => gru(x, p)).toThrow(
      "gru: biasHh has shape [6] but must be [18] (3·H with H = 6 from weightHh)",
    );
    expect(() => lstm(x, weights(4, 4, 6), { c0: param([3, 6], 1) })).toThrow(
      "lstm: c0 has shape [3, 6] but must be [2, 6] ([B, H])",
    );
    expect(() => gru(param([2, 4], 1), weights(3, 4, 6))).toThrow(
      "gru: x has shape [2, 4] but must be [B, T, F]",
    );
  });
});
