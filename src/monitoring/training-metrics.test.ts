import { describe, expect, it } from "vitest";
import { createSnapshot, type TrainingSnapshot } from "../training/callbacks/types.js";
import { type CryptomlMetrics, createMetricsRegistry } from "./registry.js";
import { type NonFiniteLossPolicy, TrainingMetrics, trainingStateOf } from "./training-metrics.js";

const LABELS = 'symbol="BTCUSDT",model="lstm"';

function snap(fields: Partial<TrainingSnapshot>): TrainingSnapshot {
  return createSnapshot({
    epoch: 0,
    step: 0,
    positionInEpoch: 0,
    metrics: {},
    learningRate: 0.001,
    elapsedMs: 0,
    ...fields,
  });
}

function setup(now = 1_700_000_000_000, nonFiniteLoss?: NonFiniteLossPolicy) {
  const metrics = createMetricsRegistry({ command: "train", version: "0", defaultMetrics: false });
  const clock = { now };
  const training = new TrainingMetrics({
    metrics,
    symbol: "BTCUSDT",
    model: "lstm",
    batchSize: 4,
    trainRows: 10,
    clock: () => clock.now,
    ...(nonFiniteLoss === undefined ? {} : { nonFiniteLoss }),
  });
  return { metrics, training, clock };
}

async function sample(metrics: CryptomlMetrics, series: string): Promise<number | undefined> {
  const { body } = await metrics.exposition();
  const line = body.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function stateOf(metrics: CryptomlMetrics): Promise<Record<string, number>> {
  const { body } = await metrics.exposition();
  const states: Record<string, number> = {};
  for (const m of body.matchAll(/^cryptoml_training_state\{[^}]*state="(\w+)"\} (\S+)$/gm)) {
    states[m[1] as string] = Number(m[2]);
  }
  return states;
}

/** One epoch of 3 steps (4 + 4 + 2 samples), 1 s apart, then its epoch end. */
function runEpoch(training: TrainingMetrics, clock: { now: number }, epoch: number): void {
  for (let b = 1; b <= 3; b++) {
    clock.now += 1000;
    const step = epoch * 3 + b;
    training.onStepEnd(
      snap({
        epoch,
        step,
        positionInEpoch: b,
        elapsedMs: step * 1000,
        learningRate: 0.001,
        metrics: { loss: 1 / step, lr: 0.001, grad_norm: step, samples_per_s: 400 },
      }),
    );
  }
  training.onEpochEnd(
    snap({
      epoch,
      step: epoch * 3 + 3,
      positionInEpoch: 3,
      elapsedMs: (epoch * 3 + 3) * 1000 + 500,
      metrics: {
        train_loss: 0.5,
        val_loss: 0.75,
        val_mae: 0.1,
        val_directional_accuracy: 0.55,
        lr: 0.001,
        samples_per_s: 1234,
        epoch_time_s: 0.01,
      },
    }),
  );
}

