import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Parameter } from "../parameter.js";
import { clipGradNorm, NonFiniteGradNormError } from "./clip-grad.js";

const f = Math.fround;

function withGrad(name: string, grad: number[]): Parameter {
  return { name, shape: [grad.length], data: new Float32Array(grad.length), grad: Float32Array.from(grad) };
}

/** torch's clip coefficient in float32: reciprocal(total + 1e-6) · maxNorm, clamped to 1. */
function coefficient(total: number, maxNorm: number): number {
  return Math.min(1, f(f(1 / f(total + f(1e-6))) * f(maxNorm)));
}

describe("clipGradNorm", () => {
  it("returns the global 2-norm over all parameters and scales to maxNorm", () => {
    const a = withGrad("a", [3, 0]);
    const b = withGrad("b", [0, 4]);
    const total = clipGradNorm([a, b], 1);
    expect(total).toBe(5);
    const c = coefficient(5, 1);
    expect([...a.grad, ...b.grad]).toEqual([f(3 * c), 0, 0, f(4 * c)]);
    expect(Math.hypot(...a.grad, ...b.grad)).toBeCloseTo(1, 5);
  });

  it("leaves gradients alone when the norm is within maxNorm", () => {
    const a = withGrad("a", [0.3, -0.4]);
    expect(clipGradNorm([a], 1)).toBeCloseTo(0.5, 7);
    expect([...a.grad]).toEqual([f(0.3), f(-0.4)]);
    // At exactly maxNorm the +1e-6 keeps the coefficient below 1 only if it rounds so; torch multiplies anyway.
    const b = withGrad("b", [1]);
    clipGradNorm([b], 1);
    expect(b.grad[0]).toBe(f(1 * coefficient(1, 1)));
  });

  it("the total is the norm of the per-parameter norms", () => {
    const params = [withGrad("a", [1, 2, 2]), withGrad("b", [6]), withGrad("c", [0, 0])];
    // norms 3, 6, 0 → sqrt(9 + 36)
    expect(clipGradNorm(params, 100)).toBe(f(Math.sqrt(45)));
  });

  it("supports the 1-norm, the infinity norm and general p", () => {
    expect(clipGradNorm([withGrad("a", [1, -2]), withGrad("b", [3])], 100, 1)).toBe(6);
    expect(clipGradNorm([withGrad("a", [1, -7]), withGrad("b", [3])], 100, Infinity)).toBe(7);
    expect(clipGradNorm([withGrad("a", [2, 2]), withGrad("b", [0])], 100, 3)).toBeCloseTo(16 ** (1 / 3), 6);
    const a = withGrad("a", [4, -8]);
    clipGradNorm([a], 2, Infinity);
    const c = coefficient(8, 2);
    expect([...a.grad]).toEqual([f(4 * c), f(-8 * c)]);
  });

  it("a non-finite norm is returned without scaling, or thrown when asked", () => {
    const a = withGrad("a", [1, Number.NaN]);
    expect(clipGradNorm([a], 1)).toBeNaN();
    expect(a.grad[0]).toBe(1);
    const b = withGrad("b", [Infinity, 2]);
    expect(clipGradNorm([b], 1)).toBe(Infinity);
    expect([...b.grad]).toEqual([Infinity, 2]);
    expect(clipGradNorm([withGrad("c", [Number.NaN, 5])], 1, Infinity)).toBeNaN();
    expect(() => clipGradNorm([b], 1, 2, { errorIfNonfinite: true })).toThrow(NonFiniteGradNormError);
    expect(() => clipGradNorm([b], 1, 2, { errorIfNonfinite: true })).toThrow(
      "the total gradient norm of order 2 is Infinity",
    );
  });

  it("sums in float64: only a norm beyond the float32 range is Infinity", () => {
    expect(clipGradNorm([withGrad("a", [3e38, 3e38])], 1)).toBe(Infinity);
    // torch's float32 accumulation overflows here (1e20² > 3.4e38) and reports inf; we clip.
    const a = withGrad("a", [1e20, 1e20]);
    expect(clipGradNorm([a], 1)).toBe(f(Math.SQRT2 * 1e20));
    expect(Math.hypot(...a.grad)).toBeCloseTo(1, 5);
  });

  it("sums the 1-norm in float32, in order, as torch's CPU reduction does", () => {
    const x = f(0.4 * 2 ** -23); // 0.4 ulp of 1: each addition alone rounds away, the float64 sum would not
    expect(clipGradNorm([withGrad("a", [1, x, x])], 100, 1)).toBe(1);
  });

  it("no parameters: norm 0", () => {
    expect(clipGradNorm([], 1)).toBe(0);
  });

  it("maxNorm = Infinity only measures", () => {
    const a = withGrad("a", [1e3]);
    expect(clipGradNorm([a], Infinity)).toBe(1000);
    expect(a.grad[0]).toBe(1000);
  });

  it("validates maxNorm and normType", () => {
    const a = [withGrad("a", [1])];
    expect(() => clipGradNorm(a, 0)).toThrow("clipGradNorm.maxNorm=0 must be > 0");
    expect(() => clipGradNorm(a, Number.NaN)).toThrow("clipGradNorm.maxNorm=NaN must be > 0");
    expect(() => clipGradNorm(a, 1, 0)).toThrow("clipGradNorm.normType=0 must be > 0 or Infinity");
    expect(() => clipGradNorm(a, 1, -Infinity)).toThrow("normType=-Infinity");
  });

  it("after clipping the norm is at most maxNorm (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.float({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 20 }), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.float({ min: Math.fround(1e-3), max: 100, noNaN: true }),
        (grads, maxNorm) => {
          const params = grads.map((g, i) => withGrad(`p${i}`, g));
          const before = clipGradNorm(params, maxNorm);
          const after = Math.hypot(...params.flatMap((p) => [...p.grad]));
          expect(after).toBeLessThanOrEqual(Math.max(maxNorm, 0) * (1 + 1e-5) + 1e-6);
          if (before <= maxNorm * 0.99) expect(after).toBeCloseTo(before, 3);
        },
      ),
    );
  });
});
