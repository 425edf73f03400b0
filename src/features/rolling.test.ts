import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { rollingMoments } from "./rolling.js";

/** Straightforward two-pass moments of one window, the definition the rolling version must reproduce. */
function twoPass(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const m2 = values.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, std: Math.sqrt(m2 / values.length) };
}

describe("rollingMoments", () => {
  it("gives the population mean and std of each trailing window, NaN before the first full one", () => {
    const { mean, std } = rollingMoments(Float64Array.from([1, 2, 3, 6]), 3);
    expect(mean[0]).toBeNaN();
    expect(std[1]).toBeNaN();
    expect(mean[2]).toBeCloseTo(2, 15);
    expect(std[2]).toBeCloseTo(Math.sqrt(2 / 3), 15);
    expect(mean[3]).toBeCloseTo(11 / 3, 14);
    expect(std[3]).toBeCloseTo(Math.sqrt(26) / 3, 14);
  });

  it("returns all NaN for a series shorter than the window", () => {
    const { mean, std } = rollingMoments(Float64Array.from([1, 2]), 3);
    expect([...mean, ...std].every(Number.isNaN)).toBe(true);
  });

  it("reports std exactly 0 for a flat window, even after varied values", () => {
    const { std } = rollingMoments(Float64Array.from([0.1, 0.7, 0.3, 0.3, 0.3, 0.3, 0.9]), 4);
    expect(std[5]).toBe(0);
    expect(std[6]).toBeGreaterThan(0);
  });

  it("makes exactly the windows holding a NaN NaN, and recovers after it leaves", () => {
    const { std } = rollingMoments(Float64Array.from([1, 2, 3, Number.NaN, 5, 6, 7, 8, 9]), 3);
    expect([...std].map(Number.isFinite)).toEqual([
      false,
      false,
      true,
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
    expect(std[8]).toBeCloseTo(Math.sqrt(2 / 3), 14);
  });

  it("matches the two-pass definition on arbitrary data", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 12 }),
        (values, window) => {
          const { mean, std } = rollingMoments(Float64Array.from(values), window);
          for (let t = window - 1; t < values.length; t++) {
            const expected = twoPass(values.slice(t - window + 1, t + 1));
            expect(Math.abs((mean[t] as number) - expected.mean)).toBeLessThanOrEqual(1e-9);
            expect(Math.abs((std[t] as number) - expected.std)).toBeLessThanOrEqual(1e-9);
          }
        },
      ),
    );
  });

  it("stays accurate over a long series of large values with small variation (no drift)", () => {
    // Prices near 1e6 moving by cents: sums of squares would lose ~12 of 16 digits here.
    let state = 12345;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const values = Float64Array.from({ length: 50_000 }, () => 1e6 + random());
    const window = 48;
    const { std } = rollingMoments(values, window);
    let worst = 0;
    for (let t = window - 1; t < values.length; t += 97) {
      const expected = twoPass([...values.subarray(t - window + 1, t + 1)]).std;
      worst = Math.max(worst, Math.abs((std[t] as number) - expected) / expected);
    }
    expect(worst).toBeLessThan(1e-8);
  });
});