describe("TrainingMetrics", () => {
  it("exports steps, samples (partial last batch included), losses and the heartbeat", async () => {
    const { metrics, training, clock } = setup();
    training.onFitStart(snap({}));
    expect(await stateOf(metrics)).toEqual({
      running: 1,
      completed: 0,
      stopped: 0,
      timed_out: 0,
      diverged: 0,
      failed: 0,
    });
    runEpoch(training, clock, 0);
    expect(await sample(metrics, `cryptoml_training_steps_total{${LABELS}}`)).toBe(3);
    expect(await sample(metrics, `cryptoml_training_samples_total{${LABELS}}`)).toBe(10);
    expect(await sample(metrics, `cryptoml_training_step_loss{${LABELS}}`)).toBeCloseTo(1 / 3);
    expect(await sample(metrics, `cryptoml_training_gradient_norm{${LABELS}}`)).toBe(3);
    expect(await sample(metrics, `cryptoml_training_learning_rate{${LABELS}}`)).toBe(0.001);
    expect(await sample(metrics, `cryptoml_training_loss{${LABELS},split="train"}`)).toBe(0.5);
    expect(await sample(metrics, `cryptoml_training_loss{${LABELS},split="val"}`)).toBe(0.75);
    expect(await sample(metrics, `cryptoml_training_directional_accuracy{${LABELS}}`)).toBe(0.55);
    expect(await sample(metrics, `cryptoml_training_samples_per_second{${LABELS}}`)).toBe(1234);
    expect(await sample(metrics, `cryptoml_training_epochs_total{${LABELS}}`)).toBe(1);
    expect(await sample(metrics, `cryptoml_training_seconds_total{${LABELS}}`)).toBe(3.5);
    expect(await sample(metrics, `cryptoml_training_last_step_timestamp_seconds{${LABELS}}`)).toBe(
      clock.now / 1000,
    );
    expect(training.lastBeatMs()).toBe(clock.now);

    runEpoch(training, clock, 1);
    expect(await sample(metrics, `cryptoml_training_samples_total{${LABELS}}`)).toBe(20);
    expect(await sample(metrics, `cryptoml_training_epochs_total{${LABELS}}`)).toBe(2);
    expect(await sample(metrics, `cryptoml_training_seconds_total{${LABELS}}`)).toBe(6.5);
  });

  it("starts the seconds from the first hook of a resumed fit (no onFitStart)", async () => {
    const { metrics, training } = setup();
    training.onEpochStart(snap({ epoch: 5, elapsedMs: 60_000 }));
    training.onStepEnd(
      snap({ epoch: 5, step: 16, positionInEpoch: 1, elapsedMs: 62_000, metrics: { loss: 1 } }),
    );
    expect(await sample(metrics, `cryptoml_training_seconds_total{${LABELS}}`)).toBe(2);
    expect((await stateOf(metrics)).running).toBe(1);
  });

  it("ends with exactly one state at 1, no heartbeat, and counts an early stop once", async () => {
    const { metrics, training, clock } = setup();
    training.onFitStart(snap({}));
    runEpoch(training, clock, 0);
    training.checkpointWritten();
    training.finished(
      "stopped",
      "EarlyStopping: val_loss did not improve by more than minDelta=0 for 10 epochs",
    );
    training.finished(
      "stopped",
      "EarlyStopping: val_loss did not improve by more than minDelta=0 for 10 epochs",
    );
    const states = await stateOf(metrics);
    expect(Object.values(states).filter((v) => v === 1)).toHaveLength(1);
    expect(states.stopped).toBe(1);
    expect(await sample(metrics, `cryptoml_training_early_stops_total{${LABELS}}`)).toBe(1);
    expect(await sample(metrics, `cryptoml_training_checkpoints_total{${LABELS}}`)).toBe(1);
    expect(await sample(metrics, `cryptoml_training_last_step_timestamp_seconds{${LABELS}}`)).toBeUndefined();
  });

  it("does not count a stop for another reason as an early stop", async () => {
    const { metrics, training, clock } = setup();
    training.onFitStart(snap({}));
    runEpoch(training, clock, 0);
    training.finished("timed_out", "time budget spent at step 3");
    expect((await stateOf(metrics)).timed_out).toBe(1);
    expect(await sample(metrics, `cryptoml_training_early_stops_total{${LABELS}}`)).toBeUndefined();
  });

  it("counts a NaN event and sets the step loss to NaN when the fit diverged", async () => {
    const { metrics, training, clock } = setup();
    training.onFitStart(snap({}));
    runEpoch(training, clock, 0);
    training.finished("diverged", "non-finite loss (NaN) at epoch 1, batch 0 (step 4)");
    expect((await stateOf(metrics)).diverged).toBe(1);
    expect(await sample(metrics, `cryptoml_training_nan_events_total{${LABELS}}`)).toBe(1);
    expect(await sample(metrics, `cryptoml_training_step_loss{${LABELS}}`)).toBeNaN();
  });

  it("exposes the refused step's non-finite loss by default, so the non-finite rule pages", async () => {
    const { metrics, training, clock } = setup();
    training.onFitStart(snap({}));
    runEpoch(training, clock, 0);
    training.nonFinite(Number.POSITIVE_INFINITY);
    expect((await metrics.exposition()).body).toContain(`cryptoml_training_step_loss{${LABELS}} +Inf`);
    training.nonFinite(0.5); // a finite loss with a non-finite gradient norm
    expect(await sample(metrics, `cryptoml_training_step_loss{${LABELS}}`)).toBeNaN();
  });

  it('with nonFiniteLoss "count", counts the NaN event but keeps the last finite step loss', async () => {
    const { metrics, training, clock } = setup(1_700_000_000_000, "count");
    training.onFitStart(snap({}));
    runEpoch(training, clock, 0);
    training.onStepEnd(
      snap({ epoch: 1, step: 4, positionInEpoch: 1, elapsedMs: 4000, metrics: { loss: Number.NaN } }),
    );
    training.nonFinite(Number.NaN);
    training.finished("diverged", "non-finite loss (NaN) at epoch 1, batch 0 (step 4)");
    expect((await stateOf(metrics)).diverged).toBe(1);
    expect(await sample(metrics, `cryptoml_training_nan_events_total{${LABELS}}`)).toBe(1);
    expect(await sample(metrics, `cryptoml_training_step_loss{${LABELS}}`)).toBeCloseTo(1 / 3);
    expect(await sample(metrics, `cryptoml_training_last_step_timestamp_seconds{${LABELS}}`)).toBeUndefined();
  });

  it("marks the job failed when the fit throws", async () => {
    const { metrics, training } = setup();
    training.onFitStart(snap({}));
    training.onException(snap({ elapsedMs: 1500 }), new Error("disk full"));
    expect((await stateOf(metrics)).failed).toBe(1);
    expect(await sample(metrics, `cryptoml_training_seconds_total{${LABELS}}`)).toBe(1.5);
  });

  it("maps the Trainer's fit statuses to states", () => {
    expect(trainingStateOf("completed")).toBe("completed");
    expect(trainingStateOf("stopped")).toBe("stopped");
    expect(trainingStateOf("deadline")).toBe("timed_out");
    expect(trainingStateOf("interrupted")).toBe("stopped");
    expect(trainingStateOf("diverged")).toBe("diverged");
  });
});
