import { copyFile, mkdir, readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { loadConfig } from "../../config/index.js";
import type { ModelName } from "../../config/schema/models.js";
import { CryptomlError, UsageError } from "../../core/errors.js";
import { parseInterval } from "../../data/intervals.js";
import { ArrowFileCandleStore } from "../../data/store/arrow-file-store.js";
import { parseSymbols } from "../../data/symbols.js";
import { optimizeEnsemble } from "../../tuning/ensemble.js";
import type { ObjectiveMetric } from "../../tuning/objective.js";
import { objectiveLabel, type StudyObjective, studyObjective } from "../../tuning/objective-study.js";
import {
  HyperbandPruner,
  MedianPruner,
  NopPruner,
  PercentilePruner,
  SuccessiveHalvingPruner,
} from "../../tuning/pruners/index.js";
import { RandomSampler } from "../../tuning/samplers/random.js";
import { TPESampler } from "../../tuning/samplers/tpe.js";
import { applyParams } from "../../tuning/space.js";
import { openStorage } from "../../tuning/storages/open.js";
import { Study } from "../../tuning/study.js";
import { BACKTEST_ATTR } from "../../tuning/trading-objective.js";
import type { FrozenTrial, Pruner, Sampler, TrialState } from "../../tuning/types.js";
import { type CliContext, print } from "../context.js";
import { readStoredSeries } from "./data.js";
import type { TuneOptions } from "./tune.js";

export async function showStudy(
  ctx: CliContext,
  options: { study: string; storage: string; json?: boolean },
) {
  const storage = await openStorage(options.storage);
  try {
    const study = await Study.load({ storage, studyName: options.study });
    const trials = await study.trials;
    const objective = studyObjective((await storage.getStudy(study.studyId)).userAttrs);
    if (options.json)
      return print(
        ctx.stdout,
        JSON.stringify(
          trials.map((t) => ({ ...t, intermediateValues: Object.fromEntries(t.intermediateValues) })),
          null,
          2,
        ),
      );
    const lines = trials.map((t) => {
      const reason = t.state === "FAIL" ? t.systemAttrs.fail_reason : undefined;
      return `${String(t.number).padStart(4)}  ${t.state.padEnd(8)}  ${t.values?.[0]?.toFixed(5) ?? "-"}  ${JSON.stringify(t.params)}${typeof reason === "string" ? `  ${reason}` : ""}`;
    });
    print(
      ctx.stdout,
      [
        `study ${options.study} (objective ${describeObjective(objective)}, ${study.direction}): ${JSON.stringify(summarise(trials))}`,
        ...lines,
      ].join("\n"),
    );
  } finally {
    await storage.close();
  }
}

export async function bestOfStudy(
  ctx: CliContext,
  options: { study: string; storage: string; export?: string },
) {
  const storage = await openStorage(options.storage);
  try {
    const study = await Study.load({ storage, studyName: options.study });
    const best = await study.bestTrial;
    const userAttrs = (await storage.getStudy(study.studyId)).userAttrs;
    const meta = userAttrs.cryptoml as { model?: ModelName } | undefined;
    const objective = studyObjective(userAttrs);
    const backtest = best.userAttrs[BACKTEST_ATTR];
    print(
      ctx.stdout,
      `objective: ${describeObjective(objective)} (${study.direction})\n` +
        `best: trial ${best.number} ${objectiveLabel(objective)}=${best.values?.[0]} ${JSON.stringify(best.params)}` +
        (backtest === undefined ? "" : `\nbacktest (mean over folds): ${JSON.stringify(backtest)}`),
    );
    if (options.export === undefined) return;
    if (meta?.model === undefined)
      throw new CryptomlError(
        "NOT_FOUND",
        `study ${options.study} was not made by cryptoml tune (no model recorded)`,
      );
    const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
    const tuned = applyParams(config, meta.model, best.params);
    tuned.training.model = meta.model;
    const dir = resolve(options.export);
    await mkdir(dir, { recursive: true });
    // The other files (hyperparameters, experiments, monitoring) are copied as they are.
    for (const name of await readdir(ctx.configDir).catch(() => [] as string[])) {
      if (name.endsWith(".yaml") && name !== "training.yaml" && name !== "model_architectures.yaml") {
        await copyFile(join(ctx.configDir, name), join(dir, name));
      }
    }
    const header = `# Exported by cryptoml tune best from study ${options.study}, trial ${best.number} (${JSON.stringify(best.params)}).\n`;
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      join(dir, "training.yaml"),
      header +
        stringify({
          data: tuned.data,
          features: tuned.features,
          dataset: tuned.dataset,
          training: tuned.training,
        }),
    );
    await writeFile(join(dir, "model_architectures.yaml"), header + stringify({ models: tuned.models }));
    print(
      ctx.stdout,
      `wrote ${dir}: train with  cryptoml train --config-dir ${options.export} --duration 30m`,
    );
  } finally {
    await storage.close();
  }
}

