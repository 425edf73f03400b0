import { describe, expect, it } from "vitest";
import { floatDistribution } from "../distributions.js";
import { storageContract } from "../storage.contract.js";
import { InMemoryStorage } from "./memory.js";

storageContract("in-memory", async () => new InMemoryStorage());

describe("InMemoryStorage", () => {
  it("never changes a FrozenTrial it handed out", async () => {
    const s = new InMemoryStorage();
    const id = await s.createStudy(["minimize"]);
    const { trialId } = await s.createTrial(id);
    const before = await s.getTrial(trialId);
    await s.setTrialParam(trialId, "x", 0.5, floatDistribution(0, 1));
    await s.setTrialIntermediateValue(trialId, 0, 1);
    expect(before.params).toEqual({});
    expect(before.intermediateValues.size).toBe(0);
  });

  it("uses the injected clock for heartbeats", async () => {
    let now = 1_000_000;
    const s = new InMemoryStorage({ now: () => now });
    const id = await s.createStudy(["minimize"]);
    const { trialId } = await s.createTrial(id);
    await s.recordHeartbeat(trialId);
    now += 59_000;
    expect(await s.failStaleTrials(id, 60)).toEqual([]);
    now += 2_000;
    expect(await s.failStaleTrials(id, 60)).toEqual([trialId]);
  });
});
