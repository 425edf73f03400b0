import { describe, expect, it } from "vitest";
import { backward, ParameterTensor, tensor } from "../tensor.js";
import { gradcheck } from "../testing/gradcheck.js";
import { layerNorm } from "./norm.js";

function param(shape: number[], seed = 1, spread = 0.9, offset = 0): ParameterTensor {
  const p = new ParameterTensor(`p${seed}`, shape);
  for (let i = 0; i < p.size; i++) p.data[i] = offset + Math.sin(seed * 7.13 + i * 1.7) * spread;
  return p;
}

describe("layerNorm", () => {
  it("gradients match finite differences (x, gamma, beta)", () => {
    const x = param([2, 3, 5], 1, 1.5);
    const gamma = param([5], 2, 0.5, 1);
    const beta = param([5], 3);
    expect(gradcheck(() => layerNorm(x, gamma, beta), [x, gamma, beta])).toEqual([]);
  });

  it("gradients match with a large eps and D = 2", () => {
    const x = param([4, 2], 4);
    const gamma = param([2], 5, 0.5, 1);
    const beta = param([2], 6);
    expect(gradcheck(() => layerNorm(x, gamma, beta, 0.1), [x, gamma, beta])).toEqual([]);
  });

  it("normalises each row to mean 0 and biased variance 1 before the affine map", () => {
    const x = param([3, 16], 7, 3, 2);
    const ones = tensor(new Array(16).fill(1), [16]);
    const zeros = tensor(new Array(16).fill(0), [16]);
    const y = layerNorm(x, ones, zeros, 0).data;
    for (let r = 0; r < 3; r++) {
      const row = y.subarray(r * 16, (r + 1) * 16);
      const mean = row.reduce((s, v) => s + v, 0) / 16;
      const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / 16;
      expect(mean).toBeCloseTo(0, 6);
      expect(variance).toBeCloseTo(1, 5);
    }
  });

  it("keeps full precision on rows with a large common offset", () => {
    // Values 1e4 + small deviations: a one-pass E[x²] − E[x]² in float32 would lose them all.
    const x = param([1, 8], 8, 1e-2, 1e4);
    const y = layerNorm(x, tensor(new Array(8).fill(1), [8]), tensor(new Array(8).fill(0), [8]), 0).data;
    const xs = [...x.data];
    const mean = xs.reduce((s, v) => s + v, 0) / 8;
    const std = Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / 8);
    xs.forEach((v, i) => {
      expect(y[i]).toBeCloseTo((v - mean) / std, 5);
    });
  });

  it("maps a constant row to beta, with finite gradients, and D = 1 to beta", () => {
    const x = new ParameterTensor("x", [2, 4]);
    x.data.fill(3.5);
    const gamma = param([4], 9, 0.5, 1);
    const beta = param([4], 10);
    const y = layerNorm(x, gamma, beta);
    for (let i = 0; i < 8; i++) expect(y.data[i]).toBeCloseTo(beta.data[i % 4] as number, 7);
    backward(y, Float32Array.from([1, -2, 3, 0.5, 1, 1, 1, 1]));
    expect([...x.grad, ...gamma.grad, ...beta.grad].every(Number.isFinite)).toBe(true);
    // The gradient with respect to x sums to zero in each row (adding a constant changes nothing);
    // it is large here (rstd = 1/√eps ≈ 316), so the sum is compared with the magnitudes.
    const row = x.grad.subarray(0, 4);
    const magnitude = row.reduce((s, v) => s + Math.abs(v), 0);
    expect(magnitude).toBeGreaterThan(10);
    expect(Math.abs(row.reduce((s, v) => s + v, 0))).toBeLessThan(1e-6 * magnitude);
    const single = layerNorm(tensor([7, -2], [2, 1]), tensor([3], [1]), tensor([0.25], [1]));
    expect([...single.data]).toEqual([0.25, 0.25]);
  });

  it("refuses gamma and beta that do not fit", () => {
    expect(() => layerNorm(param([2, 4]), param([3]), param([4]))).toThrow(
      /needs gamma and beta of shape \[4\]/,
    );
  });
});
