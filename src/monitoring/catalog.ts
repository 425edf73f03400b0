/**
 * Every metric cryptoml exposes, in one list: the exporter registers exactly these, and the generated
 * rules and dashboards may only name these (a test checks a live /metrics output against both).
 * Labels stay low-cardinality: symbols, models, strategies, components — never run or trial IDs.
 */

export type MetricType = "counter" | "gauge" | "histogram";
export type MetricGroup = "training" | "trading" | "system" | "data" | "process";

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labels: readonly string[];
  readonly group: MetricGroup;
  /** Histogram bucket upper bounds (seconds). */
  readonly buckets?: readonly number[];
}

const TRAINING_LABELS = ["symbol", "model"] as const;
const TRADING_LABELS = ["symbol", "strategy"] as const;

/** The state names of `cryptoml_training_state` (one series per state, 1 for the current one). */
export const TRAINING_STATES = [
  "running",
  "completed",
  "stopped",
  "timed_out",
  "diverged",
  "failed",
] as const;
export type TrainingState = (typeof TRAINING_STATES)[number];

export const METRICS = [
  // training — `symbol` is the job's symbol (or "pooled"), `model` the architecture
  {
    name: "cryptoml_training_loss",
    type: "gauge",
    group: "training",
    labels: [...TRAINING_LABELS, "split"],
    help: "Loss of the last finished epoch; split is train or val.",
  },
  {
    name: "cryptoml_training_step_loss",
    type: "gauge",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Training loss of the last optimiser step (NaN or Inf when the step was non-finite).",
  },
  {
    name: "cryptoml_training_directional_accuracy",
    type: "gauge",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Validation directional accuracy of the last finished epoch (0..1).",
  },
  {
    name: "cryptoml_training_epochs_total",
    type: "counter",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Epochs finished.",
  },
  {
    name: "cryptoml_training_steps_total",
    type: "counter",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Optimiser steps applied.",
  },
  {
    name: "cryptoml_training_samples_total",
    type: "counter",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Training samples processed.",
  },
  {
    name: "cryptoml_training_samples_per_second",
    type: "gauge",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Training throughput of the last finished epoch, samples per second of compute.",
  },
  {
    name: "cryptoml_training_seconds_total",
    type: "counter",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Wall-clock seconds spent training this symbol and model.",
  },
  {
    name: "cryptoml_training_gradient_norm",
    type: "gauge",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Global gradient norm of the last optimiser step, before clipping.",
  },
  {
    name: "cryptoml_training_learning_rate",
    type: "gauge",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Learning rate of the last optimiser step.",
  },
  {
    name: "cryptoml_training_checkpoints_total",
    type: "counter",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Checkpoints written.",
  },
  {
    name: "cryptoml_training_early_stops_total",
    type: "counter",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Runs ended by early stopping.",
  },
  {
    name: "cryptoml_training_nan_events_total",
    type: "counter",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Non-finite losses or gradients (the update is refused and the run stops).",
  },
  {
    name: "cryptoml_training_state",
    type: "gauge",
    group: "training",
    labels: [...TRAINING_LABELS, "state"],
    help: "1 for the job's current state (running, completed, stopped, timed_out, diverged, failed), 0 for the others.",
  },
  {
    name: "cryptoml_training_last_step_timestamp_seconds",
    type: "gauge",
    group: "training",
    labels: TRAINING_LABELS,
    help: "Unix time of the last optimiser step of a running job (the training heartbeat); removed when the job ends.",
  },
  // trading — from backtests now, from live trading later
  {
    name: "cryptoml_trading_pnl",
    type: "gauge",
    group: "trading",
    labels: TRADING_LABELS,
    help: "Profit and loss in account currency, after fees and slippage.",
  },
  {
    name: "cryptoml_trading_hit_rate",
    type: "gauge",
    group: "trading",
    labels: TRADING_LABELS,
    help: "Share of winning trades (0..1).",
  },
  {
    name: "cryptoml_trading_sharpe_ratio",
    type: "gauge",
    group: "trading",
    labels: TRADING_LABELS,
    help: "Annualised Sharpe ratio.",
  },
  {
    name: "cryptoml_trading_drawdown_ratio",
    type: "gauge",
    group: "trading",
    labels: TRADING_LABELS,
    help: "Current drawdown from the equity peak (0..1).",
  },
  {
    name: "cryptoml_trading_max_drawdown_ratio",
    type: "gauge",
    group: "trading",
    labels: TRADING_LABELS,
    help: "Maximum drawdown from an equity peak (0..1).",
  },
  {
    name: "cryptoml_trading_balance",
    type: "gauge",
    group: "trading",
    labels: TRADING_LABELS,
    help: "Account balance in account currency.",
  },
  {
    name: "cryptoml_trading_open_positions",
    type: "gauge",
    group: "trading",
    labels: TRADING_LABELS,
    help: "Open position, signed fraction of the account (-1..1).",
  },
  {
    name: "cryptoml_trading_trades_total",
    type: "counter",
    group: "trading",
    labels: TRADING_LABELS,
    help: "Trades executed (position changes).",
  },
  {
    name: "cryptoml_trading_order_execution_seconds",
    type: "histogram",
    group: "trading",
    labels: TRADING_LABELS,
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    help: "Time from signal to executed order.",
  },
  // system — host-wide unless the name says process
  {
    name: "cryptoml_system_cpu_utilization_ratio",
    type: "gauge",
    group: "system",
    labels: [],
    help: "Host CPU busy share (0..1) over the system collector's last complete sampling window (5 s by default); every scraper sees the same value however often it scrapes.",
  },
  {
    name: "cryptoml_system_memory_used_bytes",
    type: "gauge",
    group: "system",
    labels: [],
    help: "Host memory in use (total minus available).",
  },
  {
    name: "cryptoml_system_memory_total_bytes",
    type: "gauge",
    group: "system",
    labels: [],
    help: "Host memory in all.",
  },
  {
    name: "cryptoml_system_memory_utilization_ratio",
    type: "gauge",
    group: "system",
    labels: [],
    help: "Host memory in use over total (0..1).",
  },
  {
    name: "cryptoml_system_disk_free_bytes",
    type: "gauge",
    group: "system",
    labels: ["path"],
    help: "Free bytes on the file system holding path (the runs and data directories).",
  },
  {
    name: "cryptoml_system_disk_size_bytes",
    type: "gauge",
    group: "system",
    labels: ["path"],
    help: "Size of the file system holding path.",
  },
  {
    name: "cryptoml_system_disk_utilization_ratio",
    type: "gauge",
    group: "system",
    labels: ["path"],
    help: "Used share of the file system holding path (0..1).",
  },
  {
    name: "cryptoml_system_network_received_bytes_total",
    type: "counter",
    group: "system",
    labels: ["interface"],
    help: "Bytes received by the host per network interface.",
  },
  {
    name: "cryptoml_system_network_transmitted_bytes_total",
    type: "counter",
    group: "system",
    labels: ["interface"],
    help: "Bytes sent by the host per network interface.",
  },
  {
    name: "cryptoml_system_load_average",
    type: "gauge",
    group: "system",
    labels: ["period"],
    help: "Host load average over period 1m, 5m or 15m.",
  },
  {
    name: "cryptoml_system_event_loop_lag_seconds",
    type: "gauge",
    group: "system",
    labels: ["quantile"],
    help: "Event-loop delay of this process at quantile 0.5, 0.99 or 1 over the system collector's last complete sampling window (5 s by default); every scraper sees the same value however often it scrapes.",
  },
  {
    name: "cryptoml_system_gpu_utilization_ratio",
    type: "gauge",
    group: "system",
    labels: ["gpu"],
    help: "GPU busy share from nvidia-smi (0..1); absent without a GPU.",
  },
  {
    name: "cryptoml_system_gpu_memory_used_bytes",
    type: "gauge",
    group: "system",
    labels: ["gpu"],
    help: "GPU memory in use from nvidia-smi.",
  },
  {
    name: "cryptoml_system_gpu_memory_total_bytes",
    type: "gauge",
    group: "system",
    labels: ["gpu"],
    help: "GPU memory in all from nvidia-smi.",
  },
  {
    name: "cryptoml_errors_total",
    type: "counter",
    group: "system",
    labels: ["component"],
    help: "Errors by component (training, tracking, data, monitoring, …).",
  },
  // data
  {
    name: "cryptoml_data_candles_total",
    type: "counter",
    group: "data",
    labels: ["symbol", "source"],
    help: "Candles received or imported.",
  },
  {
    name: "cryptoml_data_ticks_total",
    type: "counter",
    group: "data",
    labels: ["symbol", "source"],
    help: "Trades (ticks) received or imported.",
  },
  {
    name: "cryptoml_data_processing_seconds",
    type: "histogram",
    group: "data",
    labels: ["stage"],
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    help: "Processing latency per stage (parse, validate, store, features).",
  },
  {
    name: "cryptoml_data_websocket_connections",
    type: "gauge",
    group: "data",
    labels: ["source"],
    help: "Open market-data WebSocket connections.",
  },
  {
    name: "cryptoml_data_queue_messages",
    type: "gauge",
    group: "data",
    labels: ["queue"],
    help: "Messages waiting in a queue.",
  },
  {
    name: "cryptoml_data_store_operations_total",
    type: "counter",
    group: "data",
    labels: ["store", "operation"],
    help: "Store operations (read, write) by store.",
  },
  {
    name: "cryptoml_data_last_update_timestamp_seconds",
    type: "gauge",
    group: "data",
    labels: ["symbol"],
    help: "Unix time (seconds) when the newest candle of the symbol arrived; the data-feed heartbeat.",
  },
  // process
  {
    name: "cryptoml_build_info",
    type: "gauge",
    group: "process",
    labels: ["version", "command"],
    help: "1, labelled with the cryptoml version and the command this process runs.",
  },
] as const satisfies readonly MetricSpec[];

