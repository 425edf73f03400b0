/**
 * Ensemble selection (Caruana et al., 2004): greedy forward selection with replacement over candidates'
 * out-of-fold predictions. Each round adds the candidate whose addition gives the best cross-validated
 * score of the blend; a member's weight is how often it was picked over the number of picks. Starting
 * from the best single candidate and keeping the best round seen, the result is never worse than the
 * best single candidate on the same predictions.
 */
import { CryptomlError } from "../core/errors.js";
import { better } from "./frozen.js";
import type { StudyDirection } from "./types.js";

/** One candidate's out-of-fold predictions: per fold, the model's output rows (all columns) on its test block. */
export type FoldPredictions = readonly Float32Array[];

/** The cross-validated score of blended predictions (per fold, like {@link FoldPredictions}). */
export type BlendScore = (blend: readonly Float32Array[]) => number;

export interface GreedySelectionOptions {
  readonly candidates: readonly FoldPredictions[];
  readonly score: BlendScore;
  readonly direction: StudyDirection;
  /** Picks after the initial best single candidate. Default 30. */
  readonly rounds?: number;
}

export interface GreedySelection {
  /** One weight ≥ 0 per candidate, summing to 1. */
  readonly weights: number[];
  /** The score of the blend with these weights. */
  readonly score: number;
  /** Each candidate's score alone. */
  readonly singleScores: number[];
  /** The index of the best single candidate (the first pick). */
  readonly bestSingle: number;
}

/** Σ_i weights[i] · candidates[i], fold by fold (accumulated in float64, stored as the model outputs are). */
export function blendPredictions(
  candidates: readonly FoldPredictions[],
  weights: readonly number[],
): Float32Array[] {
  const first = candidates[0] as FoldPredictions;
  return first.map((fold, k) => {
    const sum = new Float64Array(fold.length);
    candidates.forEach((c, i) => {
      const w = weights[i] as number;
      if (w === 0) return;
      const data = c[k] as Float32Array;
      for (let j = 0; j < sum.length; j++) sum[j] = (sum[j] as number) + w * (data[j] as number);
    });
    return Float32Array.from(sum);
  });
}

function checkCandidates(candidates: readonly FoldPredictions[], rounds: number): void {
  if (candidates.length === 0) {
    throw new CryptomlError("USAGE", "ensemble selection needs at least one candidate", {
      hint: "complete some trials first (cryptoml tune), then select among them",
    });
  }
  if (!Number.isInteger(rounds) || rounds < 0) {
    throw new CryptomlError("USAGE", `rounds=${rounds} must be an integer >= 0`, {
      hint: "20 to 50 rounds is usual",
    });
  }
  const first = candidates[0] as FoldPredictions;
  candidates.forEach((c, i) => {
    const same = c.length === first.length && c.every((fold, k) => fold.length === first[k]?.length);
    if (!same) {
      throw new CryptomlError(
        "INTERNAL",
        `candidate ${i} has predictions for folds of sizes [${c.map((f) => f.length).join(", ")}] but candidate 0 for [${first.map((f) => f.length).join(", ")}]`,
      );
    }
  });
}

/**
 * Greedy forward selection with replacement. Candidates and their scores must be finite-comparable:
 * a NaN score is never chosen over a finite one (comparisons with NaN are false).
 */
export function greedyEnsembleSelection(options: GreedySelectionOptions): GreedySelection {
  const { candidates, score, direction } = options;
  const rounds = options.rounds ?? 30;
  checkCandidates(candidates, rounds);
  const n = candidates.length;
  const singleScores = candidates.map((c) => score(c));
  let bestSingle = 0;
  for (let i = 1; i < n; i++) {
    if (better(direction, singleScores[i] as number, singleScores[bestSingle] as number)) bestSingle = i;
  }
  const counts = new Array<number>(n).fill(0);
  counts[bestSingle] = 1;
  let picks = 1;
  // The running sum of picked predictions; a trial pick's blend is (sum + candidate) / (picks + 1).
  const sum = blendPredictions(candidates, counts).map((f) => Float64Array.from(f));
  let best = { counts: [...counts], score: singleScores[bestSingle] as number };
  for (let round = 0; round < rounds && n > 1; round++) {
    let pick = -1;
    let pickScore = Number.NaN;
    for (let i = 0; i < n; i++) {
      const c = candidates[i] as FoldPredictions;
      const trial = sum.map((s, k) => {
        const data = c[k] as Float32Array;
        return Float32Array.from(s, (v, j) => (v + (data[j] as number)) / (picks + 1));
      });
      const value = score(trial);
      if (pick < 0 || better(direction, value, pickScore)) {
        pick = i;
        pickScore = value;
      }
    }
    // Always add the round's best (even when worse: later picks may recover), but remember the best blend.
    const chosen = candidates[pick] as FoldPredictions;
    sum.forEach((s, k) => {
      const data = chosen[k] as Float32Array;
      for (let j = 0; j < s.length; j++) s[j] = (s[j] as number) + (data[j] as number);
    });
    counts[pick] = (counts[pick] as number) + 1;
    picks += 1;
    if (better(direction, pickScore, best.score)) best = { counts: [...counts], score: pickScore };
  }
  const total = best.counts.reduce((a, b) => a + b, 0);
  return { weights: best.counts.map((c) => c / total), score: best.score, singleScores, bestSingle };
}
