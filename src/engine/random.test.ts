import { afterEach, describe, expect, it, vi } from "vitest";
import { Rng, type RngState } from "./random.js";

/** First outputs of the reference C implementation (xoshiro128starstar.c) from state {1, 2, 3, 4}. */
const REFERENCE = [11520, 0, 5927040, 70819200, 2031721883, 1637235492];
/** The next four outputs after those six and one jump() (same C program). */
const AFTER_JUMP = [2327035934, 1140626159, 913312880, 2049367984];

function moments(values: ArrayLike<number>) {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i] as number;
  mean /= values.length;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < values.length; i++) {
    const d = (values[i] as number) - mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  m2 /= values.length;
  m4 /= values.length;
  return { mean, variance: m2, kurtosis: m4 / (m2 * m2) };
}

describe("Rng", () => {
  afterEach(() => vi.restoreAllMocks());

  it("is xoshiro128**, bit for bit, including jump()", () => {
    const rng = Rng.fromState({ kind: "xoshiro128**", s: [1, 2, 3, 4], spare: null });
    expect(REFERENCE.map(() => rng.uint32())).toEqual(REFERENCE);
    rng.jump();
    expect(AFTER_JUMP.map(() => rng.uint32())).toEqual(AFTER_JUMP);
  });

  it("gives equal streams for equal seeds and unrelated ones otherwise", () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 8 }, () => rng.uint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(-1)).not.toEqual(draw(2 ** 32 - 1));
    expect(draw(2 ** 40)).not.toEqual(draw(0));
    expect(() => new Rng(1.5)).toThrow(/Rng.seed=1.5 must be a safe integer/);
  });

  it("resumes exactly from a JSON round trip of state(), even between the two normals of a pair", () => {
    const rng = new Rng(7);
    rng.normal();
    rng.normal();
    rng.uniform();
    rng.normal(); // leaves the pair's second normal pending
    const saved = JSON.parse(JSON.stringify(rng.state())) as RngState;
    expect(saved.spare).not.toBeNull();
    const expected = [rng.normal(), rng.normal(), rng.uniform(), rng.int(1000)];
    const resumed = Rng.fromState(saved);
    expect([resumed.normal(), resumed.normal(), resumed.uniform(), resumed.int(1000)]).toEqual(expected);
    const other = new Rng(1);
    other.setState(saved);
    expect(other.normal()).toBe(expected[0]);
  });

  it("refuses states it cannot continue", () => {
    const rng = new Rng(1);
    const bad = [
      { kind: "xoshiro128**", s: [0, 0, 0, 0], spare: null },
      { kind: "xoshiro128**", s: [1, 2, 3], spare: null },
      { kind: "xoshiro128**", s: [1, 2, 3, 2 ** 32], spare: null },
      { kind: "pcg32", s: [1, 2, 3, 4], spare: null },
      { kind: "xoshiro128**", s: [1, 2, 3, 4], spare: Number.NaN },
    ];
    for (const state of bad)
      expect(() => rng.setState(state as unknown as RngState)).toThrow(/not an xoshiro128\*\* state/);
  });

  it("draws uniforms in [low, high) with the moments of U(0, 1)", () => {
    const rng = new Rng(3);
    const n = 200_000;
    const values = new Float64Array(n);
    rng.fillUniform(values, 0, 1);
    expect(values.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(0);
    expect(values.reduce((a, b) => Math.max(a, b))).toBeLessThan(1);
    const m = moments(values);
    // Standard errors: mean 1/√(12n) ≈ 6.5e-4, variance ≈ 1.9e-4.
    expect(Math.abs(m.mean - 0.5)).toBeLessThan(5 * 6.5e-4);
    expect(Math.abs(m.variance - 1 / 12)).toBeLessThan(5 * 1.9e-4);
    for (let i = 0; i < 1000; i++) {
      const u = rng.uniform(-2, 3);
      expect(u >= -2 && u < 3).toBe(true);
    }
  });

  it("draws normals with mean 0, variance 1 and kurtosis 3", () => {
    const rng = new Rng(11);
    const values = new Float64Array(200_000);
    rng.fillNormal(values);
    const m = moments(values);
    // Standard errors: mean 1/√n ≈ 2.2e-3, variance √(2/n) ≈ 3.2e-3, kurtosis √(24/n) ≈ 0.011.
    expect(Math.abs(m.mean)).toBeLessThan(5 * 2.2e-3);
    expect(Math.abs(m.variance - 1)).toBeLessThan(5 * 3.2e-3);
    expect(Math.abs(m.kurtosis - 3)).toBeLessThan(5 * 0.011);
    // The tails are there: P(|z| > 3) ≈ 0.0027.
    const tail = values.filter((v) => Math.abs(v) > 3).length / values.length;
    expect(tail).toBeGreaterThan(0.002);
    expect(tail).toBeLessThan(0.0035);
    expect(new Rng(1).normal(10, 0)).toBe(10);
  });

  it("draws integers uniformly in [0, n) and shuffles into permutations", () => {
    const rng = new Rng(5);
    const counts = new Array<number>(6).fill(0);
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      const k = rng.int(6);
      counts[k] = (counts[k] as number) + 1;
    }
    // χ² with 5 degrees of freedom: P(χ² > 20.5) ≈ 0.001.
    const chi2 = counts.reduce((s, c) => s + (c - n / 6) ** 2 / (n / 6), 0);
    expect(chi2).toBeLessThan(20.5);
    expect(rng.int(1)).toBe(0);
    const big = rng.int(2 ** 32);
    expect(big >= 0 && big < 2 ** 32 && Number.isInteger(big)).toBe(true);
    expect(() => rng.int(0)).toThrow(/Rng.int\(n=0\)/);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = rng.shuffle([...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
  });

  it("never uses Math.random", () => {
    const spy = vi.spyOn(Math, "random");
    const rng = new Rng(9);
    rng.uniform();
    rng.normal();
    rng.int(10);
    rng.shuffle([1, 2, 3]);
    rng.fillNormal(new Float32Array(10));
    rng.jump();
    expect(spy).not.toHaveBeenCalled();
  });
});
