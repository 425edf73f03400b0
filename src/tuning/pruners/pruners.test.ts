import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { snapshotView } from "../frozen.js";
import { InMemoryStorage } from "../storages/memory.js";
import { Study } from "../study.js";
import type { FrozenTrial, Pruner, StudyDirection, TrialState } from "../types.js";
import { crc32, HyperbandPruner } from "./hyperband.js";
import { MedianPruner, PercentilePruner, SuccessiveHalvingPruner } from "./index.js";
import { nanPercentile } from "./percentile.js";

let nextId = 0;
function trial(state: TrialState, values: Record<number, number>, number = nextId): FrozenTrial {
  nextId++;
  return {
    number,
    trialId: 1000 + number,
    state,
    params: {},
    distributions: {},
    userAttrs: {},
    systemAttrs: {},
    intermediateValues: new Map(Object.entries(values).map(([s, v]) => [Number(s), v])),
  };
}

function view(trials: FrozenTrial[], direction: StudyDirection = "minimize") {
  return snapshotView("s", [direction], trials);
}

/** Five COMPLETE trials reporting 1..5 at steps 0..3. */
const completed = (): FrozenTrial[] =>
  [1, 2, 3, 4, 5].map((v, i) => trial("COMPLETE", { 0: v, 1: v, 2: v, 3: v }, i));

describe("PercentilePruner / MedianPruner", () => {
  it("prunes a trial whose best value is worse than the median at its step", () => {
    const done = completed();
    const p = new MedianPruner();
    expect(p.prune(view(done), trial("RUNNING", { 0: 3.5 }, 5))).toBe(true);
    expect(p.prune(view(done), trial("RUNNING", { 0: 2.5 }, 5))).toBe(false);
    // Best over steps counts: 2.5 earlier keeps a 3.5 now.
    expect(p.prune(view(done), trial("RUNNING", { 0: 2.5, 1: 3.5 }, 5))).toBe(false);
    expect(p.prune(view(done, "maximize"), trial("RUNNING", { 0: 2.5 }, 5))).toBe(true);
    expect(p.prune(view(done), trial("RUNNING", { 0: Number.NaN }, 5))).toBe(true);
  });

  it("waits for startup trials, warm-up steps, interval steps and nMinTrials", () => {
    const done = completed();
    const bad = { 0: 9, 1: 9, 2: 9 };
    expect(new MedianPruner().prune(view(done.slice(0, 4)), trial("RUNNING", bad, 5))).toBe(false);
    expect(new MedianPruner({ nWarmupSteps: 3 }).prune(view(done), trial("RUNNING", bad, 5))).toBe(false);
    // Interval 2 from step 0: step 2 is a pruning step, step 1 is not.
    expect(
      new MedianPruner({ intervalSteps: 2 }).prune(view(done), trial("RUNNING", { 0: 9, 1: 9 }, 5)),
    ).toBe(false);
    expect(new MedianPruner({ intervalSteps: 2 }).prune(view(done), trial("RUNNING", bad, 5))).toBe(true);
    expect(new MedianPruner({ nMinTrials: 6 }).prune(view(done), trial("RUNNING", bad, 5))).toBe(false);
  });

  it("uses numpy's linear-interpolation percentile", () => {
    expect(nanPercentile([1, 2, 3, 4, 5], 25)).toBe(2);
    expect(nanPercentile([1, 2, 3, 4], 30)).toBeCloseTo(1.9, 12);
    expect(nanPercentile([Number.NaN, 1, 3], 50)).toBe(2);
    const p = new PercentilePruner(25);
    expect(p.prune(view(completed()), trial("RUNNING", { 0: 2.5 }, 5))).toBe(true);
    expect(p.prune(view(completed()), trial("RUNNING", { 0: 1.5 }, 5))).toBe(false);
    expect(() => new PercentilePruner(101)).toThrow(/\[0, 100\]/);
  });
});

