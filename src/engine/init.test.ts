import { describe, expect, it } from "vitest";
import {
  fans,
  initConv1d,
  initLayerNorm,
  initLinear,
  initMultiheadAttention,
  initPositions,
  initRecurrent,
  kaimingUniformBound,
  xavierUniformBound,
} from "./init.js";
import { Rng } from "./random.js";
import { ParameterTensor } from "./tensor.js";

const p = (shape: number[]) => new ParameterTensor("p", shape);

/**
 * Checks that `data` looks like n draws of U(−bound, bound): every value within the bound (as
 * float32 rounds it), the extremes near it, and mean and variance within 5 standard errors of 0 and
 * bound²/3 (SE of the mean b/√(3n); of the variance b²·√(4/(45n))).
 */
function expectUniform(data: Float32Array, bound: number): void {
  const n = data.length;
  let max = 0;
  let mean = 0;
  for (const v of data) {
    max = Math.max(max, Math.abs(v));
    mean += v;
  }
  mean /= n;
  let variance = 0;
  for (const v of data) variance += (v - mean) ** 2;
  variance /= n;
  expect(max).toBeLessThanOrEqual(Math.fround(bound));
  expect(max).toBeGreaterThan(bound * (1 - 20 / n));
  expect(Math.abs(mean)).toBeLessThan((5 * bound) / Math.sqrt(3 * n));
  expect(Math.abs(variance - bound ** 2 / 3)).toBeLessThan(5 * bound ** 2 * Math.sqrt(4 / (45 * n)));
}

describe("PyTorch's default initialisation distributions", () => {
  it("computes fans and bounds as torch.nn.init does", () => {
    expect(fans([64, 16])).toEqual({ fanIn: 16, fanOut: 64 });
    expect(fans([32, 16, 3])).toEqual({ fanIn: 48, fanOut: 96 });
    expect(() => fans([5])).toThrow(/at least 2 dimensions/);
    // kaiming_uniform_(a=√5) is U(±1/√fan_in) (pytorch/pytorch#57109).
    for (const fanIn of [1, 16, 48, 64, 512])
      expect(kaimingUniformBound(fanIn)).toBeCloseTo(1 / Math.sqrt(fanIn), 15);
    expect(kaimingUniformBound(64, 0)).toBeCloseTo(Math.sqrt(6 / 64), 15); // He uniform for ReLU
    expect(xavierUniformBound(64, 192)).toBeCloseTo(Math.sqrt(6 / 256), 15);
  });

  it("nn.Linear: weight and bias U(±1/√in)", () => {
    const w = p([256, 512]);
    const b = p([256]);
    initLinear(new Rng(1), w, b);
    expectUniform(w.data, 1 / Math.sqrt(512));
    expectUniform(b.data, 1 / Math.sqrt(512));
  });

  it("nn.Conv1d: fan_in is in_channels · kernel", () => {
    const w = p([64, 128, 5]);
    const b = p([64]);
    initConv1d(new Rng(3), w, b);
    expectUniform(w.data, 1 / Math.sqrt(128 * 5));
    expect(Math.max(...b.data.map(Math.abs))).toBeLessThanOrEqual(Math.fround(1 / Math.sqrt(640)));
    expect(() => initConv1d(new Rng(3), p([4, 4]))).toThrow(/\[out, in, kernel\]/);
  });

  it("nn.LSTM / nn.GRU: every parameter U(±1/√hidden)", () => {
    const hidden = 64;
    const params = [p([4 * hidden, 16]), p([4 * hidden, hidden]), p([4 * hidden]), p([4 * hidden])];
    initRecurrent(new Rng(4), hidden, params);
    const all = Float32Array.from(params.flatMap((q) => [...q.data]));
    expectUniform(all, 1 / 8);
    for (const q of params) expect(Math.max(...q.data.map(Math.abs))).toBeLessThanOrEqual(1 / 8);
  });

  it("nn.MultiheadAttention: xavier in-projection, Linear out-projection, zero biases", () => {
    const e = 128;
    const t = {
      inProjWeight: p([3 * e, e]),
      inProjBias: p([3 * e]),
      outProjWeight: p([e, e]),
      outProjBias: p([e]),
    };
    t.inProjBias.data.fill(9);
    t.outProjBias.data.fill(9);
    initMultiheadAttention(new Rng(5), t);
    expectUniform(t.inProjWeight.data, Math.sqrt(6 / (4 * e)));
    expectUniform(t.outProjWeight.data, 1 / Math.sqrt(e));
    expect(t.inProjBias.data.every((v) => v === 0)).toBe(true);
    expect(t.outProjBias.data.every((v) => v === 0)).toBe(true);
  });

  it("nn.LayerNorm: ones and zeros; learned positions: zeros", () => {
    const gamma = p([8]);
    const beta = p([8]);
    beta.data.fill(3);
    initLayerNorm(gamma, beta);
    expect([...gamma.data]).toEqual(new Array(8).fill(1));
    expect([...beta.data]).toEqual(new Array(8).fill(0));
    const pos = p([64, 64]);
    pos.data.fill(1);
    initPositions(pos);
    expect(pos.data.every((v) => v === 0)).toBe(true);
  });

  it("is reproducible from the seed", () => {
    const a = p([16, 8]);
    const b = p([16, 8]);
    initLinear(new Rng(42), a);
    initLinear(new Rng(42), b);
    expect(a.data).toEqual(b.data);
    initLinear(new Rng(43), b);
    expect(a.data).not.toEqual(b.data);
  });
});
