import { describe, expect, it } from "vitest";
import { analyzeRun, samplesTrained } from "./analyze.js";
import { formatAnalysis } from "./format.js";
import { epochRecord, SETTINGS, stepRecord, T0, timedEpoch } from "./test-records.js";
import type { LoadedRun, MetricsRecord } from "./types.js";

/** A job of 3 epochs of 10 steps, 1000 samples each, whose steps get slower over time. */
function slowingJob(job: string): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  for (let epoch = 0; epoch < 3; epoch++) {
    for (let i = 1; i <= 10; i++) {
      const step = epoch * 10 + i;
      records.push(stepRecord(step, 1000 - step * 20, T0 + step * 100, job, epoch));
    }
    records.push({
      ...timedEpoch(epoch, { data: 0.3, compute: 0.8, logging: 0.15, checkpoint: 0.15, validation: 0.1 }, 0, {
        samples_per_s: 1250,
      }),
      job,
      step: (epoch + 1) * 10,
    });
  }
  return records;
}

function loaded(records: MetricsRecord[], overrides: Partial<LoadedRun> = {}): LoadedRun {
  return {
    runId: "20260101T000000Z-aaaa",
    runDir: "/runs/20260101T000000Z-aaaa",
    status: "completed",
    budgetMs: 12_000,
    spentMs: 10_000,
    settings: SETTINGS,
    jobs: [
      {
        job: "BTCUSDT",
        model: "gru",
        status: "deadline",
        reason: "time budget spent at step 30",
        epochs: 3,
        steps: 30,
        wallMs: 6_000,
      },
      {
        job: "ETHUSDT",
        model: "gru",
        status: "pending",
        reason: "not started",
        epochs: 0,
        steps: 0,
        wallMs: 0,
      },
    ],
    records,
    skippedLines: 0,
    ...overrides,
  };
}

describe("samplesTrained", () => {
  it("counts finished epochs' rows and batch_size per step after the last epoch", () => {
    const records = [
      epochRecord(0, { samples_per_s: 500, epoch_time_s: 2 }, { step: 10 }),
      stepRecord(11, 100, T0),
      stepRecord(12, 100, T0),
    ];
    expect(samplesTrained(records, 64)).toBe(1000 + 2 * 64);
  });
});

describe("analyzeRun", () => {
  it("analyses each job in the run's order and the run as a whole", () => {
    const analysis = analyzeRun(loaded(slowingJob("BTCUSDT")), { buckets: 6, cores: 4 });
    expect(analysis.jobs.map((j) => j.job)).toEqual(["BTCUSDT", "ETHUSDT"]);
    const [btc, eth] = analysis.jobs;
    expect(btc?.samples).toBe(3000);
    expect(btc?.throughput.buckets).toHaveLength(6);
    expect(btc?.throughput.trend?.changePct).toBeLessThan(-20);
    expect(btc?.split).toMatchObject({ available: true, epochs: 3, bottleneck: "compute" });
    expect(btc?.split.available && btc.split.wallS).toBeCloseTo(4.5, 9);
    expect(btc?.recommendations.map((r) => r.id)).toEqual(
      expect.arrayContaining([
        "throughput-drop",
        "deadline",
        "data-pipeline",
        "checkpointing",
        "logging",
        "short-epochs",
      ]),
    );
    expect(eth).toMatchObject({ samples: 0, steps: 0, split: { available: false } });
    expect(analysis.run).toEqual({
      jobs: 2,
      budgetS: 12,
      spentS: 10,
      samples: 3000,
      samplesPerS: 300,
      skippedLines: 0,
    });
  });

  it("takes epoch and step counts from the log while the run has no summary", () => {
    const run = loaded(slowingJob("BTCUSDT"), { status: "unfinished" });
    const jobs = run.jobs.map((j) => ({ ...j, status: "running", epochs: 0, steps: 0 }));
    const [btc] = analyzeRun({ ...run, jobs }, { cores: 1 }).jobs;
    expect(btc).toMatchObject({ epochs: 3, steps: 30 });
    expect(btc?.recommendations.map((r) => r.id)).toContain("interrupted");
  });

  it("is JSON without loss (what --json prints)", () => {
    const analysis = analyzeRun(loaded(slowingJob("BTCUSDT")), { buckets: 6, cores: 4 });
    expect(JSON.parse(JSON.stringify(analysis))).toEqual(analysis);
  });
});

describe("formatAnalysis", () => {
  it("prints the run line, throughput with a sparkline and trend, the split, the bottleneck and advice", () => {
    const text = formatAnalysis(analyzeRun(loaded(slowingJob("BTCUSDT")), { buckets: 6, cores: 4 }));
    expect(text).toMatch(
      /^run 20260101T000000Z-aaaa \(completed\): 2 job\(s\), 10s of 12s budget, 3000 samples, 300 samples\/s overall/,
    );
    expect(text).toMatch(/per epoch {2}0: 1250 {2}1: 1250 {2}2: 1250/);
    expect(text).toMatch(/over time {2}[▁▂▃▄▅▆▇█ ]{6} {2}\d+–\d+ \(6 buckets of/);
    expect(text).toMatch(/trend {6}-\d+\.\d%: last third/);
    expect(text).toMatch(
      /time split over 3 epoch\(s\), 4\.50s wall = 75\.0% of the job:\n {4}compute {5}53\.3% {4}2\.40s {2}█{30}\n/,
    );
    expect(text).toMatch(/bottleneck: compute/);
    expect(text).toMatch(/- \[high\] throughput fell/);
    expect(text).toMatch(
      /ETHUSDT — gru, pending \(not started\)[\s\S]*time split: unavailable — no epoch finished/,
    );
    expect(text).toMatch(/run directory: \/runs\/20260101T000000Z-aaaa$/);
  });

  it("says why the split is missing for a run trained before per-epoch timing", () => {
    const old = [epochRecord(0, { samples_per_s: 900, epoch_time_s: 1 }, { job: "BTCUSDT" })];
    const text = formatAnalysis(analyzeRun(loaded(old), { cores: 1 }));
    expect(text).toMatch(/time split: unavailable — .*retrain with the current version/);
  });
});
