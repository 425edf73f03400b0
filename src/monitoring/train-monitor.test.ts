import { describe, expect, it } from "vitest";
import { createSnapshot, type TrainingSnapshot } from "../training/callbacks/types.js";
import type { JobMonitor, MonitoredJob } from "../training/run/monitor.js";
import { type CryptomlMetrics, createMetricsRegistry } from "./registry.js";
import { jobSymbolLabel, type TrainingMonitorOptions, trainingMonitor } from "./train-monitor.js";

const JOB: MonitoredJob = { key: "BTCUSDT", model: "lstm", symbols: ["BTCUSDT"], batchSize: 4, trainRows: 8 };
const LABELS = 'symbol="BTCUSDT",model="lstm"';

function snap(step: number, loss: number): TrainingSnapshot {
  return createSnapshot({
    epoch: 0,
    step,
    positionInEpoch: step,
    metrics: { loss },
    learningRate: 0.01,
    elapsedMs: step * 100,
  });
}

/** One trial (or train job): two steps with finite losses. */
function stepTwice(job: JobMonitor): void {
  for (const callback of job.callbacks) {
    callback.onFitStart?.(snap(0, 0));
    callback.onStepEnd?.(snap(1, 0.9));
    callback.onStepEnd?.(snap(2, 0.8));
  }
}

/** A trial whose third step's loss was NaN: the Trainer's observer, then the run's end. */
function diverge(job: JobMonitor): void {
  job.observer.nonFinite?.(Number.NaN, Number.NaN);
  job.finished("diverged", "non-finite loss (NaN) at epoch 0, batch 2 (step 3)");
}

async function series(metrics: CryptomlMetrics, name: string): Promise<number | undefined> {
  const { body } = await metrics.exposition();
  const line = body.split("\n").find((l) => l.startsWith(`${name}{${LABELS}} `));
  return line === undefined ? undefined : Number(line.split(" ")[1]);
}

function setup(options?: TrainingMonitorOptions) {
  const metrics = createMetricsRegistry({ command: "tune", version: "0", defaultMetrics: false });
  return { metrics, monitor: trainingMonitor(metrics, options) };
}

describe("trainingMonitor", () => {
  it("labels a job by its symbol (ensemble members too) or pooled", () => {
    expect(jobSymbolLabel("ETHUSDT/gru")).toBe("ETHUSDT");
    expect(jobSymbolLabel("ETHUSDT")).toBe("ETHUSDT");
  });

  it("pages on a diverged job by default (cryptoml train)", async () => {
    const { metrics, monitor } = setup();
    const job = monitor.factory(JOB);
    stepTwice(job);
    diverge(job);
    expect(await series(metrics, "cryptoml_training_step_loss")).toBeNaN();
    expect(await series(metrics, "cryptoml_training_nan_events_total")).toBe(1);
  });

  it('with nonFiniteLoss "count" (cryptoml tune), a diverged trial is counted but does not page', async () => {
    const { metrics, monitor } = setup({ nonFiniteLoss: "count" });
    const first = monitor.factory(JOB);
    stepTwice(first);
    diverge(first);
    expect(await series(metrics, "cryptoml_training_nan_events_total")).toBe(1);
    expect(await series(metrics, "cryptoml_training_step_loss")).toBe(0.8);
    // The next trial writes the same series and counts on.
    const second = monitor.factory(JOB);
    stepTwice(second);
    diverge(second);
    expect(await series(metrics, "cryptoml_training_nan_events_total")).toBe(2);
    expect(await series(metrics, "cryptoml_training_step_loss")).toBe(0.8);
  });

  it("removes the heartbeat series at every trial's end, so a finished study does not look stalled", async () => {
    const { metrics, monitor } = setup({ nonFiniteLoss: "count" });
    const endings: ((job: JobMonitor) => void)[] = [
      diverge,
      (job) => job.finished("completed", "all epochs done"),
      (job) => job.finished("failed", "TrialPruned: pruned at epoch 0"),
      (job) => job.finished("interrupted", "interrupted by SIGINT"),
    ];
    for (const end of endings) {
      const trial = monitor.factory(JOB);
      stepTwice(trial);
      expect(await series(metrics, "cryptoml_training_last_step_timestamp_seconds")).toBeGreaterThan(0);
      end(trial);
      expect(await series(metrics, "cryptoml_training_last_step_timestamp_seconds")).toBeUndefined();
    }
    expect(monitor.lastBeatMs()).toBeGreaterThan(0);
  });
});
