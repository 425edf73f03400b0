/**
 * `cryptoml tune` (hyperparameter search with walk-forward cross-validation), `tune show` and
 * `tune best --export DIR`. Studies live in Optuna's journal format, so optuna-dashboard and Optuna open them.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { CostModel } from "../../backtest/types.js";
import { loadConfig, type ResolvedConfig } from "../../config/index.js";
import { MODEL_NAMES, type ModelName } from "../../config/schema/models.js";
import { CryptomlError, UsageError } from "../../core/errors.js";
import { parseInterval } from "../../data/intervals.js";
import { ArrowFileCandleStore } from "../../data/store/arrow-file-store.js";
import { parseSymbols } from "../../data/symbols.js";
import { openTracking, trackingUri } from "../../tracking/open.js";
import { formatDuration } from "../../training/duration.js";
import { TrialPruned } from "../../tuning/errors.js";
import {
  modelObjective,
  OBJECTIVE_KINDS,
  OBJECTIVE_METRICS,
  type ObjectiveMetric,
  objectiveDirection,
} from "../../tuning/objective.js";
import {
  objectiveLabel,
  parseObjective,
  requireSameObjective,
  STUDY_META_ATTR,
} from "../../tuning/objective-study.js";
import type { TuningStorage } from "../../tuning/storage.js";
import { openStorage } from "../../tuning/storages/open.js";
import { Study } from "../../tuning/study.js";
import { studyRun, trackTrials } from "../../tuning/tracking.js";
import { DEFAULT_TUNING_COSTS } from "../../tuning/trading-objective.js";
import type { FrozenTrial } from "../../tuning/types.js";
import { type CliContext, print } from "../context.js";
import { readStoredSeries } from "./data.js";
import { metricsOptions } from "./metrics-serving.js";
import { serveTuneMetrics, type TuneHooks } from "./tune-metrics.js";
import {
  bestOfStudy,
  ensembleOfStudy,
  makePruner,
  makeSampler,
  PRUNERS,
  positiveInt,
  showStudy,
  summarise,
} from "./tune-study.js";

const DEFAULT_STORAGE = "journal:.cryptoml/studies.log";

export interface TuneOptions {
  top: string;
  out?: string;
  model?: string;
  symbols?: string;
  trials: string;
  timeout?: string;
  metric: string;
  objective: string;
  feeBps: string;
  slippageBps: string;
  epochs: string;
  folds?: string;
  maxTrainSamples: string;
  storage: string;
  study?: string;
  sampler: string;
  pruner: string;
  seed?: string;
  jobs: string;
  worker?: boolean;
  json?: boolean;
  track?: boolean;
  trackingUri?: string;
  heartbeat: string;
  metricsPort?: string;
  /** false with --no-metrics (and in --jobs workers). */
  metrics?: boolean;
}

function nonNegative(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new UsageError(`${flag} ${value} must be a number >= 0`, { hint: `${flag} 10 is 0.1% per side` });
  return n;
}

/** The `--objective sharpe` backtests' costs from `--fee-bps` and `--slippage-bps`. */
function tradingCosts(options: TuneOptions): CostModel {
  return {
    feeBps: nonNegative("--fee-bps", options.feeBps),
    slippageBps: nonNegative("--slippage-bps", options.slippageBps),
  };
}

/**
 * A worker killed mid-trial leaves that trial RUNNING, and the study may finish before another process
 * asks for a trial and fails it by heartbeat; once every worker has exited, wait out the grace period and
 * fail what is still RUNNING with a stale heartbeat, so the study never keeps a trial nobody runs.
 */
async function failTrialsOfDeadWorkers(
  study: Study,
  storage: TuningStorage,
  graceSeconds: number,
): Promise<void> {
  if (!(await study.trials).some((t) => t.state === "RUNNING")) return;
  await new Promise((resolve) => setTimeout(resolve, graceSeconds * 1000));
  await storage.failStaleTrials(study.studyId, graceSeconds);
}

