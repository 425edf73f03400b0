import { describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../bench/tune-bench.js";
import { InMemoryStorage } from "../storages/memory.js";
import { Study } from "../study.js";
import type { Trial } from "../trial.js";
import type { Sampler } from "../types.js";
import { RandomSampler } from "./random.js";
import { TPESampler } from "./tpe.js";
import { erfc, logGaussMass, logNdtr, ndtriExp, truncnormPpf } from "./tpe-math.js";

type Objective = (t: Trial) => Promise<number>;

async function run(sampler: Sampler, fn: Objective, nTrials: number): Promise<Study> {
  const study = await Study.create({ storage: new InMemoryStorage(), sampler, onWarning: () => {} });
  await study.optimize(fn, { nTrials });
  return study;
}

async function best(sampler: Sampler, fn: Objective, nTrials: number): Promise<number> {
  const trials = await (await run(sampler, fn, nTrials)).getTrials(["COMPLETE"]);
  return Math.min(...trials.map((t) => t.values?.[0] as number));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

describe("truncated-normal numerics", () => {
  it("match scipy/Optuna values, tails included", () => {
    // Reference values from Python's math.erfc and optuna.samplers._tpe._truncnorm.
    expect(erfc(-1)).toBeCloseTo(1.842700792949715, 14);
    expect(erfc(9) / 4.13703174651381e-37).toBeCloseTo(1, 12);
    expect(logNdtr(-40)).toBeCloseTo(-804.6084420137538, 9);
    expect(logNdtr(5)).toBeCloseTo(-2.866516130081049e-7, 15);
    expect(logGaussMass(-1, 2)).toBeCloseTo(-0.200166294, 8);
    expect(logGaussMass(-50, -49)).toBeCloseTo(-1205.31117, 4);
    expect(truncnormPpf(0.3, -1, 2, logGaussMass(-1, 2))).toBeCloseTo(-0.24240382, 7);
    expect(truncnormPpf(0.3, 1, 2, logGaussMass(1, 2))).toBeCloseTo(1.18563257, 7);
    for (const x of [-30, -3, 0.2, 4]) expect(ndtriExp(logNdtr(x))).toBeCloseTo(x, 8);
  });
});

describe("TPESampler", () => {
  it("is deterministic for a seed", async () => {
    const params = async (seed: number) =>
      (await (await run(new TPESampler({ seed }), FUNCTIONS.mixed as Objective, 30)).getTrials()).map(
        (t) => t.params,
      );
    const a = await params(7);
    expect(await params(7)).toEqual(a);
    expect(await params(8)).not.toEqual(a);
  });

  it("keeps log, int, stepped and categorical values in their spaces", async () => {
    for (const multivariate of [true, false]) {
      const study = await run(
        new TPESampler({ seed: 3, multivariate, nStartupTrials: 5 }),
        async (t) => {
          const lr = await t.suggestFloat("lr", 1e-5, 1e-1, { log: true });
          const n = await t.suggestInt("n", 2, 64, { log: true });
          const k = await t.suggestInt("k", 0, 30, { step: 3 });
          const q = await t.suggestFloat("q", 0, 1, { step: 0.25 });
          const c = await t.suggestCategorical("c", ["a", "b", "c"]);
          return (
            (Math.log10(lr) + 2) ** 2 + (n - 10) ** 2 / 100 + (k - 12) ** 2 / 100 + q + (c === "b" ? 0 : 30)
          );
        },
        40,
      );
      for (const t of await study.getTrials()) {
        const { lr, n, k, q, c } = t.params as { lr: number; n: number; k: number; q: number; c: string };
        expect(lr).toBeGreaterThanOrEqual(1e-5);
        expect(lr).toBeLessThanOrEqual(1e-1);
        expect(Number.isInteger(n) && n >= 2 && n <= 64).toBe(true);
        expect(k % 3 === 0 && k >= 0 && k <= 30).toBe(true);
        expect([0, 0.25, 0.5, 0.75, 1]).toContain(q);
        expect(["a", "b", "c"]).toContain(c);
      }
      const late = (await study.getTrials()).slice(20);
      // The categorical with the best value should dominate once TPE models it.
      expect(late.filter((t) => t.params.c === "b").length).toBeGreaterThan(late.length / 2);
    }
  });

  it("beats random sampling on branin and hartmann6 (median best of 3 seeds, 100 trials)", async () => {
    for (const name of ["branin", "hartmann6"]) {
      const fn = FUNCTIONS[name] as Objective;
      const tpe: number[] = [];
      const random: number[] = [];
      for (let seed = 0; seed < 3; seed++) {
        tpe.push(await best(new TPESampler({ seed }), fn, 100));
        random.push(await best(new RandomSampler({ seed }), fn, 100));
      }
      expect(median(tpe), name).toBeLessThan(median(random));
    }
  });

  it("with constantLiar spreads suggestions across RUNNING trials", async () => {
    const spread = async (constantLiar: boolean, multivariate: boolean): Promise<number> => {
      const sampler = new TPESampler({ seed: 11, constantLiar, multivariate });
      const study = await run(sampler, async (t) => ((await t.suggestFloat("x", 0, 1)) - 0.3) ** 2, 20);
      const xs: number[] = [];
      for (let i = 0; i < 8; i++) xs.push(await (await study.ask()).suggestFloat("x", 0, 1));
      let total = 0;
      for (const a of xs) for (const b of xs) total += Math.abs(a - b);
      return total / (xs.length * xs.length);
    };
    for (const multivariate of [true, false]) {
      expect(await spread(true, multivariate)).toBeGreaterThan(1.5 * (await spread(false, multivariate)));
    }
  });

  it("validates the local-candidate options, and nLocalCandidates 0 is Optuna's candidate set", async () => {
    expect(() => new TPESampler({ nLocalCandidates: -1 })).toThrow(/nLocalCandidates/);
    expect(() => new TPESampler({ nLocalCandidates: 1.5 })).toThrow(/nLocalCandidates/);
    expect(() => new TPESampler({ localBandwidth: 0 })).toThrow(/localBandwidth/);
    expect(() => new TPESampler({ localBandwidth: 1.5 })).toThrow(/localBandwidth/);
    const params = async (nLocalCandidates: number) =>
      (
        await (
          await run(new TPESampler({ seed: 5, nLocalCandidates }), FUNCTIONS.branin as Objective, 20)
        ).getTrials()
      ).map((t) => t.params);
    const plain = await params(0);
    // Same random startup trials, different TPE proposals once local candidates join the ranking.
    const local = await params(24);
    expect(local.slice(0, 5)).toEqual(plain.slice(0, 5));
    expect(local.slice(5)).not.toEqual(plain.slice(5));
  });

  it("refuses multi-objective studies with a hint", async () => {
    const study = await Study.create({
      directions: ["minimize", "minimize"],
      sampler: new TPESampler({ seed: 0, nStartupTrials: 1 }),
      onWarning: () => {},
    });
    await study.optimize(async (t) => [await t.suggestFloat("x", 0, 1), 1], { nTrials: 1 });
    await expect(
      study.optimize(async (t) => [await t.suggestFloat("x", 0, 1), 1], { nTrials: 1 }),
    ).rejects.toThrow(/single-objective/);
  });
});
