import { describe, expect, it } from "vitest";
import { Rng } from "../engine/random.js";
import { ensembleCandidates } from "./ensemble.js";
import { blendPredictions, type FoldPredictions, greedyEnsembleSelection } from "./ensemble-weights.js";
import type { FrozenTrial } from "./types.js";

/** Random predictions: `folds` folds of `rows` values in [-1, 1). */
function noise(rng: Rng, folds: number, rows: number): Float32Array[] {
  return Array.from({ length: folds }, () =>
    Float32Array.from({ length: rows }, () => rng.uniform() * 2 - 1),
  );
}

/** Mean over folds of the MSE against `target`. */
const mseAgainst = (target: readonly Float32Array[]) => (blend: readonly Float32Array[]) =>
  blend.reduce((total, fold, k) => {
    const t = target[k] as Float32Array;
    let sum = 0;
    for (let j = 0; j < fold.length; j++) sum += ((fold[j] as number) - (t[j] as number)) ** 2;
    return total + sum / fold.length;
  }, 0) / blend.length;

describe("greedyEnsembleSelection", () => {
  const rng = new Rng(7);
  const a = noise(rng, 3, 200);
  const b = noise(rng, 3, 200);
  const bad = noise(rng, 3, 200);
  // The target is exactly 0.75·a + 0.25·b: the selection should find that mix and ignore `bad`.
  const target = blendPredictions([a, b], [0.75, 0.25]);

  it("recovers a known mix from out-of-fold predictions", () => {
    const result = greedyEnsembleSelection({
      candidates: [bad, b, a],
      score: mseAgainst(target),
      direction: "minimize",
      rounds: 20,
    });
    expect(result.bestSingle).toBe(2);
    expect(result.weights[0]).toBe(0);
    expect(result.weights[1]).toBeCloseTo(0.25, 6);
    expect(result.weights[2]).toBeCloseTo(0.75, 6);
    expect(result.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 12);
    expect(result.score).toBeLessThan(1e-10);
  });

  it("is never worse than the best single candidate, in either direction", () => {
    const candidates: FoldPredictions[] = [noise(rng, 2, 50), noise(rng, 2, 50), noise(rng, 2, 50)];
    const mean = (blend: readonly Float32Array[]) =>
      blend.reduce((s, f) => s + f.reduce((x, y) => x + y, 0) / f.length, 0) / blend.length;
    for (const direction of ["minimize", "maximize"] as const) {
      const result = greedyEnsembleSelection({ candidates, score: mean, direction });
      const best = result.singleScores[result.bestSingle] as number;
      // The mean is linear: no blend beats the best single, so the selection stays with it.
      expect(result.score).toBe(best);
      expect(result.weights[result.bestSingle]).toBe(1);
      for (const s of result.singleScores)
        expect(direction === "minimize" ? best <= s : best >= s).toBe(true);
    }
  });

  it("returns the single candidate with weight 1, and refuses no candidates or mismatched folds", () => {
    const only = greedyEnsembleSelection({
      candidates: [a],
      score: mseAgainst(target),
      direction: "minimize",
    });
    expect(only.weights).toEqual([1]);
    expect(() => greedyEnsembleSelection({ candidates: [], score: () => 0, direction: "minimize" })).toThrow(
      /at least one candidate/,
    );
    expect(() =>
      greedyEnsembleSelection({ candidates: [a, noise(rng, 2, 200)], score: () => 0, direction: "minimize" }),
    ).toThrow(/candidate 1 has predictions for folds of sizes \[200, 200\]/);
  });
});

describe("ensembleCandidates", () => {
  const trial = (number: number, state: FrozenTrial["state"], value: number | undefined, window: number) =>
    ({
      number,
      trialId: number,
      state,
      ...(value === undefined ? {} : { values: [value] }),
      params: { window },
      distributions: {},
      userAttrs: {},
      systemAttrs: {},
      intermediateValues: new Map(),
    }) as FrozenTrial;
  const trials = [
    trial(0, "COMPLETE", 0.5, 16),
    trial(1, "COMPLETE", 0.2, 32),
    trial(2, "PRUNED", 0.1, 32),
    trial(3, "COMPLETE", 0.3, 32),
    trial(4, "COMPLETE", 0.4, 16),
    trial(5, "COMPLETE", 0.25, 32),
  ];
  const keyOf = (t: FrozenTrial) => String(t.params.window);

  it("takes the top COMPLETE trials and keeps those sharing the best trial's dataset layout", () => {
    const { candidates, skipped } = ensembleCandidates(trials, "minimize", 4, keyOf);
    expect(candidates.map((t) => t.number)).toEqual([1, 5, 3]);
    expect(skipped.map((t) => t.number)).toEqual([4]);
  });

  it("ranks by the study's direction and returns nothing without COMPLETE trials", () => {
    const { candidates, skipped } = ensembleCandidates(trials, "maximize", 2, keyOf);
    expect(candidates.map((t) => t.number)).toEqual([0, 4]);
    expect(skipped).toEqual([]);
    expect(ensembleCandidates([trials[2] as FrozenTrial], "minimize", 3, keyOf)).toEqual({
      candidates: [],
      skipped: [],
    });
  });
});
