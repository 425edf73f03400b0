/** Synthetic metrics.jsonl records for the analysis's unit tests. */
import type { MetricsRecord, RunSettings } from "./types.js";

/** Start of the synthetic runs' clock (epoch ms); tests never depend on the real time. */
export const T0 = Date.UTC(2026, 0, 1);

export function stepRecord(
  step: number,
  samplesPerS: number,
  timeMs: number | null,
  job = "BTCUSDT",
  epoch = 0,
): MetricsRecord {
  return { job, scope: "step", step, epoch, timeMs, metrics: { loss: 1, samples_per_s: samplesPerS } };
}

export function epochRecord(
  epoch: number,
  metrics: Record<string, number>,
  { job = "BTCUSDT", step = (epoch + 1) * 10, timeMs = T0 + (epoch + 1) * 1000 } = {},
): MetricsRecord {
  return { job, scope: "epoch", step, epoch, timeMs, metrics };
}

/** An epoch with the Trainer's timing: `parts` in seconds, wall = their sum + `other`. */
export function timedEpoch(
  epoch: number,
  parts: Partial<Record<"data" | "compute" | "logging" | "checkpoint" | "callbacks" | "validation", number>>,
  other = 0,
  extra: Record<string, number> = {},
): MetricsRecord {
  const timing: Record<string, number> = {};
  let wall = other;
  for (const [part, seconds] of Object.entries(parts)) {
    timing[`time_${part}_s`] = seconds;
    wall += seconds;
  }
  return epochRecord(epoch, {
    train_loss: 1,
    samples_per_s: 1000,
    epoch_time_s: parts.compute ?? 0,
    time_wall_s: wall,
    ...timing,
    ...extra,
  });
}

export const SETTINGS: RunSettings = {
  batchSize: 64,
  epochs: 50,
  workers: 1,
  learningRate: 0.001,
  gradientClip: 1,
  checkpointEveryMinutes: 5,
  checkpointEverySteps: 0,
  earlyStoppingPatience: 10,
  validationFraction: 0.15,
  trackingEnabled: true,
  window: 64,
};
