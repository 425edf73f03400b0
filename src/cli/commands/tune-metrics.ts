/**
 * What `cryptoml tune` exports while it searches: each fold's training progress (labelled by the tuned
 * symbol and architecture, never a trial number) and, with `--objective sharpe`, each fold's backtest.
 */
import { resolve } from "node:path";
import type { ResolvedConfig } from "../../config/index.js";
import type { Exporter } from "../../monitoring/exporter.js";
import { heartbeatCheck, redisCheck } from "../../monitoring/readiness.js";
import type { CryptomlMetrics } from "../../monitoring/registry.js";
import { recordTradingAccount, type TradingLabels } from "../../monitoring/trading-metrics.js";
import { type TrainingMonitor, trainingMonitor } from "../../monitoring/train-monitor.js";
import type { ModelObjectiveOptions } from "../../tuning/objective.js";
import type { FoldBacktestResult } from "../../tuning/trading-objective.js";
import type { CliContext } from "../context.js";
import { HEARTBEAT_MAX_AGE_MS, type MetricsFlags, serveMetrics } from "./metrics-serving.js";

/** What the objective tells the exporter: each fold's training progress and its backtest. */
export type TuneHooks = Pick<ModelObjectiveOptions, "monitor" | "onFoldBacktest">;

/**
 * Sets the trading gauges of a `--objective sharpe` fold. The fold is traded by an account starting at 1,
 * so `cryptoml_trading_pnl` is the fold's return and `cryptoml_trading_balance` 1 + it; the gauges show
 * the latest fold of the symbol, the trades counter adds up every fold's trades.
 */
function recordFoldTrading(metrics: CryptomlMetrics, labels: TradingLabels, fold: FoldBacktestResult): void {
  const { account } = fold;
  recordTradingAccount(metrics, labels, {
    pnl: account.pnl,
    tradeHitRate: account.tradeHitRate,
    sharpe: fold.sharpe,
    maxDrawdown: fold.maxDrawdown,
    drawdown: account.drawdown,
    balance: account.finalBalance,
    position: account.position,
    trades: account.trades,
  });
}

/**
 * Serves /metrics while this process tunes, labelled by the tuned symbol and architecture (never a trial
 * number). `--jobs` workers run with `--no-metrics`: the parent alone serves, so they do not fight for
 * the port, and its endpoint shows the trials the parent runs.
 */
export async function serveTuneMetrics(
  ctx: CliContext,
  options: MetricsFlags & { readonly storage?: string },
  config: ResolvedConfig,
  log: (line: string) => void,
): Promise<{ exporter?: Exporter; hooks: TuneHooks }> {
  const storage = options.storage ?? "";
  // A study on Redis is only as ready as its Redis: /ready asks it too.
  const onRedis = storage.startsWith("redis://") || storage.startsWith("rediss://");
  let monitor: TrainingMonitor | undefined;
  const exporter = await serveMetrics(ctx, options, {
    monitoring: config.monitoring,
    command: "tune",
    paths: [resolve(config.data.store_dir)],
    log,
    checks: (metrics) => {
      // Every trial writes the same {symbol, model} series, and diverging is routine for a sampled
      // learning rate: count the NaN event, but keep the step loss finite so no trial pages.
      const watched = trainingMonitor(metrics, { nonFiniteLoss: "count" });
      monitor = watched;
      return [
        heartbeatCheck("training", () => watched.lastBeatMs(), HEARTBEAT_MAX_AGE_MS),
        ...(onRedis ? [redisCheck(storage.split("?")[0] as string, 2000, "redis")] : []),
      ];
    },
  });
  if (exporter === undefined || monitor === undefined) return { hooks: {} };
  const { metrics } = exporter;
  return {
    exporter,
    hooks: {
      monitor: monitor.factory,
      onFoldBacktest: (symbol, strategy, fold) => recordFoldTrading(metrics, { symbol, strategy }, fold),
    },
  };
}
