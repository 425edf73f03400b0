import { describe, expect, it } from "vitest";
import { floatDistribution, intDistribution } from "./distributions.js";
import { TrialPruned, TuningError } from "./errors.js";
import { InMemoryStorage } from "./storages/memory.js";
import { Study } from "./study.js";
import type { FrozenTrial, Pruner, StudyView } from "./types.js";

const quiet = () => {
  const warnings: string[] = [];
  return { warnings, onWarning: (m: string) => void warnings.push(m) };
};

const reasonOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
  } catch (error) {
    return error instanceof TuningError ? error.reason : String(error);
  }
  return undefined;
};

describe("Study create/load", () => {
  it("creates, refuses a duplicate, loads with loadIfExists and by name", async () => {
    const storage = new InMemoryStorage();
    const s = await Study.create({ storage, studyName: "s", direction: "maximize" });
    expect(s.direction).toBe("maximize");
    expect(await reasonOf(Study.create({ storage, studyName: "s", direction: "maximize" }))).toBe(
      "DUPLICATED_STUDY",
    );
    const again = await Study.create({ storage, studyName: "s", direction: "maximize", loadIfExists: true });
    expect(again.studyId).toBe(s.studyId);
    expect(
      await reasonOf(Study.create({ storage, studyName: "s", direction: "minimize", loadIfExists: true })),
    ).toBe("INVALID_VALUE");
    expect((await Study.load({ storage, studyName: "s" })).studyId).toBe(s.studyId);
    expect(await reasonOf(Study.load({ storage, studyName: "nope" }))).toBe("STUDY_NOT_FOUND");
  });
});

describe("ask and tell", () => {
  it("suggests, keeps the first value of a name, and refuses an incompatible distribution", async () => {
    const { warnings, onWarning } = quiet();
    const study = await Study.create({ onWarning });
    const t = await study.ask();
    const x = await t.suggestFloat("x", 0, 1);
    expect(await t.suggestFloat("x", 0, 1)).toBe(x);
    expect(await t.suggestFloat("x", 0, 2)).toBe(x);
    expect(warnings.some((w) => w.includes("Inconsistent"))).toBe(true);
    await expect(t.suggestInt("x", 0, 3)).rejects.toMatchObject({ reason: "INCOMPATIBLE_DISTRIBUTION" });
    const n = await t.suggestInt("n", 1, 8, { log: true });
    expect(Number.isInteger(n)).toBe(true);
    expect(await t.suggestCategorical("c", ["only"])).toBe("only");
    expect(t.params).toEqual({ x, n, c: "only" });
    const done = await study.tell(t, 0.5);
    expect(done).toMatchObject({ state: "COMPLETE", values: [0.5], params: { x, n, c: "only" } });
  });

  it("samples fixedDistributions at ask time", async () => {
    const study = await Study.create();
    const t = await study.ask({ a: floatDistribution(0, 1), b: intDistribution(3, 3) });
    expect(Object.keys(t.params)).toEqual(["a", "b"]);
    expect(t.params.b).toBe(3);
  });

  it("runs enqueued trials first, with their fixed params", async () => {
    const { warnings, onWarning } = quiet();
    const study = await Study.create({ onWarning });
    await study.enqueueTrial({ x: 0.25, k: "b" }, { userAttrs: { from: "queue" } });
    await study.enqueueTrial({ x: 0.25, k: "b" }, { skipIfExists: true });
    await study.enqueueTrial({ x: 7 });
    expect(await study.getTrials(["WAITING"])).toHaveLength(2);
    const t0 = await study.ask();
    expect(t0.number).toBe(0);
    expect(await t0.suggestFloat("x", 0, 1)).toBe(0.25);
    expect(await t0.suggestCategorical("k", ["a", "b"])).toBe("b");
    expect(t0.userAttrs).toEqual({ from: "queue" });
    await study.tell(t0, 1);
    const t1 = await study.ask();
    expect(await t1.suggestFloat("x", 0, 1)).toBe(7);
    expect(warnings.some((w) => w.includes("out of range"))).toBe(true);
    await study.tell(t1.number, 2);
    const t2 = await study.ask();
    expect(t2.number).toBe(2);
    expect(await study.getTrials(["WAITING"])).toEqual([]);
  });

  it("follows Optuna's tell checks", async () => {
    const { warnings, onWarning } = quiet();
    const study = await Study.create({ directions: ["minimize", "maximize"], onWarning });
    const a = await study.ask();
    expect(await reasonOf(study.tell(a, [1]))).toBeUndefined();
    expect((await study.getTrials())[0]?.state).toBe("FAIL");
    expect(warnings.at(-1)).toMatch(/number of values 1/);
    expect(await reasonOf(study.tell(a, [1, 2]))).toBe("TRIAL_FINISHED");
    expect((await study.tell(a, [1, 2], { skipIfFinished: true })).state).toBe("FAIL");
    const b = await study.ask();
    expect(await reasonOf(study.tell(b, [1, 2], { state: "FAIL" }))).toBe("INVALID_VALUE");
    expect(await reasonOf(study.tell(b, undefined, { state: "COMPLETE" }))).toBe("INVALID_VALUE");
    expect(await reasonOf(study.tell(b, [Number.NaN, 1], { state: "COMPLETE" }))).toBe("INVALID_VALUE");
    expect((await study.tell(b, [Number.NaN, 1])).state).toBe("FAIL");
    expect(await reasonOf(study.tell(99, [1, 2]))).toBe("TRIAL_NOT_FOUND");
    const c = await study.ask();
    await study.tell(c, [1, 2]);
    await expect(study.bestTrial).rejects.toMatchObject({ reason: "INVALID_VALUE" });
    expect((await study.bestTrials).map((t) => t.number)).toEqual([2]);
  });

  it("keeps the last intermediate value of a PRUNED trial and ignores a repeated step", async () => {
    const { warnings, onWarning } = quiet();
    const study = await Study.create({ onWarning });
    const t = await study.ask();
    await t.report(0.9, 0);
    await t.report(0.4, 1);
    await t.report(0.1, 1);
    expect(warnings.at(-1)).toMatch(/already reported/);
    const pruned = await study.tell(t, "PRUNED");
    expect(pruned.state).toBe("PRUNED");
    expect(pruned.values).toEqual([0.4]);
    expect([...pruned.intermediateValues]).toEqual([
      [0, 0.9],
      [1, 0.4],
    ]);
  });

  it("reports best trial, value and params for one objective", async () => {
    const study = await Study.create({ direction: "maximize" });
    await expect(study.bestTrial).rejects.toMatchObject({ reason: "TRIAL_NOT_FOUND" });
    for (const v of [3, 9, 1]) {
      const t = await study.ask();
      await t.suggestInt("v", v, v);
      await study.tell(t, v);
    }
    expect(await study.bestValue).toBe(9);
    expect(await study.bestParams).toEqual({ v: 9 });
    expect((await study.bestTrial).number).toBe(1);
  });
});

