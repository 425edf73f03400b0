import { describe, expect, it } from "vitest";
import { epochRecord, stepRecord, T0, timedEpoch } from "./test-records.js";
import { SPLIT_UNAVAILABLE_OLD_RUN, secondsOf, shareOf, splitTime } from "./time-split.js";

describe("splitTime", () => {
  it("sums the parts over the epochs, adds the unaccounted remainder as other, largest first", () => {
    const split = splitTime(
      [
        timedEpoch(0, { data: 1, compute: 6, logging: 0.5, checkpoint: 0.5, callbacks: 0, validation: 1 }, 1),
        stepRecord(11, 1000, T0),
        timedEpoch(1, { data: 1, compute: 6, logging: 0.5, checkpoint: 0.5, callbacks: 0, validation: 1 }, 1),
      ],
      25,
    );
    expect(split.available).toBe(true);
    if (!split.available) return;
    expect(split.epochs).toBe(2);
    expect(split.wallS).toBeCloseTo(20, 9);
    expect(split.bottleneck).toBe("compute");
    expect(split.shares.map((s) => s.part)).toEqual([
      "compute",
      "data",
      "validation",
      "other",
      "logging",
      "checkpoint",
      "callbacks",
    ]);
    expect(shareOf(split, "compute")).toBeCloseTo(60, 9);
    expect(shareOf(split, "other")).toBeCloseTo(10, 9);
    expect(secondsOf(split, "data")).toBeCloseTo(2, 9);
    expect(split.shares.reduce((t, s) => t + s.pct, 0)).toBeCloseTo(100, 9);
    expect(split.outsideEpochsS).toBeCloseTo(5, 9);
  });

  it("names the largest share the bottleneck, whichever part it is", () => {
    const split = splitTime([timedEpoch(0, { data: 5, compute: 2, validation: 1 })], 8);
    expect(split.available && split.bottleneck).toBe("data");
  });

  it("keeps other at 0 when the parts add up to more than the wall time", () => {
    const record = timedEpoch(0, { compute: 3, data: 2 });
    const over = { ...record, metrics: { ...record.metrics, time_wall_s: 4.5 } };
    const split = splitTime([over], 4.5);
    expect(shareOf(split, "other")).toBe(0);
    expect(split.available && split.outsideEpochsS).toBe(0);
  });

  it("uses only the epochs that carry timing (a run resumed across versions)", () => {
    const split = splitTime(
      [epochRecord(0, { samples_per_s: 1, epoch_time_s: 1 }), timedEpoch(1, { compute: 2 })],
      10,
    );
    expect(split.available && split.epochs).toBe(1);
  });

  it("is unavailable, saying why, for runs trained before per-epoch timing", () => {
    const split = splitTime([epochRecord(0, { samples_per_s: 1000, epoch_time_s: 2 })], 3);
    expect(split).toEqual({ available: false, reason: SPLIT_UNAVAILABLE_OLD_RUN });
    expect(SPLIT_UNAVAILABLE_OLD_RUN).toMatch(/retrain with the current version/);
    expect(shareOf(split, "compute")).toBe(0);
  });

  it("is unavailable when no epoch finished", () => {
    const split = splitTime([stepRecord(1, 1000, T0)], 3);
    expect(split.available).toBe(false);
    expect(!split.available && split.reason).toMatch(/no epoch finished.*--duration/);
  });
});