describe("SuccessiveHalvingPruner", () => {
  it("promotes the top 1/reductionFactor at each rung and records rung values", () => {
    const p = new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 2 });
    const a = trial("RUNNING", { 1: 1 }, 0);
    expect(p.prune(view([a]), a)).toBe(false); // alone at rung 0 (step 1): promoted; rung 1 is at step 2
    expect(p.pendingSystemAttrs(view([a]), a)).toEqual({ completed_rung_0: 1 });
    const b = trial("RUNNING", { 1: 2 }, 1);
    expect(p.prune(view([a, b]), b)).toBe(true); // [1, 2]: only the best 1 goes on
    const c = trial("RUNNING", { 1: 0.5 }, 2);
    expect(p.prune(view([a, b, c]), c)).toBe(false); // [0.5, 1, 2]: best
    // Below the first rung nothing happens; rung values already stored on a trial are reused.
    const d = trial("RUNNING", { 0: 100 }, 3);
    expect(p.prune(view([a, b, c, d]), d)).toBe(false);
    const stored = { ...trial("COMPLETE", { 1: 0.1 }, 4), systemAttrs: { completed_rung_0: 0.1 } };
    const e = trial("RUNNING", { 1: 0.7 }, 5);
    expect(p.prune(view([a, b, c, stored, e]), e)).toBe(true); // [0.1, 0.5, 0.7, 1, 2]: top 2 only
  });

  it("estimates minResource from the longest COMPLETE trial", () => {
    const p = new SuccessiveHalvingPruner({ reductionFactor: 2 });
    const t = trial("RUNNING", { 2: 5 }, 1);
    expect(p.prune(view([t]), t)).toBe(false); // no COMPLETE trial yet: undecided
    const long = trial("COMPLETE", { 499: 1 }, 0);
    const u = trial("RUNNING", { 3: 5 }, 2); // minResource = 499 // 100 = 4 > step 3
    expect(p.prune(view([long, u]), u)).toBe(false);
  });
});

describe("HyperbandPruner", () => {
  it("hashes trials into brackets as Optuna (crc32 of '<study>_<number>')", () => {
    expect(crc32("abc")).toBe(0x352441c2);
    const p = new HyperbandPruner({ minResource: 1, maxResource: 9, reductionFactor: 3 });
    const t = trial("RUNNING", { 0: 1 }, 0);
    p.prune(view([t]), t);
    expect(p.nBrackets).toBe(3);
    // Budgets 9, 5, 3 of 17: bracket sizes follow them over many trial numbers.
    const counts = [0, 0, 0];
    for (let n = 0; n < 1700; n++) {
      const id = p.bracketOf(view([]), { number: n });
      counts[id] = (counts[id] as number) + 1;
    }
    expect(counts[0]).toBeGreaterThan(counts[1] as number);
    expect(counts[1]).toBeGreaterThan(counts[2] as number);
  });
});

const PYTHON = join(process.cwd(), ".venv-peers", "bin", "python");
const hasOptuna = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import optuna"]).status === 0;

describe.skipIf(!hasOptuna)("pruners against Optuna on the same intermediate values", () => {
  const N_TRIALS = 30;
  const N_STEPS = 12;
  const value = (i: number, step: number): number =>
    ((i * 7919 + step * 104729) % 1000) / 1000 + 3 / (step + 1);

  async function replay(pruner: Pruner): Promise<(number | null)[]> {
    const study = await Study.create({
      storage: new InMemoryStorage(),
      studyName: "replay",
      pruner,
      onWarning: () => {},
    });
    const out: (number | null)[] = [];
    for (let i = 0; i < N_TRIALS; i++) {
      const t = await study.ask();
      let pruned: number | null = null;
      for (let step = 0; step < N_STEPS; step++) {
        await t.report(value(i, step), step);
        if (await t.shouldPrune()) {
          pruned = step;
          break;
        }
      }
      await study.tell(t, pruned === null ? value(i, N_STEPS - 1) : "PRUNED");
      out.push(pruned);
    }
    return out;
  }

  it("makes the same decisions", async () => {
    const run = spawnSync(PYTHON, [join(process.cwd(), "test", "peers", "optuna_pruners.py")], {
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    const expected = JSON.parse(run.stdout);
    expect(await replay(new MedianPruner({ nStartupTrials: 3, nWarmupSteps: 1, intervalSteps: 2 }))).toEqual(
      expected.median,
    );
    expect(await replay(new PercentilePruner(30, { nStartupTrials: 2 }))).toEqual(expected.percentile);
    expect(await replay(new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 2 }))).toEqual(
      expected.successive_halving,
    );
    expect(
      await replay(new HyperbandPruner({ minResource: 1, maxResource: N_STEPS, reductionFactor: 3 })),
    ).toEqual(expected.hyperband);
  });
});
