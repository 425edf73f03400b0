import { describe, expect, it } from "vitest";
import { type JobFacts, recommend } from "./recommend.js";
import { SETTINGS, timedEpoch } from "./test-records.js";
import { splitTime } from "./time-split.js";
import type { MetricsRecord, RunSettings, ThroughputAnalysis, ThroughputTrend } from "./types.js";

const FLAT: ThroughputAnalysis = { epochs: [], buckets: [], sparkline: "", trend: null };

/** A healthy, compute-bound job on two workers; each test changes what it is about. */
function facts(
  overrides: Partial<Omit<JobFacts, "settings">> & {
    settings?: Partial<RunSettings>;
    records?: MetricsRecord[];
  } = {},
): JobFacts {
  const { records, settings, ...rest } = overrides;
  const epochs = records ?? [timedEpoch(0, { compute: 9, data: 0.5, validation: 0.5 })];
  return {
    outcome: {
      job: "BTCUSDT",
      model: "gru",
      status: "completed",
      reason: "completed",
      epochs: 5,
      steps: 500,
      wallMs: 60_000,
    },
    settings: { ...SETTINGS, workers: 2, ...settings },
    split: splitTime(epochs, 60),
    throughput: FLAT,
    medianEpochS: 10,
    cores: 4,
    jobCount: 1,
    runDir: "/runs/r1",
    ...rest,
  };
}

const ids = (f: JobFacts) => recommend(f).map((r) => r.id);
const find = (f: JobFacts, id: string) => recommend(f).find((r) => r.id === id);