describe("optimize", () => {
  it("prunes on TrialPruned with the pruner's advice, and calls back after each trial", async () => {
    const seen: string[] = [];
    const pruner: Pruner = {
      prune: (_s: StudyView, t: FrozenTrial) => (t.intermediateValues.get(1) ?? 0) > 0.5,
    };
    const study = await Study.create({ pruner });
    await study.optimize(
      async (t) => {
        const x = await t.suggestFloat("x", 0, 1);
        for (let step = 0; step < 3; step++) {
          await t.report(x, step);
          if (await t.shouldPrune()) throw new TrialPruned();
        }
        return x;
      },
      { nTrials: 20, callbacks: [(_s, t) => void seen.push(t.state)] },
    );
    const trials = await study.trials;
    expect(seen).toEqual(trials.map((t) => t.state));
    for (const t of trials) expect(t.state).toBe((t.params.x as number) > 0.5 ? "PRUNED" : "COMPLETE");
  });

  it("fails the trial and rethrows an error, unless caught", async () => {
    const { warnings, onWarning } = quiet();
    const study = await Study.create({ onWarning });
    const boom = async () => {
      throw new RangeError("boom");
    };
    await expect(study.optimize(boom, { nTrials: 3 })).rejects.toThrow("boom");
    expect((await study.trials).map((t) => t.state)).toEqual(["FAIL"]);
    await study.optimize(boom, { nTrials: 2, catch: [RangeError] });
    await study.optimize(boom, { nTrials: 1, catch: () => true });
    expect((await study.trials).map((t) => t.state)).toEqual(["FAIL", "FAIL", "FAIL", "FAIL"]);
    expect(warnings.filter((w) => w.includes("boom"))).toHaveLength(4);
  });

  it("fails a NaN objective value with a warning and goes on", async () => {
    const { warnings, onWarning } = quiet();
    const study = await Study.create({ onWarning });
    await study.optimize(() => Number.NaN, { nTrials: 2 });
    expect((await study.trials).map((t) => t.state)).toEqual(["FAIL", "FAIL"]);
    expect(warnings[0]).toMatch(/NaN is not acceptable/);
  });

  it("stops on timeout, abort signal and stop()", async () => {
    const study = await Study.create();
    await study.optimize(() => new Promise<number>((r) => setTimeout(() => r(1), 5)), { timeoutMs: 30 });
    const n = (await study.trials).length;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(10);
    const controller = new AbortController();
    await study.optimize(
      (t) => {
        if (t.number >= n + 2) controller.abort();
        return 1;
      },
      { signal: controller.signal },
    );
    expect((await study.trials).length).toBe(n + 3);
    await study.optimize(
      () => {
        study.stop();
        return 1;
      },
      { nTrials: 10 },
    );
    expect((await study.trials).length).toBe(n + 4);
  });

  it("records heartbeats and fails stale trials of dead workers", async () => {
    let now = 0;
    const storage = new InMemoryStorage({ now: () => now });
    const study = await Study.create({ storage });
    const orphan = await study.ask();
    await storage.recordHeartbeat(orphan.trialId);
    now = 120_000;
    await study.optimize(() => 1, { nTrials: 1, heartbeat: { intervalSeconds: 30 } });
    expect((await study.trials).map((t) => t.state)).toEqual(["FAIL", "COMPLETE"]);
  });
});
