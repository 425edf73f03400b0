import { describe, expect, it } from "vitest";
import { Rng } from "../random.js";
import { backward, noGrad, ParameterTensor } from "../tensor.js";
import { gradcheck } from "../testing/gradcheck.js";
import { dropout } from "./dropout.js";

function param(shape: number[], seed = 1): ParameterTensor {
  const p = new ParameterTensor(`p${seed}`, shape);
  for (let i = 0; i < p.size; i++) p.data[i] = Math.sin(seed * 7.13 + i * 1.7) * 0.9 + 1.5;
  return p;
}

describe("dropout", () => {
  it("is the identity (the same tensor) when not training or p = 0", () => {
    const x = param([4, 5]);
    expect(dropout(x, 0.5, new Rng(1), false)).toBe(x);
    expect(dropout(x, 0, new Rng(1), true)).toBe(x);
  });

  it("zeroes about p of the elements and scales the rest by 1/(1 − p)", () => {
    const x = param([100_000]);
    const y = noGrad(() => dropout(x, 0.3, new Rng(2), true));
    let dropped = 0;
    for (let i = 0; i < x.size; i++) {
      const v = y.data[i] as number;
      if (v === 0) dropped++;
      else expect(v).toBeCloseTo((x.data[i] as number) / 0.7, 5);
    }
    // Binomial SE √(p(1−p)/n) ≈ 1.45e-3.
    expect(Math.abs(dropped / x.size - 0.3)).toBeLessThan(5 * 1.45e-3);
    const allDropped = dropout(x, 1, new Rng(3), true);
    expect(allDropped.data.every((v) => v === 0)).toBe(true);
  });

  it("draws its mask from the rng: same state, same mask", () => {
    const x = param([64]);
    const rng = new Rng(4);
    const state = rng.state();
    const a = dropout(x, 0.5, rng, true).data;
    const b = dropout(x, 0.5, Rng.fromState(state), true).data;
    expect(a).toEqual(b);
    expect(dropout(x, 0.5, rng, true).data).not.toEqual(a);
  });

  it("gradients match finite differences with a fixed mask", () => {
    const x = param([3, 7], 5);
    const state = new Rng(6).state();
    // A fresh generator from one saved state for every evaluation: the same mask each time.
    expect(gradcheck(() => dropout(x, 0.4, Rng.fromState(state), true), [x])).toEqual([]);
  });

  it("passes gradient only where the element was kept, scaled like the value", () => {
    const x = param([50], 7);
    const y = dropout(x, 0.25, new Rng(8), true);
    backward(y, new Float32Array(50).fill(1));
    for (let i = 0; i < 50; i++) expect(x.grad[i]).toBe(y.data[i] === 0 ? 0 : Math.fround(1 / 0.75));
  });

  it("refuses p outside [0, 1]", () => {
    expect(() => dropout(param([2]), 1.5, new Rng(1), true)).toThrow(/dropout.p=1.5 must be in \[0, 1\]/);
    expect(() => dropout(param([2]), Number.NaN, new Rng(1), false)).toThrow(/dropout.p=NaN/);
  });
});
