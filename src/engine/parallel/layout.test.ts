import { describe, expect, it } from "vitest";
import { abortBarrier, arriveAndWait, CONTROL_WORDS } from "./barrier.js";
import { reduceChunk, shardBatch } from "./layout.js";

describe("shardBatch", () => {
  it("cuts contiguous shards whose sizes differ by at most one", () => {
    for (let total = 0; total <= 20; total++) {
      for (let parts = 1; parts <= 5; parts++) {
        const spans = shardBatch(total, parts);
        expect(spans).toHaveLength(parts);
        let next = 0;
        for (const span of spans) {
          expect(span.start).toBe(next);
          next += span.size;
        }
        expect(next).toBe(total);
        const sizes = spans.map((s) => s.size);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
    expect(shardBatch(7, 3).map((s) => s.size)).toEqual([3, 2, 2]);
  });
});

describe("reduceChunk", () => {
  it("gives disjoint, cache-line aligned chunks covering the flat vector", () => {
    for (const total of [0, 1, 15, 16, 17, 100, 4481]) {
      for (let world = 1; world <= 4; world++) {
        let next = 0;
        for (let rank = 0; rank < world; rank++) {
          const chunk = reduceChunk(total, world, rank);
          expect(chunk.start).toBe(next);
          if (chunk.size > 0 && chunk.start + chunk.size < total) expect(chunk.size % 16).toBe(0);
          next += chunk.size;
        }
        expect(next).toBe(total);
      }
    }
  });
});

describe("barrier", () => {
  it("releases the last arrival at once and times out waiting for a missing peer", () => {
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    expect(() => arriveAndWait(control, 1, 10, "alone")).not.toThrow();
    const started = Date.now();
    expect(() => arriveAndWait(control, 2, 50, "pair")).toThrow(/pair: timed out after 50 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    // The timeout aborted the barrier, so nobody else waits on it either.
    expect(() => arriveAndWait(control, 2, 10_000, "later")).toThrow(/another replica failed/);
  });

  it("throws at once after an abort", () => {
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    abortBarrier(control);
    expect(() => arriveAndWait(control, 3, 10_000, "x")).toThrow(/aborted/);
  });
});
