import { describe, expect, it } from "vitest";
import { runRounds } from "./rounds.js";

/** A fake clock whose sleep advances it; `work` is how long each round takes. */
function harness(work: readonly number[], rounds: number) {
  const now = { ms: 1_000 };
  const controller = new AbortController();
  const starts: number[] = [];
  const errors: unknown[] = [];
  const sleeps: number[] = [];
  const run = runRounds({
    intervalMs: 100,
    signal: controller.signal,
    clock: () => now.ms,
    sleep: async (ms) => {
      sleeps.push(ms);
      now.ms += ms;
    },
    round: async () => {
      starts.push(now.ms);
      now.ms += work[starts.length - 1] ?? 0;
      if (starts.length >= rounds) controller.abort();
      if (starts.length === 2) throw new Error("scrape exploded");
    },
    onError: (error) => errors.push(error),
  });
  return { run, starts, errors, sleeps };
}

describe("runRounds", () => {
  it("starts rounds on a fixed cadence however long each takes", async () => {
    const h = harness([30, 70, 10, 0], 4);
    await h.run;
    expect(h.starts).toEqual([1_000, 1_100, 1_200, 1_300]);
    expect(h.sleeps).toEqual([70, 30, 90]);
  });

  it("a round that throws is reported and the loop goes on", async () => {
    const h = harness([0, 0, 0], 3);
    await h.run;
    expect(h.starts).toHaveLength(3);
    expect(h.errors).toEqual([new Error("scrape exploded")]);
  });

  it("a round that overruns skips to the next free slot instead of running back to back", async () => {
    const h = harness([250, 0, 0], 3);
    await h.run;
    expect(h.starts).toEqual([1_000, 1_300, 1_400]);
  });
});
