/**
 * The four generated Grafana dashboards. Every query names only metrics of src/monitoring/catalog.ts
 * (a test checks it) and filters by the dashboard's template variables.
 */
import type * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import { buildDashboard, type DashboardSpec, type PanelSpec, type Query } from "./panels.js";

const TRAIN = '{symbol=~"$symbol",model=~"$model"}';
const TRADE = '{symbol=~"$symbol",strategy=~"$strategy"}';
const HOST = '{instance=~"$instance"}';

const series = (title: string, unit: string, description: string, ...queries: Query[]): PanelSpec => ({
  kind: "timeseries",
  title,
  unit,
  description,
  queries,
});
const single = (title: string, unit: string, description: string, query: Query): PanelSpec => ({
  kind: "stat",
  title,
  unit,
  description,
  queries: [query],
});
const ratio = (panel: PanelSpec): PanelSpec => ({ ...panel, min: 0, max: 1 });

/** p50 and p99 of a histogram's rate over 5 minutes, per `by` labels. */
function quantiles(histogram: string, selector: string, by: string): Query[] {
  return [0.5, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le, ${by}) (rate(${histogram}_bucket${selector}[5m])))`,
    legend: `p${q * 100} {{${by}}}`,
  }));
}

const TRAINING: DashboardSpec = {
  uid: "cryptoml-ml-training",
  title: "ML Training",
  description: "Loss, throughput and optimiser state of cryptoml training jobs, per symbol and model.",
  file: "ml-training.json",
  variables: [
    { name: "symbol", label: "Symbol", metric: "cryptoml_training_loss" },
    { name: "model", label: "Model", metric: "cryptoml_training_loss" },
  ],
  rows: [
    {
      title: "Loss",
      panels: [
        series("Epoch loss (train / val)", "none", "Loss of the last finished epoch.", {
          expr: `cryptoml_training_loss${TRAIN}`,
          legend: "{{symbol}}/{{model}} {{split}}",
        }),
        series("Step loss", "none", "Loss of the last optimiser step; gaps are NaN or Inf.", {
          expr: `cryptoml_training_step_loss${TRAIN}`,
          legend: "{{symbol}}/{{model}}",
        }),
        ratio(
          series("Directional accuracy (val)", "percentunit", "Share of correctly predicted directions.", {
            expr: `cryptoml_training_directional_accuracy${TRAIN}`,
            legend: "{{symbol}}/{{model}}",
          }),
        ),
        series("NaN events per hour", "short", "Non-finite losses or gradients; each stops its run.", {
          expr: `increase(cryptoml_training_nan_events_total${TRAIN}[1h])`,
          legend: "{{symbol}}/{{model}}",
        }),
      ],
    },
    {
      title: "Throughput",
      panels: [
        series("Samples per second", "short", "Throughput of the last finished epoch.", {
          expr: `cryptoml_training_samples_per_second${TRAIN}`,
          legend: "{{symbol}}/{{model}}",
        }),
        series("Steps per second", "short", "Optimiser steps per second over 5 minutes.", {
          expr: `rate(cryptoml_training_steps_total${TRAIN}[5m])`,
          legend: "{{symbol}}/{{model}}",
        }),
        single("Epochs done", "short", "Epochs finished by the selected jobs.", {
          expr: `sum(cryptoml_training_epochs_total${TRAIN})`,
        }),
        single("Samples processed", "short", "Training samples processed by the selected jobs.", {
          expr: `sum(cryptoml_training_samples_total${TRAIN})`,
        }),
        single("Training time", "s", "Wall-clock time spent training the selected jobs.", {
          expr: `sum(cryptoml_training_seconds_total${TRAIN})`,
        }),
        single("Seconds since last step", "s", "Age of the training heartbeat; over 600 s alerts.", {
          expr: `max(time() - cryptoml_training_last_step_timestamp_seconds${TRAIN})`,
        }),
      ],
    },
    {
      title: "Optimiser and job state",
      panels: [
        series("Gradient norm", "none", "Global gradient norm before clipping.", {
          expr: `cryptoml_training_gradient_norm${TRAIN}`,
          legend: "{{symbol}}/{{model}}",
        }),
        series("Learning rate", "none", "Learning rate of the last step.", {
          expr: `cryptoml_training_learning_rate${TRAIN}`,
          legend: "{{symbol}}/{{model}}",
        }),
        series(
          "Checkpoints and early stops per hour",
          "short",
          "Checkpoints written and runs stopped early.",
          {
            expr: `increase(cryptoml_training_checkpoints_total${TRAIN}[1h])`,
            legend: "checkpoints {{symbol}}/{{model}}",
          },
          {
            expr: `increase(cryptoml_training_early_stops_total${TRAIN}[1h])`,
            legend: "early stops {{symbol}}/{{model}}",
          },
        ),
        series("Job state", "short", "1 while the job is in this state.", {
          expr: `cryptoml_training_state${TRAIN} == 1`,
          legend: "{{symbol}}/{{model}} {{state}}",
        }),
      ],
    },
  ],
};

const TRADING: DashboardSpec = {
  uid: "cryptoml-trading-overview",
  title: "Trading Overview",
  description: "PnL, risk and activity of cryptoml strategies (backtests now, live trading later).",
  file: "trading-overview.json",
  variables: [
    { name: "symbol", label: "Symbol", metric: "cryptoml_trading_pnl" },
    { name: "strategy", label: "Strategy", metric: "cryptoml_trading_pnl" },
  ],
  rows: [
    {
      title: "Summary",
      panels: [
        single("Total PnL", "short", "Sum of PnL after fees and slippage.", {
          expr: `sum(cryptoml_trading_pnl${TRADE})`,
        }),
        single("Balance", "short", "Sum of account balances.", {
          expr: `sum(cryptoml_trading_balance${TRADE})`,
        }),
        single("Worst max drawdown", "percentunit", "Largest maximum drawdown; over 25% alerts.", {
          expr: `max(cryptoml_trading_max_drawdown_ratio${TRADE})`,
        }),
        single("Trades (24h)", "short", "Position changes in the last day.", {
          expr: `sum(increase(cryptoml_trading_trades_total${TRADE}[24h]))`,
        }),
      ],
    },
    {
      title: "Performance",
      panels: [
        series("PnL", "short", "Profit and loss in account currency.", {
          expr: `cryptoml_trading_pnl${TRADE}`,
          legend: "{{symbol}} {{strategy}}",
        }),
        series("Account balance", "short", "Balance in account currency.", {
          expr: `cryptoml_trading_balance${TRADE}`,
          legend: "{{symbol}} {{strategy}}",
        }),
        series("Sharpe ratio", "none", "Annualised Sharpe ratio.", {
          expr: `cryptoml_trading_sharpe_ratio${TRADE}`,
          legend: "{{symbol}} {{strategy}}",
        }),
        ratio(
          series("Hit rate", "percentunit", "Share of winning trades.", {
            expr: `cryptoml_trading_hit_rate${TRADE}`,
            legend: "{{symbol}} {{strategy}}",
          }),
        ),
      ],
    },
    {
      title: "Risk and activity",
      panels: [
        ratio(
          series(
            "Drawdown",
            "percentunit",
            "Current and maximum drawdown from the equity peak.",
            {
              expr: `cryptoml_trading_drawdown_ratio${TRADE}`,
              legend: "current {{symbol}} {{strategy}}",
            },
            {
              expr: `cryptoml_trading_max_drawdown_ratio${TRADE}`,
              legend: "max {{symbol}} {{strategy}}",
            },
          ),
        ),
        series("Open positions", "percentunit", "Signed position as a fraction of the account.", {
          expr: `cryptoml_trading_open_positions${TRADE}`,
          legend: "{{symbol}} {{strategy}}",
        }),
        series("Trades per hour", "short", "Position changes per hour.", {
          expr: `increase(cryptoml_trading_trades_total${TRADE}[1h])`,
          legend: "{{symbol}} {{strategy}}",
        }),
        series(
          "Order execution time",
          "s",
          "Signal to executed order, p50 and p99 over 5 minutes.",
          ...quantiles("cryptoml_trading_order_execution_seconds", TRADE, "strategy"),
        ),
      ],
    },
  ],
};

const DATA: DashboardSpec = {
  uid: "cryptoml-data-collection",
  title: "Data Collection",
  description: "Market data arriving, its processing latency, connections, queues and store operations.",
  file: "data-collection.json",
  variables: [{ name: "symbol", label: "Symbol", metric: "cryptoml_data_candles_total" }],
  rows: [
    {
      title: "Feed",
      panels: [
        series("Candles per second", "short", "Candles received or imported, by source.", {
          expr: `sum by (symbol, source) (rate(cryptoml_data_candles_total{symbol=~"$symbol"}[5m]))`,
          legend: "{{symbol}} {{source}}",
        }),
        series("Ticks per second", "short", "Trades received or imported, by source.", {
          expr: `sum by (symbol, source) (rate(cryptoml_data_ticks_total{symbol=~"$symbol"}[5m]))`,
          legend: "{{symbol}} {{source}}",
        }),
        series("Seconds since the newest candle", "s", "Age of the data-feed heartbeat; over 900 s alerts.", {
          expr: `time() - cryptoml_data_last_update_timestamp_seconds{symbol=~"$symbol"}`,
          legend: "{{symbol}}",
        }),
        series(
          "Processing latency",
          "s",
          "p50 and p99 per stage (parse, validate, store, features) over 5 minutes.",
          ...quantiles("cryptoml_data_processing_seconds", "", "stage"),
        ),
      ],
    },
    {
      title: "Connections, queues and stores",
      panels: [
        series("WebSocket connections", "short", "Open market-data WebSocket connections.", {
          expr: "cryptoml_data_websocket_connections",
          legend: "{{source}}",
        }),
        series("Queue messages", "short", "Messages waiting per queue.", {
          expr: "cryptoml_data_queue_messages",
          legend: "{{queue}}",
        }),
        {
          ...series("Store operations per second", "ops", "Reads and writes per store.", {
            expr: "sum by (store, operation) (rate(cryptoml_data_store_operations_total[5m]))",
            legend: "{{store}} {{operation}}",
          }),
          width: 24,
        },
      ],
    },
  ],
};

const SYSTEM: DashboardSpec = {
  uid: "cryptoml-system-performance",
  title: "System Performance",
  description: "Host and process health of the machines running cryptoml.",
  file: "system-performance.json",
  variables: [{ name: "instance", label: "Instance", metric: "cryptoml_build_info" }],
  rows: [
    {
      title: "CPU, memory and process",
      panels: [
        ratio(
          series("CPU", "percentunit", "Host CPU busy share.", {
            expr: `cryptoml_system_cpu_utilization_ratio${HOST}`,
            legend: "{{instance}}",
          }),
        ),
        ratio(
          series("Memory used", "percentunit", "Host memory in use over total; over 90% alerts.", {
            expr: `cryptoml_system_memory_utilization_ratio${HOST}`,
            legend: "{{instance}}",
          }),
        ),
        series(
          "Memory bytes",
          "bytes",
          "Host memory in use and in all.",
          {
            expr: `cryptoml_system_memory_used_bytes${HOST}`,
            legend: "used {{instance}}",
          },
          {
            expr: `cryptoml_system_memory_total_bytes${HOST}`,
            legend: "total {{instance}}",
          },
        ),
        series("Load average", "short", "Host load over 1, 5 and 15 minutes.", {
          expr: `cryptoml_system_load_average${HOST}`,
          legend: "{{period}} {{instance}}",
        }),
        series("Event-loop lag", "s", "Event-loop delay of the cryptoml process.", {
          expr: `cryptoml_system_event_loop_lag_seconds${HOST}`,
          legend: "q{{quantile}} {{instance}}",
        }),
      ],
    },
    {
      title: "Disk and network",
      panels: [
        ratio(
          series(
            "Disk used",
            "percentunit",
            "Used share of the file systems holding runs and data; over 90% alerts.",
            {
              expr: `cryptoml_system_disk_utilization_ratio${HOST}`,
              legend: "{{path}} {{instance}}",
            },
          ),
        ),
        series(
          "Disk free and size",
          "bytes",
          "Free bytes and size per file system.",
          { expr: `cryptoml_system_disk_free_bytes${HOST}`, legend: "free {{path}} {{instance}}" },
          { expr: `cryptoml_system_disk_size_bytes${HOST}`, legend: "size {{path}} {{instance}}" },
        ),
        series(
          "Network",
          "Bps",
          "Bytes per second received and sent per interface.",
          {
            expr: `rate(cryptoml_system_network_received_bytes_total${HOST}[5m])`,
            legend: "in {{interface}} {{instance}}",
          },
          {
            expr: `rate(cryptoml_system_network_transmitted_bytes_total${HOST}[5m])`,
            legend: "out {{interface}} {{instance}}",
          },
        ),
        series("Errors per second", "short", "Errors by component.", {
          expr: `sum by (component) (rate(cryptoml_errors_total${HOST}[5m]))`,
          legend: "{{component}}",
        }),
      ],
    },
    {
      title: "GPU",
      panels: [
        ratio(
          series("GPU utilisation", "percentunit", "GPU busy share from nvidia-smi; empty without a GPU.", {
            expr: `cryptoml_system_gpu_utilization_ratio${HOST}`,
            legend: "gpu {{gpu}} {{instance}}",
          }),
        ),
        series(
          "GPU memory",
          "bytes",
          "GPU memory in use and in all.",
          {
            expr: `cryptoml_system_gpu_memory_used_bytes${HOST}`,
            legend: "used gpu {{gpu}} {{instance}}",
          },
          {
            expr: `cryptoml_system_gpu_memory_total_bytes${HOST}`,
            legend: "total gpu {{gpu}} {{instance}}",
          },
        ),
      ],
    },
  ],
};

/** The specs of the four dashboards, in menu order. */
export const DASHBOARD_SPECS: readonly DashboardSpec[] = [TRADING, TRAINING, DATA, SYSTEM];

/** Each dashboard's file name under grafana/dashboards/ and its JSON model. */
export function dashboards(): { file: string; dashboard: dashboard.Dashboard }[] {
  return DASHBOARD_SPECS.map((spec) => ({ file: spec.file, dashboard: buildDashboard(spec) }));
}
