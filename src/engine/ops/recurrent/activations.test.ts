import { describe, expect, it } from "vitest";
import { expOf, sigmoidOf, tanhOf } from "./activations.js";

/** Largest |ours/reference − 1| over the points (reference 0 compared absolutely). */
function worstRelative(
  ours: (v: number) => number,
  reference: (v: number) => number,
  points: number[],
): number {
  let worst = 0;
  for (const v of points) {
    const r = reference(v);
    const err = r === 0 ? Math.abs(ours(v)) : Math.abs(ours(v) / r - 1);
    worst = Math.max(worst, err);
  }
  return worst;
}

const grid = Array.from({ length: 200_001 }, (_, i) => (i / 200_000 - 0.5) * 80);
const tiny = Array.from({ length: 400 }, (_, i) => 10 ** (-12 + i * 0.03)).flatMap((v) => [v, -v]);

describe("gate activations", () => {
  it("match Math.exp, the logistic function and Math.tanh far below float32 resolution", () => {
    expect(worstRelative(expOf, Math.exp, grid)).toBeLessThan(1e-11);
    expect(worstRelative(sigmoidOf, (v) => 1 / (1 + Math.exp(-v)), grid)).toBeLessThan(1e-11);
    expect(worstRelative(tanhOf, Math.tanh, grid)).toBeLessThan(1e-9);
  });

  it("keep tanh's relative accuracy near zero, where 1 − e^−2|v| would cancel", () => {
    expect(worstRelative(tanhOf, Math.tanh, tiny)).toBeLessThan(1e-9);
    expect(tanhOf(0)).toBe(0);
  });

  it("saturate without overflow and pass NaN through", () => {
    expect(sigmoidOf(1000)).toBe(1);
    expect(sigmoidOf(-1000)).toBeLessThan(1e-38);
    expect(tanhOf(1000)).toBe(1);
    expect(tanhOf(-1000)).toBe(-1);
    expect(sigmoidOf(Number.NaN)).toBeNaN();
    expect(tanhOf(Number.NaN)).toBeNaN();
  });
});
