/**
 * The built-in alert rules. `cryptoml monitor` evaluates them (with the overrides of its config file)
 * and `cryptoml monitoring generate` writes them as Prometheus rule files; docs/monitoring.md lists them.
 */
import type { AlertRule, EscalationLevel } from "./types.js";

const MINUTE = 60_000;

/** warning at once → critical after 15 minutes → page after an hour, each repeated while unacknowledged. */
export const DEFAULT_LEVELS: readonly EscalationLevel[] = [
  { severity: "warning", afterMs: 0, receivers: ["log"], repeatMs: 60 * MINUTE },
  { severity: "critical", afterMs: 15 * MINUTE, receivers: ["log"], repeatMs: 30 * MINUTE },
  { severity: "page", afterMs: 60 * MINUTE, receivers: ["log"], repeatMs: 15 * MINUTE },
];

/** A non-finite loss is never a blip: it starts at critical. */
const URGENT_LEVELS: readonly EscalationLevel[] = [
  { severity: "critical", afterMs: 0, receivers: ["log"], repeatMs: 30 * MINUTE },
  { severity: "page", afterMs: 15 * MINUTE, receivers: ["log"], repeatMs: 15 * MINUTE },
];

export const DEFAULT_RULES: readonly AlertRule[] = [
  {
    name: "TrainingLossNotFinite",
    condition: { kind: "not_finite", metric: "cryptoml_training_step_loss" },
    forMs: 0,
    summary: "Training loss of {{symbol}}/{{model}} is not finite",
    description:
      "The last step's loss is NaN or infinite; the Trainer refused the update and stopped. Lower the learning rate or check the input data, then resume from the last checkpoint.",
    levels: URGENT_LEVELS,
  },
  {
    name: "TrainingLossDiverging",
    condition: {
      kind: "window",
      metric: "cryptoml_training_loss",
      labels: { split: "val" },
      fn: "min",
      windowMs: 60 * MINUTE,
      op: ">",
      factor: 3,
    },
    forMs: 5 * MINUTE,
    summary: "Validation loss of {{symbol}}/{{model}} is over 3× its best of the last hour",
    description: "The model is diverging or overfitting; early stopping may not catch it in time.",
    levels: DEFAULT_LEVELS,
  },
  {
    name: "TrainingStalled",
    condition: { kind: "stale", metric: "cryptoml_training_last_step_timestamp_seconds", seconds: 600 },
    forMs: 0,
    summary: "Training of {{symbol}}/{{model}} has made no step for 10 minutes",
    description: "A running job has stopped stepping: a hung worker, a blocked disk or a deadlock.",
    levels: DEFAULT_LEVELS,
  },
  {
    name: "TrainingThroughputDrop",
    condition: {
      kind: "window",
      metric: "cryptoml_training_samples_per_second",
      fn: "avg",
      windowMs: 30 * MINUTE,
      op: "<",
      factor: 0.5,
    },
    forMs: 10 * MINUTE,
    summary: "Training throughput of {{symbol}}/{{model}} fell below half its 30-minute average",
    // The gauge is compute throughput (samples per second of compute), so data loading cannot lower it.
    description: "Something else is using the CPU, memory is swapping, or the CPU is thermally throttled.",
    levels: DEFAULT_LEVELS,
  },
  {
    name: "MemoryHigh",
    condition: { kind: "threshold", metric: "cryptoml_system_memory_utilization_ratio", op: ">", value: 0.9 },
    forMs: 5 * MINUTE,
    summary: "Host memory is over 90% used",
    description: "Training may be killed by the OOM killer; reduce batch size or workers.",
    levels: DEFAULT_LEVELS,
  },
  {
    name: "DiskHigh",
    condition: { kind: "threshold", metric: "cryptoml_system_disk_utilization_ratio", op: ">", value: 0.9 },
    forMs: 5 * MINUTE,
    summary: "The file system holding {{path}} is over 90% full",
    description: "Checkpoints and candle stores cannot be written once it is full; delete old runs.",
    levels: DEFAULT_LEVELS,
  },
  {
    name: "DrawdownBeyondLimit",
    condition: { kind: "threshold", metric: "cryptoml_trading_max_drawdown_ratio", op: ">", value: 0.25 },
    forMs: 0,
    summary: "Drawdown of {{symbol}}/{{strategy}} is beyond 25%",
    description: "The strategy lost more than a quarter of its peak equity.",
    levels: DEFAULT_LEVELS,
  },
  {
    name: "DataFeedStale",
    condition: { kind: "stale", metric: "cryptoml_data_last_update_timestamp_seconds", seconds: 900 },
    forMs: 0,
    summary: "No new {{symbol}} candle for 15 minutes",
    description:
      "The live market-data feed is disconnected or the exchange stopped sending. The heartbeat is the time the newest candle arrived; batch imports set it only while they run, so this rule watches live feeds.",
    levels: DEFAULT_LEVELS,
  },
  {
    name: "TargetDown",
    // `up` is synthesised by the scraper (Prometheus, or the monitor from its own scrapes); see types.ts.
    condition: { kind: "threshold", metric: "up", labels: { job: "cryptoml" }, op: "==", value: 0 },
    forMs: MINUTE,
    summary: "cryptoml at {{instance}} stopped answering scrapes",
    description:
      "The process crashed, hangs or its /metrics port is unreachable, so none of its other alerts can be evaluated; they resolve after 5 minutes without a scrape.",
    levels: DEFAULT_LEVELS,
  },
];