export async function ensembleOfStudy(ctx: CliContext, options: TuneOptions & { study: string }) {
  if (options.out === undefined) {
    throw new UsageError("tune ensemble needs --out FILE", {
      hint: "cryptoml tune ensemble --study lstm_attention-BTCUSDT --top 5 --out models/ensemble.safetensors",
    });
  }
  const storage = await openStorage(options.storage);
  try {
    const study = await Study.load({ storage, studyName: options.study });
    const userAttrs = (await storage.getStudy(study.studyId)).userAttrs;
    const meta = userAttrs.cryptoml as
      | {
          model?: ModelName;
          symbols?: string[];
          metric?: ObjectiveMetric;
          epochs?: number;
          folds?: number | null;
          maxTrainSamples?: number;
        }
      | undefined;
    if (studyObjective(userAttrs)?.objective === "sharpe") {
      throw new UsageError(
        `study ${options.study} was tuned with --objective sharpe; tune ensemble blends on a validation metric`,
        { hint: "ensemble a study tuned with --objective loss (the default)" },
      );
    }
    if (meta?.model === undefined || meta.symbols === undefined || meta.metric === undefined) {
      throw new CryptomlError(
        "NOT_FOUND",
        `study ${options.study} was not made by cryptoml tune (no model, symbols or metric recorded)`,
        {
          hint: "ensemble a study created by cryptoml tune",
        },
      );
    }
    const symbols = parseSymbols(options.symbols ?? meta.symbols.join(","));
    if (symbols.length !== 1) {
      throw new UsageError(
        `tune ensemble blends one symbol's predictions; the study has ${symbols.join(", ")}`,
        {
          hint: `pass --symbols ${symbols[0]}`,
        },
      );
    }
    const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
    const store = new ArrowFileCandleStore(resolve(config.data.store_dir));
    const interval = parseInterval(config.data.interval);
    const folds =
      meta.folds ?? (options.folds === undefined ? undefined : positiveInt("--folds", options.folds));
    const result = await optimizeEnsemble({
      study,
      config,
      model: meta.model,
      symbol: symbols[0] as string,
      loadSeries: (symbol) => readStoredSeries(store, symbol, interval),
      metric: meta.metric,
      epochs: meta.epochs ?? positiveInt("--epochs", options.epochs),
      ...(folds === undefined ? {} : { folds }),
      maxTrainSamples: meta.maxTrainSamples ?? positiveInt("--max-train-samples", options.maxTrainSamples),
      top: positiveInt("--top", options.top),
      out: resolve(options.out),
      log: (line) => print(ctx.stderr, line),
    });
    print(
      ctx.stdout,
      options.json
        ? JSON.stringify(result, null, 2)
        : `saved ${result.path}: ${result.members.map((m) => `trial ${m.trial} × ${m.weight.toFixed(3)}`).join(" + ")}  CV ${meta.metric} ${result.cvScore} (best single ${result.bestSingleScore})`,
    );
  } finally {
    await storage.close();
  }
}

/** "sharpe (fee 10 bps, slippage 5 bps)", "loss: val_loss", or "not recorded" for a foreign study. */
function describeObjective(objective: StudyObjective | undefined): string {
  if (objective === undefined) return "not recorded";
  if (objective.objective === "sharpe") {
    const costs = objective.costs;
    return `sharpe${costs === undefined ? "" : ` (fee ${costs.feeBps} bps, slippage ${costs.slippageBps} bps)`}`;
  }
  return `loss: ${objective.metric ?? "?"}`;
}

/** The pruners `--pruner` names. */
export const PRUNERS = ["median", "percentile", "successive_halving", "hyperband", "none"] as const;

/** `value` of `flag` as an integer >= 1; a UsageError naming the flag otherwise. */
export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} ${value} must be an integer >= 1`);
  return n;
}

/** How many of `trials` are in each state. */
export function summarise(trials: readonly FrozenTrial[]): Record<TrialState, number> {
  const counts = { RUNNING: 0, COMPLETE: 0, PRUNED: 0, FAIL: 0, WAITING: 0 };
  for (const t of trials) counts[t.state] += 1;
  return counts;
}

/** The pruner `--pruner name` names (median and percentile wait for 3 trials and 1 step). */
export function makePruner(name: string): Pruner {
  switch (name) {
    case "median":
      return new MedianPruner({ nStartupTrials: 3, nWarmupSteps: 1 });
    case "percentile":
      return new PercentilePruner(25, { nStartupTrials: 3, nWarmupSteps: 1 });
    case "successive_halving":
      return new SuccessiveHalvingPruner();
    case "hyperband":
      return new HyperbandPruner();
    case "none":
      return new NopPruner();
    default:
      throw new UsageError(`--pruner ${name} is unknown`, { hint: `use one of ${PRUNERS.join(", ")}` });
  }
}

/** The sampler `--sampler name` names; TPE with the constant liar, so parallel workers spread out. */
export function makeSampler(name: string, seed: number | undefined): Sampler {
  if (name === "tpe") return new TPESampler({ ...(seed === undefined ? {} : { seed }), constantLiar: true });
  if (name === "random") return new RandomSampler(seed === undefined ? {} : { seed });
  throw new UsageError(`--sampler ${name} is unknown`, { hint: "use tpe or random" });
}
