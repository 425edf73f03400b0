/**
 * The behaviour every TuningStorage must have, as a reusable vitest suite: each implementation's test
 * calls `storageContract("journal-file", () => makeIt())`. `make` must return a fresh, empty storage.
 * Heartbeat tests use real time (graceSeconds 0 with a short sleep), so clocks need not be injectable.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { categoricalDistribution, floatDistribution, intDistribution, toInternal } from "./distributions.js";
import { TuningError } from "./errors.js";
import type { TuningStorage } from "./storage.js";

const reasonOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
  } catch (error) {
    return error instanceof TuningError ? error.reason : `not a TuningError: ${String(error)}`;
  }
  return undefined;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function storageContract(name: string, make: () => Promise<TuningStorage>): void {
  describe(`TuningStorage contract: ${name}`, () => {
    let s: TuningStorage;
    beforeEach(async () => {
      s = await make();
    });
    afterEach(async () => {
      await s.close();
    });

    it("creates, names, lists and deletes studies", async () => {
      const a = await s.createStudy(["minimize"], "a");
      const b = await s.createStudy(["maximize", "minimize"], "b");
      expect(a).not.toBe(b);
      expect(await s.getStudyIdFromName("b")).toBe(b);
      const study = await s.getStudy(b);
      expect(study).toMatchObject({ studyId: b, studyName: "b", directions: ["maximize", "minimize"] });
      expect((await s.getAllStudies()).map((x) => x.studyName).sort()).toEqual(["a", "b"]);
      await s.deleteStudy(a);
      expect(await reasonOf(s.getStudyIdFromName("a"))).toBe("STUDY_NOT_FOUND");
      expect((await s.getAllStudies()).map((x) => x.studyName)).toEqual(["b"]);
    });

    it("gives unnamed studies a unique name and refuses a duplicated name", async () => {
      const x = await s.createStudy(["minimize"]);
      const y = await s.createStudy(["minimize"]);
      expect((await s.getStudy(x)).studyName).not.toBe((await s.getStudy(y)).studyName);
      await s.createStudy(["minimize"], "dup");
      expect(await reasonOf(s.createStudy(["minimize"], "dup"))).toBe("DUPLICATED_STUDY");
      expect(await reasonOf(s.getStudyIdFromName("nope"))).toBe("STUDY_NOT_FOUND");
    });

    it("stores study user and system attributes", async () => {
      const id = await s.createStudy(["minimize"], "attrs");
      await s.setStudyUserAttr(id, "owner", { name: "me", tags: [1, 2] });
      await s.setStudySystemAttr(id, "sys", "x");
      const study = await s.getStudy(id);
      expect(study.userAttrs).toEqual({ owner: { name: "me", tags: [1, 2] } });
      expect(study.systemAttrs).toEqual({ sys: "x" });
    });

    it("numbers trials 0, 1, 2 per study with storage-unique ids", async () => {
      const a = await s.createStudy(["minimize"], "a");
      const b = await s.createStudy(["minimize"], "b");
      const made = [
        await s.createTrial(a),
        await s.createTrial(b),
        await s.createTrial(a),
        await s.createTrial(a),
      ];
      expect(made.map((t) => t.number)).toEqual([0, 0, 1, 2]);
      expect(new Set(made.map((t) => t.trialId)).size).toBe(4);
      const t = await s.getTrial(made[2]?.trialId ?? -1);
      expect(t).toMatchObject({ number: 1, state: "RUNNING", params: {}, userAttrs: {} });
      expect(t.datetimeStart).toBeInstanceOf(Date);
      expect(await reasonOf(s.getTrial(9999))).toBe("TRIAL_NOT_FOUND");
    });

    it("round-trips params of every kind with their distributions", async () => {
      const id = await s.createStudy(["minimize"], "p");
      const { trialId } = await s.createTrial(id);
      const f = floatDistribution(1e-5, 1, { log: true });
      const i = intDistribution(0, 10, { step: 2 });
      const c = categoricalDistribution(["adam", 3, null, true]);
      await s.setTrialParam(trialId, "lr", 0.001, f);
      await s.setTrialParam(trialId, "layers", 4, i);
      await s.setTrialParam(trialId, "opt", toInternal(c, null), c);
      const t = await s.getTrial(trialId);
      expect(t.params).toEqual({ lr: 0.001, layers: 4, opt: null });
      expect(t.distributions).toEqual({ lr: f, layers: i, opt: c });
    });

    it("refuses a parameter whose distribution is incompatible with an earlier one", async () => {
      const id = await s.createStudy(["minimize"], "inc");
      const t0 = await s.createTrial(id);
      await s.setTrialParam(t0.trialId, "x", 0.5, floatDistribution(0, 1));
      expect(await reasonOf(s.setTrialParam(t0.trialId, "x", 0, categoricalDistribution(["a"])))).toBe(
        "INCOMPATIBLE_DISTRIBUTION",
      );
      const t1 = await s.createTrial(id);
      expect(await reasonOf(s.setTrialParam(t1.trialId, "x", 0, intDistribution(0, 3)))).toBe(
        "INCOMPATIBLE_DISTRIBUTION",
      );
      await s.setTrialParam(t1.trialId, "x", 2, floatDistribution(0, 5));
      expect((await s.getTrial(t1.trialId)).params.x).toBe(2);
    });

    it("moves WAITING to RUNNING once; the second taker gets false", async () => {
      const id = await s.createStudy(["minimize"], "w");
      const { trialId } = await s.createTrial(id, {
        state: "WAITING",
        systemAttrs: { fixed_params: { x: 1 } },
      });
      const waiting = await s.getTrial(trialId);
      expect(waiting.state).toBe("WAITING");
      expect(waiting.systemAttrs).toEqual({ fixed_params: { x: 1 } });
      expect(await s.setTrialStateValues(trialId, "RUNNING")).toBe(true);
      expect(await s.setTrialStateValues(trialId, "RUNNING")).toBe(false);
      const running = await s.getTrial(trialId);
      expect(running.state).toBe("RUNNING");
      expect(running.datetimeStart).toBeInstanceOf(Date);
    });

    it("completes a trial with values and then refuses every change", async () => {
      const id = await s.createStudy(["minimize", "maximize"], "c");
      const { trialId } = await s.createTrial(id);
      expect(await s.setTrialStateValues(trialId, "COMPLETE", [0.25, 3])).toBe(true);
      const done = await s.getTrial(trialId);
      expect(done).toMatchObject({ state: "COMPLETE", values: [0.25, 3] });
      expect(done.datetimeComplete).toBeInstanceOf(Date);
      const refused = [
        s.setTrialStateValues(trialId, "FAIL"),
        s.setTrialParam(trialId, "x", 0.1, floatDistribution(0, 1)),
        s.setTrialIntermediateValue(trialId, 0, 1),
        s.setTrialUserAttr(trialId, "k", 1),
        s.setTrialSystemAttr(trialId, "k", 1),
      ];
      for (const p of refused) expect(await reasonOf(p)).toBe("TRIAL_FINISHED");
    });

    it("stores PRUNED and FAIL states", async () => {
      const id = await s.createStudy(["minimize"], "pf");
      const a = await s.createTrial(id);
      const b = await s.createTrial(id);
      await s.setTrialStateValues(a.trialId, "PRUNED", [0.7]);
      await s.setTrialStateValues(b.trialId, "FAIL");
      expect(await s.getTrial(a.trialId)).toMatchObject({ state: "PRUNED", values: [0.7] });
      expect((await s.getTrial(b.trialId)).state).toBe("FAIL");
    });

    it("stores intermediate values by step, the last write of a step winning", async () => {
      const id = await s.createStudy(["minimize"], "iv");
      const { trialId } = await s.createTrial(id);
      await s.setTrialIntermediateValue(trialId, 0, 1.5);
      await s.setTrialIntermediateValue(trialId, 3, 0.5);
      await s.setTrialIntermediateValue(trialId, 3, 0.25);
      const iv = (await s.getTrial(trialId)).intermediateValues;
      expect([...iv.entries()].sort((x, y) => x[0] - y[0])).toEqual([
        [0, 1.5],
        [3, 0.25],
      ]);
    });

    it("stores trial user and system attributes", async () => {
      const id = await s.createStudy(["minimize"], "ta");
      const { trialId } = await s.createTrial(id);
      await s.setTrialUserAttr(trialId, "fold", { i: 2, ok: true });
      await s.setTrialSystemAttr(trialId, "grid_id", 7);
      const t = await s.getTrial(trialId);
      expect(t.userAttrs).toEqual({ fold: { i: 2, ok: true } });
      expect(t.systemAttrs).toEqual({ grid_id: 7 });
    });

    it("copies a finished trial from a template", async () => {
      const id = await s.createStudy(["minimize"], "tpl");
      const d = floatDistribution(0, 1);
      const { trialId, number } = await s.createTrial(id, {
        state: "COMPLETE",
        values: [0.5],
        params: { x: 0.3 },
        distributions: { x: d },
        userAttrs: { u: 1 },
        intermediateValues: new Map([[1, 0.9]]),
      });
      expect(number).toBe(0);
      const t = await s.getTrial(trialId);
      expect(t).toMatchObject({ state: "COMPLETE", values: [0.5], params: { x: 0.3 }, userAttrs: { u: 1 } });
      expect(t.distributions.x).toEqual(d);
      expect(t.intermediateValues.get(1)).toBe(0.9);
    });

    it("lists trials in number order, filtered by states", async () => {
      const id = await s.createStudy(["minimize"], "all");
      const other = await s.createStudy(["minimize"], "other");
      await s.createTrial(other);
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push((await s.createTrial(id)).trialId);
      await s.setTrialStateValues(ids[0] ?? -1, "COMPLETE", [1]);
      await s.setTrialStateValues(ids[2] ?? -1, "FAIL");
      const all = await s.getAllTrials(id);
      expect(all.map((t) => t.number)).toEqual([0, 1, 2, 3]);
      expect((await s.getAllTrials(id, ["COMPLETE", "FAIL"])).map((t) => t.number)).toEqual([0, 2]);
      expect((await s.getAllTrials(id, ["RUNNING"])).map((t) => t.number)).toEqual([1, 3]);
      expect(await s.getAllTrials(id, [])).toEqual([]);
    });

    it("fails RUNNING trials whose heartbeat is stale, and only those", async () => {
      const id = await s.createStudy(["minimize"], "hb");
      const stale = await s.createTrial(id);
      const fresh = await s.createTrial(id);
      const silent = await s.createTrial(id);
      const done = await s.createTrial(id);
      await s.recordHeartbeat(stale.trialId);
      await s.recordHeartbeat(done.trialId);
      await s.setTrialStateValues(done.trialId, "COMPLETE", [1]);
      await sleep(30);
      await s.recordHeartbeat(fresh.trialId);
      expect(await s.failStaleTrials(id, 10)).toEqual([]);
      await sleep(1100);
      await s.recordHeartbeat(fresh.trialId);
      expect(await s.failStaleTrials(id, 1)).toEqual([stale.trialId]);
      expect((await s.getTrial(stale.trialId)).state).toBe("FAIL");
      expect((await s.getTrial(fresh.trialId)).state).toBe("RUNNING");
      expect((await s.getTrial(silent.trialId)).state).toBe("RUNNING");
      expect((await s.getTrial(done.trialId)).state).toBe("COMPLETE");
      expect(await s.failStaleTrials(id, 1)).toEqual([]);
    });
  });
}
