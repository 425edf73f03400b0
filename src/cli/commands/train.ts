import { resolve } from "node:path";
import type { Command } from "commander";
import { loadConfig } from "../../config/index.js";
import { MODEL_NAMES, type ModelName } from "../../config/schema/models.js";
import { CryptomlError, UsageError } from "../../core/errors.js";
import { parseInterval } from "../../data/intervals.js";
import { ArrowFileCandleStore } from "../../data/store/arrow-file-store.js";
import { parseSymbols } from "../../data/symbols.js";
import { heartbeatCheck, trackingStoreCheck } from "../../monitoring/readiness.js";
import { type TrainingMonitor, trainingMonitor } from "../../monitoring/train-monitor.js";
import { openTracking, spoolDirFor, trackingUri } from "../../tracking/open.js";
import { parseDuration } from "../../training/duration.js";
import { resumeTrainingRun, startTrainingRun } from "../../training/run/session.js";
import { formatSummary, type RunSummary } from "../../training/run/summary.js";
import { type CliContext, print } from "../context.js";
import { readStoredSeries } from "./data.js";
import { HEARTBEAT_MAX_AGE_MS, metricsOptions, serveMetrics } from "./metrics-serving.js";

interface TrainOptions {
  duration?: string;
  symbols?: string;
  model?: string;
  pooled?: boolean;
  workers?: string;
  resume?: string | boolean;
  json?: boolean;
  trackingUri?: string;
  track?: boolean;
  metricsPort?: string;
  metrics?: boolean;
}

function parseWorkers(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--workers ${value} must be an integer >= 1`, {
      hint: "use at most one worker per CPU core, e.g. --workers 2",
    });
  }
  return n;
}

function parseModel(value: string): ModelName {
  if (!(MODEL_NAMES as readonly string[]).includes(value)) {
    throw new UsageError(`--model ${value} is not an architecture`, {
      hint: `use one of ${MODEL_NAMES.join(", ")}`,
    });
  }
  return value as ModelName;
}

/**
 * Ctrl-C stops the run gracefully (the current step ends and a resumable checkpoint is written); a
 * second Ctrl-C exits at once.
 */
function interruptOnSigint(log: (line: string) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    log("interrupt: finishing the current step and writing a checkpoint (Ctrl-C again to exit at once)");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigint);
    },
  };
}

export function registerTrainCommands(program: Command, getContext: () => CliContext): void {
  const train = program
    .command("train")
    .description("train a model per symbol within a time budget; checkpoints, resume and a summary")
    .option("--duration <time>", "time budget: 90s, 30m, 8h, 1h30m or DD:HH:MM:SS (required unless --resume)")
    .option("--symbols <list>", "comma-separated symbols (default: data.symbols from config)")
    .option("--model <name>", `architecture: ${MODEL_NAMES.join(" | ")} (default: training.model)`)
    .option("--pooled", "also train one model on all symbols together", false)
    .option("--workers <n>", "data-parallel worker threads (default: training.workers)")
    .option("--resume [run]", "continue an interrupted run (default: the newest in training.runs_dir)")
    .option("--json", "print the summary as JSON")
    .option("--tracking-uri <uri>", "record the run there (default: MLFLOW_TRACKING_URI or tracking.uri)")
    .option("--no-track", "do not record the run in experiment tracking");
  metricsOptions(train).action(async (options: TrainOptions) => {
    const ctx = getContext();
    const log = (line: string) => print(ctx.stderr, line);
    const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
    const store = new ArrowFileCandleStore(resolve(config.data.store_dir));
    const interval = parseInterval(config.data.interval);
    const loadSeries = (symbol: string) => readStoredSeries(store, symbol, interval);
    const tracking =
      options.track === false || (!config.tracking.enabled && options.trackingUri === undefined)
        ? undefined
        : {
            client: await openTracking(
              trackingUri({ flag: options.trackingUri, env: ctx.env, config: config.tracking.uri }),
              { log },
            ),
            options: {
              experimentName: config.tracking.experiment_name,
              championMetric: config.tracking.champion_metric,
              championMode: config.tracking.champion_mode,
              spoolDir: spoolDirFor(),
              tags: config.experiments.tags,
              log,
            },
          };
    let monitor: TrainingMonitor | undefined;
    const exporter = await serveMetrics(ctx, options, {
      monitoring: config.monitoring,
      command: "train",
      paths: [resolve(config.training.runs_dir), resolve(config.data.store_dir)],
      log,
      checks: (metrics) => {
        monitor = trainingMonitor(metrics);
        const watched = monitor;
        return [
          heartbeatCheck("training", () => watched.lastBeatMs(), HEARTBEAT_MAX_AGE_MS),
          ...(tracking === undefined
            ? []
            : [
                trackingStoreCheck(async () => {
                  await tracking.client.store.searchExperiments({ maxResults: 1 });
                }, "tracking"),
              ]),
        ];
      },
    });
    const monitored = monitor === undefined ? {} : { monitor: monitor.factory };
    const interrupt = interruptOnSigint(log);
    let summary: RunSummary;
    try {
      if (options.resume !== undefined && options.resume !== false) {
        if (options.duration !== undefined || options.symbols !== undefined || options.model !== undefined) {
          throw new UsageError(
            "--resume continues a run with its own settings; drop --duration, --symbols and --model",
            {
              hint: "cryptoml train --resume [RUN_DIR]",
            },
          );
        }
        const path = typeof options.resume === "string" ? options.resume : config.training.runs_dir;
        summary = await resumeTrainingRun(path, {
          loadSeries,
          signal: interrupt.signal,
          log,
          ...(tracking === undefined ? {} : { tracking }),
          ...monitored,
        });
      } else {
        if (options.duration === undefined) {
          throw new UsageError("--duration is required", { hint: "e.g. cryptoml train --duration 30m" });
        }
        summary = await startTrainingRun({
          config,
          symbols: parseSymbols(options.symbols ?? config.data.symbols),
          durationMs: parseDuration(options.duration),
          model: parseModel(options.model ?? config.training.model),
          pooled: options.pooled === true,
          workers: parseWorkers(options.workers, config.training.workers),
          loadSeries,
          signal: interrupt.signal,
          log,
          command: ["cryptoml", ...process.argv.slice(2)],
          ...(tracking === undefined ? {} : { tracking }),
          ...monitored,
        });
      }
    } finally {
      interrupt.dispose();
      await exporter?.close();
      await tracking?.client.close();
    }
    print(ctx.stdout, options.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    if (summary.status === "interrupted") {
      throw new CryptomlError("INTERRUPTED", "training interrupted; the last step is checkpointed", {
        hint: `continue with: cryptoml train --resume ${summary.runDir}`,
      });
    }
  });
}
