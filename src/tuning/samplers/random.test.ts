import { describe, expect, it } from "vitest";
import { Rng } from "../../engine/random.js";
import {
  categoricalDistribution,
  contains,
  floatDistribution,
  intDistribution,
  toInternal,
} from "../distributions.js";
import { Study } from "../study.js";
import type { Distribution } from "../types.js";
import { RandomSampler, sampleUniform } from "./random.js";

const draw = (d: Distribution, n = 4000, seed = 1) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => sampleUniform(rng, d));
};

describe("RandomSampler", () => {
  it("samples floats, log floats and stepped floats inside the distribution", () => {
    const log = floatDistribution(1e-4, 1, { log: true });
    const xs = draw(log) as number[];
    expect(xs.every((x) => contains(log, x))).toBe(true);
    // Log-uniform: about a quarter of the mass in each decade.
    expect(xs.filter((x) => x < 1e-3).length / xs.length).toBeCloseTo(0.25, 1);
    const stepped = floatDistribution(0, 1, { step: 0.25 });
    const ys = draw(stepped) as number[];
    expect(new Set(ys)).toEqual(new Set([0, 0.25, 0.5, 0.75, 1]));
  });

  it("samples ints inclusive of both ends, on the step grid, and log ints", () => {
    expect(new Set(draw(intDistribution(1, 3)))).toEqual(new Set([1, 2, 3]));
    expect(new Set(draw(intDistribution(0, 9, { step: 3 })))).toEqual(new Set([0, 3, 6, 9]));
    const logInts = draw(intDistribution(1, 100, { log: true })) as number[];
    expect(logInts.every((x) => Number.isInteger(x) && x >= 1 && x <= 100)).toBe(true);
    expect(logInts.filter((x) => x <= 10).length / logInts.length).toBeGreaterThan(0.4);
  });

  it("samples every categorical choice", () => {
    const c = categoricalDistribution(["a", null, false]);
    const seen = draw(c, 300);
    expect(new Set(seen)).toEqual(new Set(["a", null, false]));
    expect(seen.every((v) => contains(c, toInternal(c, v)))).toBe(true);
  });

  it("is reproducible with a seed", async () => {
    const run = async () => {
      const study = await Study.create({ sampler: new RandomSampler({ seed: 7 }) });
      await study.optimize(async (t) => (await t.suggestFloat("x", -1, 1)) ** 2, { nTrials: 5 });
      return (await study.trials).map((t) => t.params.x);
    };
    expect(await run()).toEqual(await run());
  });

  it("finds branin < 2 within 200 trials", async () => {
    const study = await Study.create({ sampler: new RandomSampler({ seed: 42 }) });
    await study.optimize(
      async (t) => {
        const x = await t.suggestFloat("x", -5, 10);
        const y = await t.suggestFloat("y", 0, 15);
        const b = 5.1 / (4 * Math.PI ** 2);
        const c = 5 / Math.PI;
        return (y - b * x ** 2 + c * x - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x) + 10;
      },
      { nTrials: 200 },
    );
    expect(await study.bestValue).toBeLessThan(2);
  });
});