export type MetricName = (typeof METRICS)[number]["name"];

/** The scrape job of cryptoml processes: in generated Prometheus files and on the monitor's synthetic `up`. */
export const CRYPTOML_JOB = "cryptoml";

/**
 * Series that no cryptoml process exposes: the scraper synthesises them per target — Prometheus for
 * its scrape job `cryptoml`, and `cryptoml monitor` from its own scrapes (`up` is 1 after a good scrape,
 * 0 after a failed one). Rules, rules files and dashboards may read them; a live /metrics never has them.
 */
export const SCRAPE_METRICS = [
  {
    name: "up",
    type: "gauge",
    group: "process",
    labels: ["job", "instance"],
    help: "1 when the last scrape of the target succeeded, 0 when it failed (synthesised by the scraper).",
  },
] as const satisfies readonly MetricSpec[];

/** The spec of a catalog metric or a {@link SCRAPE_METRICS} series; undefined for any other name. */
export function selectableMetricSpec(name: string): MetricSpec | undefined {
  return ([...METRICS, ...SCRAPE_METRICS] as readonly MetricSpec[]).find((m) => m.name === name);
}

/** The spec of `name`; throws for a name not in the catalog (a typo in a rule or dashboard). */
export function metricSpec(name: string): MetricSpec {
  const spec = (METRICS as readonly MetricSpec[]).find((m) => m.name === name);
  if (spec === undefined) throw new Error(`${name} is not a cryptoml metric (see src/monitoring/catalog.ts)`);
  return spec;
}