const finished = (t: FrozenTrial) => t.state === "COMPLETE" || t.state === "PRUNED" || t.state === "FAIL";

/** Runs trials in this process until the study holds `total` finished trials (shared with other workers). */
async function work(
  ctx: CliContext,
  options: TuneOptions,
  config: ResolvedConfig,
  log: (line: string) => void,
  hooks: TuneHooks,
) {
  const model = (options.model ?? config.training.model) as ModelName;
  if (!(MODEL_NAMES as readonly string[]).includes(model) || model === "ensemble") {
    throw new UsageError(`--model ${model} cannot be tuned`, {
      hint: `use one of ${MODEL_NAMES.filter((m) => m !== "ensemble").join(", ")}`,
    });
  }
  const metric = options.metric as ObjectiveMetric;
  if (!Object.hasOwn(OBJECTIVE_METRICS, metric)) {
    throw new UsageError(`--metric ${metric} is unknown`, {
      hint: `use one of ${Object.keys(OBJECTIVE_METRICS).join(", ")}`,
    });
  }
  const objectiveKind = parseObjective(options.objective);
  const costs = tradingCosts(options);
  const symbols = parseSymbols(options.symbols ?? config.data.symbols);
  const total = positiveInt("--trials", options.trials);
  const studyName = options.study ?? `${model}-${symbols.join("-")}`;
  const storage = await openStorage(options.storage);
  await requireSameObjective(storage, studyName, objectiveKind, metric);
  const seed = options.seed === undefined ? undefined : Number(options.seed);
  const study = await Study.create({
    storage,
    studyName,
    direction: objectiveDirection(objectiveKind, metric),
    sampler: makeSampler(
      options.sampler,
      seed === undefined ? undefined : seed + process.pid * (options.worker ? 1 : 0),
    ),
    pruner: makePruner(options.pruner),
    loadIfExists: true,
  });
  // What `tune ensemble` needs to refit trials exactly as the study evaluated them.
  await study.setUserAttr(STUDY_META_ATTR, {
    model,
    symbols,
    metric,
    objective: objectiveKind,
    ...(objectiveKind === "sharpe" ? { costs } : {}),
    config: ctx.configDir,
    epochs: positiveInt("--epochs", options.epochs),
    folds: options.folds === undefined ? null : positiveInt("--folds", options.folds),
    maxTrainSamples: positiveInt("--max-train-samples", options.maxTrainSamples),
  });
  const store = new ArrowFileCandleStore(resolve(config.data.store_dir));
  const interval = parseInterval(config.data.interval);
  const objective = modelObjective({
    config,
    model,
    symbols,
    loadSeries: (symbol) => readStoredSeries(store, symbol, interval),
    metric,
    objective: objectiveKind,
    costs,
    epochs: positiveInt("--epochs", options.epochs),
    ...(options.folds === undefined ? {} : { folds: positiveInt("--folds", options.folds) }),
    maxTrainSamples: positiveInt("--max-train-samples", options.maxTrainSamples),
    ...hooks,
  });
  const tracking =
    options.track === false || (!config.tracking.enabled && options.trackingUri === undefined)
      ? undefined
      : await openTracking(
          trackingUri({ flag: options.trackingUri, env: ctx.env, config: config.tracking.uri }),
          { log },
        );
  const label = objectiveLabel({ objective: objectiveKind, metric });
  const trackTrial =
    tracking === undefined
      ? undefined
      : trackTrials(
          tracking,
          (await tracking.experiment(config.tracking.experiment_name)).experimentId,
          await studyRun(tracking, study, config.tracking.experiment_name),
          label,
        );
  const started = Date.now();
  const progress = async (s: Study, trial: FrozenTrial) => {
    const all = await s.trials;
    const done = all.filter(finished).length;
    const complete = all.filter((t) => t.state === "COMPLETE");
    const best = complete.length === 0 ? "-" : (await s.bestValue).toFixed(5);
    const perTrial = (Date.now() - started) / Math.max(1, done);
    const value = trial.values?.[0];
    const reason = trial.state === "FAIL" ? trial.systemAttrs.fail_reason : undefined;
    log(
      `trial ${trial.number} ${trial.state}${value === undefined ? "" : ` ${label}=${value.toFixed(5)}`}${typeof reason === "string" ? ` (${reason})` : ""}  done ${done}/${total}  best ${best}  ETA ${formatDuration(Math.max(0, total - done) * perTrial)}`,
    );
    if (done >= total) s.stop();
  };
  if ((await study.trials).filter(finished).length < total) {
    await study.optimize(objective, {
      nTrials: total,
      ...(options.timeout === undefined
        ? {}
        : { timeoutMs: positiveInt("--timeout", options.timeout) * 1000 }),
      catch: (error) =>
        !(error instanceof TrialPruned) && !(error instanceof CryptomlError && error.code === "INTERRUPTED"),
      callbacks: [
        async (s: Study, trial: FrozenTrial) => {
          // Tracking must not stop the study: a refused record is reported and the search goes on.
          await trackTrial?.(s, trial).catch((error: unknown) =>
            log(`tracking: trial ${trial.number}: ${(error as Error).message}`),
          );
        },
        progress,
      ],
      // A worker that dies mid-trial stops its heartbeat; after three missed beats the trial is FAIL.
      heartbeat: {
        intervalSeconds: positiveInt("--heartbeat", options.heartbeat),
        graceSeconds: 3 * positiveInt("--heartbeat", options.heartbeat),
      },
    });
  }
  await tracking?.close();
  return { study, storage, studyName, metric, objective: objectiveKind, label };
}

