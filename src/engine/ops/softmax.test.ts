import { describe, expect, it } from "vitest";
import { backward, ParameterTensor, tensor } from "../tensor.js";
import { gradcheck } from "../testing/gradcheck.js";
import { expNonPositive, softmax } from "./softmax.js";

function param(shape: number[], seed = 1, spread = 2): ParameterTensor {
  const p = new ParameterTensor(`p${seed}`, shape);
  for (let i = 0; i < p.size; i++) p.data[i] = Math.sin(seed * 7.13 + i * 1.7) * spread;
  return p;
}

describe("softmax", () => {
  it.each([
    ["last axis", [3, 5], -1],
    ["over time, one feature", [2, 5, 1], 1],
    ["over time, three features (strided)", [2, 4, 3], 1],
    ["first axis", [4, 3], 0],
  ] as const)("gradients match finite differences: %s", (_name, shape, axis) => {
    const x = param([...shape], shape.length);
    expect(gradcheck(() => softmax(x, axis), [x])).toEqual([]);
  });

  it("sums to 1 along the axis and agrees between the strided and contiguous paths", () => {
    const x = param([2, 4, 3], 3);
    const y = softmax(x, 1);
    for (let b = 0; b < 2; b++) {
      for (let f = 0; f < 3; f++) {
        let s = 0;
        for (let t = 0; t < 4; t++) s += y.data[(b * 4 + t) * 3 + f] as number;
        expect(s).toBeCloseTo(1, 6);
      }
    }
    // The same column as a contiguous row.
    const column = tensor(
      [0, 1, 2, 3].map((t) => x.data[t * 3 + 2] as number),
      [4],
    );
    const expected = softmax(column, 0).data;
    [0, 1, 2, 3].forEach((t) => {
      expect(y.data[t * 3 + 2]).toBeCloseTo(expected[t] as number, 7);
    });
  });

  it("is stable for huge logits and shift-invariant", () => {
    const y = softmax(tensor([1000, 1001, 1002, -1000], [4]), 0).data;
    const z = softmax(tensor([0, 1, 2, -2000], [4]), 0).data;
    expect(y.every(Number.isFinite)).toBe(true);
    for (let i = 0; i < 4; i++) expect(y[i]).toBeCloseTo(z[i] as number, 7);
    expect(y[3]).toBe(0);
    expect([...softmax(tensor([5, 5, 5, 5], [1, 4]), 1).data]).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect([...softmax(tensor([-3], [1]), 0).data]).toEqual([1]);
  });

  it("gives −∞ logits zero probability and zero gradient", () => {
    const x = new ParameterTensor("x", [3]);
    x.data.set([0.5, Number.NEGATIVE_INFINITY, -0.5]);
    const y = softmax(x, 0);
    expect(y.data[1]).toBe(0);
    backward(y, Float32Array.from([1, 2, 3]));
    expect(x.grad[1]).toBe(0);
    expect([...x.grad].every(Number.isFinite)).toBe(true);
    expect((x.grad[0] as number) + (x.grad[2] as number)).toBeCloseTo(0, 7);
  });

  it("refuses an axis out of range", () => {
    expect(() => softmax(tensor([1, 2], [2]), 1)).toThrow(/axis 1 is out of range/);
  });

  it("uses an exp that agrees with Math.exp to 1e-8 relative on (−104, 0]", () => {
    let worst = 0;
    for (let i = 0; i <= 200_000; i++) {
      const x = -104 * (i / 200_000) ** 2; // denser near 0, where softmax values live
      worst = Math.max(worst, Math.abs(expNonPositive(x) - Math.exp(x)) / Math.exp(x));
    }
    expect(worst).toBeLessThan(1e-8);
    expect(expNonPositive(0)).toBe(1);
    expect(expNonPositive(-105)).toBe(0);
    expect(expNonPositive(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(expNonPositive(Number.NaN)).toBeNaN();
  });
});
