import { describe, expect, it } from "vitest";
import { epochRecord, stepRecord, T0 } from "./test-records.js";
import { analyzeThroughput, epochThroughput, sparkline, stepBuckets, thirdsTrend } from "./throughput.js";

describe("epochThroughput", () => {
  it("keeps the logged compute rate and derives the wall-clock rate from the epoch's rows", () => {
    const [timed, untimed] = epochThroughput([
      epochRecord(0, { samples_per_s: 1000, epoch_time_s: 2, time_wall_s: 4 }),
      epochRecord(1, { samples_per_s: 800, epoch_time_s: 2 }),
    ]);
    // 2000 rows in 4 s of wall time.
    expect(timed).toEqual({ epoch: 0, samplesPerS: 1000, wallSamplesPerS: 500 });
    expect(untimed).toEqual({ epoch: 1, samplesPerS: 800, wallSamplesPerS: null });
  });

  it("skips epoch records without samples_per_s", () => {
    expect(epochThroughput([epochRecord(0, { train_loss: 1 })])).toEqual([]);
  });
});

describe("stepBuckets", () => {
  it("splits the steps' time span into equal buckets with the harmonic mean of their rates", () => {
    const steps = [
      stepRecord(1, 100, T0),
      stepRecord(2, 300, T0 + 400),
      stepRecord(3, 1000, T0 + 600),
      stepRecord(4, 1000, T0 + 1000),
    ];
    const buckets = stepBuckets(steps, 2);
    expect(buckets).toHaveLength(2);
    expect(buckets[0]).toMatchObject({ startS: 0, endS: 0.5, steps: 2 });
    // Two equal batches at 100 and 300 samples/s: 2 batches in 1/100 + 1/300 s per sample.
    expect(buckets[0]?.samplesPerS).toBeCloseTo(150, 9);
    expect(buckets[1]).toMatchObject({ startS: 0.5, endS: 1, steps: 2, samplesPerS: 1000 });
  });

  it("leaves buckets without steps empty (a resume gap) and ignores steps without time or rate", () => {
    const steps = [
      stepRecord(1, 500, T0),
      stepRecord(2, 0, T0 + 100),
      stepRecord(3, 500, null),
      stepRecord(4, 250, T0 + 3000),
    ];
    const buckets = stepBuckets(steps, 3);
    expect(buckets.map((b) => b.steps)).toEqual([1, 0, 1]);
    expect(buckets.map((b) => b.samplesPerS)).toEqual([500, null, 250]);
  });

  it("puts steps logged at one instant into a single bucket", () => {
    const buckets = stepBuckets([stepRecord(1, 10, T0), stepRecord(2, 30, T0)], 20);
    expect(buckets).toHaveLength(1);
    expect(buckets[0]?.steps).toBe(2);
  });

  it("returns no buckets without steps", () => {
    expect(stepBuckets([], 20)).toEqual([]);
  });
});

describe("sparkline", () => {
  it("scales from the smallest to the largest value and shows gaps as spaces", () => {
    expect(sparkline([1, 8, null, 4.5])).toBe("▁█ ▅");
  });

  it("draws equal values mid-height and nothing for no values", () => {
    expect(sparkline([3, 3])).toBe("▄▄");
    expect(sparkline([null])).toBe("");
  });
});

describe("thirdsTrend", () => {
  it("compares the mean of the last third with the first third's", () => {
    const trend = thirdsTrend([100, 100, 90, 90, 70, 70], "steps");
    expect(trend).toEqual({ basis: "steps", firstThird: 100, lastThird: 70, changePct: -30 });
  });

  it("needs at least minPerThird values per third", () => {
    expect(thirdsTrend([1, 2], "epochs")).toBeNull();
    expect(thirdsTrend([1, 2, 3, 4, 5], "steps", 2)).toBeNull();
  });
});

describe("analyzeThroughput", () => {
  it("takes the trend from the step buckets when there are enough", () => {
    const steps = Array.from({ length: 60 }, (_, i) => stepRecord(i + 1, i < 30 ? 1000 : 500, T0 + i * 100));
    const analysis = analyzeThroughput(steps, 6);
    expect(analysis.buckets).toHaveLength(6);
    expect(analysis.sparkline).toHaveLength(6);
    expect(analysis.trend?.basis).toBe("steps");
    expect(analysis.trend?.changePct).toBeCloseTo(-50, 6);
  });

  it("falls back to the epochs when the steps give too few buckets", () => {
    const epochs = [1000, 1000, 1100, 1100, 1200, 1200].map((rate, i) =>
      epochRecord(i, { samples_per_s: rate }),
    );
    const analysis = analyzeThroughput(epochs, 20);
    expect(analysis.buckets).toEqual([]);
    expect(analysis.trend).toMatchObject({ basis: "epochs", firstThird: 1000, lastThird: 1200 });
  });
});