export function registerTuneCommands(program: Command, getContext: () => CliContext): void {
  const tune = program
    .command("tune")
    .description("search hyperparameters with walk-forward cross-validation (Optuna-compatible studies)")
    // One command with an optional action word rather than subcommands: `tune show --study X` and
    // `tune --study X` share their options, which commander subcommands cannot without positional options.
    .argument(
      "[action]",
      "show: list the study's trials; best: the best trial (with --export DIR); default: search",
    )
    .option("--model <name>", "architecture to tune (default: training.model)")
    .option("--symbols <list>", "comma-separated symbols (default: data.symbols)")
    .option("--trials <n>", "finished trials the study should reach", "20")
    .option("--timeout <seconds>", "start no trial after this long")
    .option(
      "--objective <name>",
      `${OBJECTIVE_KINDS.join(" | ")}: minimise/maximise --metric on the folds' test blocks, or maximise the mean annualised Sharpe ratio of backtests of them`,
      "loss",
    )
    .option(
      "--metric <name>",
      `with --objective loss: ${Object.keys(OBJECTIVE_METRICS).join(" | ")}`,
      "val_loss",
    )
    .option(
      "--fee-bps <bps>",
      "with --objective sharpe: exchange fee per side, basis points",
      String(DEFAULT_TUNING_COSTS.feeBps),
    )
    .option(
      "--slippage-bps <bps>",
      "with --objective sharpe: slippage per side, basis points",
      String(DEFAULT_TUNING_COSTS.slippageBps),
    )
    .option("--epochs <n>", "epochs per fold", "2")
    .option("--folds <n>", "use the first N walk-forward folds (default: all)")
    .option("--max-train-samples <n>", "train each fold on its most recent N samples", "20000")
    .option("--storage <url>", "journal:<file>, <file>.log or redis://host:port", DEFAULT_STORAGE)
    .option("--study <name>", "study name (default: <model>-<symbols>)")
    .option("--sampler <name>", "tpe | random", "tpe")
    .option("--pruner <name>", PRUNERS.join(" | "), "median")
    .option("--seed <n>", "sampler seed")
    .option("--jobs <n>", "worker processes on the same study", "1")
    .option("--worker", "(internal) run as one of --jobs workers")
    .option(
      "--heartbeat <seconds>",
      "heartbeat interval of running trials; a trial silent for 3 intervals is FAIL",
      "10",
    )
    .option("--json", "print the study summary as JSON")
    .option("--top <k>", "with `ensemble`: candidates among the best trials", "5")
    .option("--out <file>", "with `ensemble`: where to save the ensemble model (.safetensors)")
    .option(
      "--tracking-uri <uri>",
      "record each trial as a run there (default: MLFLOW_TRACKING_URI or tracking.uri)",
    )
    .option("--no-track", "do not record trials in experiment tracking")
    .option(
      "--export <dir>",
      "with `best`: write the configuration with the best parameters into this directory",
    );
  metricsOptions(tune).action(
    async (action: string | undefined, options: TuneOptions & { export?: string }) => {
      const ctx = getContext();
      if (action === "show" || action === "best" || action === "ensemble") {
        if (options.study === undefined)
          throw new UsageError(`tune ${action} needs --study NAME`, {
            hint: "cryptoml tune show --study lstm_attention-BTCUSDT",
          });
        const named = { ...options, study: options.study };
        if (action === "ensemble") return ensembleOfStudy(ctx, named);
        return action === "show" ? showStudy(ctx, named) : bestOfStudy(ctx, named);
      }
      if (action !== undefined)
        throw new UsageError(`tune ${action}: unknown action`, {
          hint: "use tune show, tune best, tune ensemble, or tune with options to search",
        });
      const log = (line: string) => print(ctx.stderr, line);
      const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
      const jobs = positiveInt("--jobs", options.jobs);
      const workers =
        options.worker || jobs === 1
          ? []
          : Array.from({ length: jobs - 1 }, (_, i) => {
              const argv = process.argv
                .slice(1)
                .filter((a, k, all) => a !== "--json" && !(all[k - 1] === "--jobs") && a !== "--jobs");
              const child = spawn(process.execPath, [...argv, "--worker", "--jobs", "1", "--no-metrics"], {
                stdio: ["ignore", "ignore", "pipe"],
                env: ctx.env,
              });
              child.stderr?.on("data", (c: Buffer) => ctx.stderr.write(`[worker ${i + 1}] ${c.toString()}`));
              return new Promise<number | null>((r) => child.on("exit", r));
            });
      const served = await serveTuneMetrics(ctx, options, config, log);
      const searched = await work(ctx, options, config, log, served.hooks).finally(() =>
        served.exporter?.close(),
      );
      const { study, storage, studyName, metric, objective, label } = searched;
      const codes = await Promise.all(workers);
      if (codes.some((c) => c !== 0)) {
        await failTrialsOfDeadWorkers(study, storage, 3 * positiveInt("--heartbeat", options.heartbeat));
        log(
          `warning: ${codes.filter((c) => c !== 0).length} worker(s) ended with an error; their trials are FAIL`,
        );
      }
      if (options.worker) return storage.close();
      const trials = await study.trials;
      const counts = summarise(trials);
      const best = counts.COMPLETE > 0 ? await study.bestTrial : undefined;
      const summary = {
        study: studyName,
        storage: options.storage,
        objective,
        metric,
        direction: study.direction,
        counts,
        best: best && { number: best.number, value: best.values?.[0], params: best.params },
      };
      await storage.close();
      print(
        ctx.stdout,
        options.json
          ? JSON.stringify(summary, null, 2)
          : `study ${studyName}: ${trials.length} trials (${counts.COMPLETE} complete, ${counts.PRUNED} pruned, ${counts.FAIL} failed)\n` +
              (best
                ? `best: trial ${best.number} ${label}=${best.values?.[0]} ${JSON.stringify(best.params)}\n`
                : "no complete trial yet\n") +
              `export it: cryptoml tune best --study ${studyName} --storage ${options.storage} --export tuned-config`,
      );
    },
  );
}