describe("recommend", () => {
  it("has nothing to say about a healthy compute-bound job with several workers", () => {
    expect(recommend(facts())).toEqual([]);
  });

  it("points at the data pipeline above 15% and suggests doubling training.batch_size", () => {
    expect(ids(facts({ records: [timedEpoch(0, { compute: 8.5, data: 1.5 })] }))).not.toContain(
      "data-pipeline",
    );
    const r = find(facts({ records: [timedEpoch(0, { compute: 7, data: 3 })] }), "data-pipeline");
    expect(r?.changes).toEqual([{ key: "training.batch_size", from: 64, to: 128 }]);
    expect(r?.message).toMatch(/30\.0% of the epochs' wall time/);
    expect(r?.severity).toBe("medium");
  });

  it("raises training.checkpoint_every_minutes when the time trigger fires inside long epochs", () => {
    const r = find(
      facts({ records: [timedEpoch(0, { compute: 90, checkpoint: 10 })], medianEpochS: 1200 }),
      "checkpointing",
    );
    // 10% against a 2% target: 5 minutes × 5 = 25, rounded up to 30.
    expect(r?.changes).toEqual([{ key: "training.checkpoint_every_minutes", from: 5, to: 30 }]);
    expect(r?.message).toMatch(/from 5 to 30/);
  });

  it("raises training.checkpoint_every_steps when step checkpoints are on", () => {
    const r = find(
      facts({
        records: [timedEpoch(0, { compute: 9, checkpoint: 1 })],
        settings: { checkpointEverySteps: 100 },
      }),
      "checkpointing",
    );
    expect(r?.changes).toEqual([{ key: "training.checkpoint_every_steps", from: 100, to: 500 }]);
  });

  it("says epoch-end checkpoints cost the time when epochs are shorter than the time trigger", () => {
    const r = find(
      facts({ records: [timedEpoch(0, { compute: 9, checkpoint: 1 })], medianEpochS: 10 }),
      "checkpointing",
    );
    expect(r?.changes).toEqual([]);
    expect(r?.message).toMatch(/training\.checkpoint_every_minutes = 5 does not fire/);
  });

  it("suggests turning tracking off when logging takes more than 5%", () => {
    const records = [timedEpoch(0, { compute: 9, logging: 1 })];
    expect(find(facts({ records }), "logging")?.changes).toEqual([
      { key: "tracking.enabled", from: true, to: false },
    ]);
    const off = find(facts({ records, settings: { trackingEnabled: false } }), "logging");
    expect(off?.changes).toEqual([]);
    expect(off?.message).toMatch(/training\.runs_dir/);
    expect(ids(facts({ records: [timedEpoch(0, { compute: 9.6, logging: 0.4 })] }))).not.toContain("logging");
  });

  it("suggests a smaller validation part when validation takes more than 25%", () => {
    const r = find(facts({ records: [timedEpoch(0, { compute: 6, validation: 4 })] }), "validation");
    expect(r?.changes).toEqual([{ key: "dataset.split.validation", from: 0.15, to: 0.08 }]);
  });

  it("suggests --workers for a compute-bound job on one worker when the machine has more cores", () => {
    const r = find(facts({ settings: { workers: 1 }, cores: 16 }), "workers");
    expect(r?.changes).toEqual([{ key: "training.workers", from: 1, to: 8 }]);
    expect(r?.message).toMatch(/--workers 8/);
    expect(ids(facts({ settings: { workers: 1 }, cores: 1 }))).not.toContain("workers");
    const dataBound = facts({ settings: { workers: 1 }, records: [timedEpoch(0, { compute: 4, data: 6 })] });
    expect(ids(dataBound)).not.toContain("workers");
  });

  it("reports a throughput drop of more than 20% as a machine problem", () => {
    const trend = (changePct: number): ThroughputTrend => ({
      basis: "steps",
      firstThird: 1000,
      lastThird: 1000 * (1 + changePct / 100),
      changePct,
    });
    const r = find(facts({ throughput: { ...FLAT, trend: trend(-30) } }), "throughput-drop");
    expect(r?.severity).toBe("high");
    expect(r?.message).toMatch(/fell 30\.0%.*from 1000 to 700 samples\/s.*memory pressure/);
    expect(ids(facts({ throughput: { ...FLAT, trend: trend(-15) } }))).not.toContain("throughput-drop");
  });

  it("notes very short epochs, quoting early stopping's patience in seconds", () => {
    const r = find(facts({ medianEpochS: 0.5 }), "short-epochs");
    expect(r?.message).toMatch(/training\.early_stopping_patience = 10 epochs is only about 5\.00s/);
    expect(ids(facts({ medianEpochS: 0.5, outcome: { ...facts().outcome, epochs: 2 } }))).not.toContain(
      "short-epochs",
    );
  });

  it("explains an early stop and offers a longer patience", () => {
    const outcome = {
      ...facts().outcome,
      status: "stopped",
      reason: "val_loss did not improve for 10 epochs",
    };
    const r = find(facts({ outcome }), "early-stop");
    expect(r?.changes).toEqual([{ key: "training.early_stopping_patience", from: 10, to: 20 }]);
  });

  it("sizes --duration for a job the time budget cut short", () => {
    const outcome = { ...facts().outcome, status: "deadline", epochs: 5, wallMs: 60_000 };
    const r = find(facts({ outcome, jobCount: 3 }), "deadline");
    // 12 s per epoch × 50 epochs = 600 s per job, × 3 jobs = 30 minutes.
    expect(r?.message).toMatch(/--duration 30m/);
    expect(r?.changes).toEqual([{ key: "training.epochs", from: 50, to: 5 }]);
    const none = find(facts({ outcome: { ...outcome, epochs: 0 } }), "deadline");
    expect(none?.severity).toBe("high");
  });

  it("lowers the learning rate of a diverged job, most severe first", () => {
    const outcome = { ...facts().outcome, status: "diverged", reason: "non-finite loss (NaN)" };
    const all = recommend(
      facts({ outcome, settings: { gradientClip: 0 }, records: [timedEpoch(0, { compute: 7, data: 3 })] }),
    );
    expect(all[0]?.id).toBe("diverged");
    expect(all[0]?.changes).toEqual([
      { key: "training.learning_rate", from: 0.001, to: 0.00033 },
      { key: "training.gradient_clip", from: 0, to: 1 },
    ]);
  });

  it("tells how to resume an interrupted job", () => {
    const outcome = { ...facts().outcome, status: "interrupted", reason: "interrupted (Ctrl-C)" };
    expect(find(facts({ outcome }), "interrupted")?.message).toMatch(/cryptoml train --resume \/runs\/r1/);
  });

  it("gives no split-based advice when the split is unavailable", () => {
    const split = { available: false as const, reason: "old run" };
    expect(recommend(facts({ split, settings: { workers: 1 } }))).toEqual([]);
  });
});
