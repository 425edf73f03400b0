/**
 * From `search_spaces:` (hyperparameters.yaml) to trial parameters and back to a configuration: each
 * parameter name is a key of `training`, `dataset` or the architecture's section of `models`, so a
 * trial's parameters are overrides of the resolved configuration.
 */
import type { ResolvedConfig } from "../config/index.js";
import type { Distribution as ConfigDistribution } from "../config/schema/search-spaces.js";
import { CryptomlError } from "../core/errors.js";
import type { ModelName } from "../models/definition.js";
import { categoricalDistribution, floatDistribution, intDistribution } from "./distributions.js";
import type { Distribution, ParamValue } from "./types.js";

export type ParamTarget = "training" | "dataset" | "model";

/** Our distribution for a configured one (Optuna's validation applies). */
export function toDistribution(d: ConfigDistribution): Distribution {
  if (d.type === "float") return floatDistribution(d.low, d.high, { log: d.log, step: d.step });
  if (d.type === "int") return intDistribution(d.low, d.high, { log: d.log, step: d.step ?? 1 });
  return categoricalDistribution(d.choices);
}

/** Where a parameter lives, or a clear error naming the keys it could be. */
export function targetOf(name: string, config: ResolvedConfig, model: ModelName): ParamTarget {
  const architecture = config.models[model] as Record<string, unknown>;
  if (Object.hasOwn(architecture, name)) return "model";
  if (Object.hasOwn(config.training, name)) return "training";
  if (Object.hasOwn(config.dataset, name)) return "dataset";
  throw new CryptomlError(
    "CONFIG_INVALID",
    `search_spaces.${model}.${name} is not a setting of models.${model}, training or dataset`,
    {
      hint: `use one of: ${[...Object.keys(architecture), ...Object.keys(config.training), ...Object.keys(config.dataset)].join(", ")}`,
    },
  );
}

/** The search space of `model`, each entry with its distribution and target section. */
export function searchSpaceOf(
  config: ResolvedConfig,
  model: ModelName,
): { name: string; distribution: Distribution; target: ParamTarget }[] {
  const space = config.search_spaces[model];
  if (space === undefined || Object.keys(space).length === 0) {
    throw new CryptomlError("CONFIG_INVALID", `there is no search space for ${model} in search_spaces`, {
      hint: `add search_spaces.${model} to hyperparameters.yaml (see the lstm_attention example there)`,
    });
  }
  return Object.entries(space).map(([name, d]) => ({
    name,
    distribution: toDistribution(d),
    target: targetOf(name, config, model),
  }));
}

/** The configuration with a trial's parameters applied (a copy; the input is not changed). */
export function applyParams(
  config: ResolvedConfig,
  model: ModelName,
  params: Readonly<Record<string, ParamValue>>,
): ResolvedConfig {
  const next = structuredClone(config);
  for (const [name, value] of Object.entries(params)) {
    const target = targetOf(name, config, model);
    const section =
      target === "model"
        ? (next.models[model] as Record<string, unknown>)
        : target === "training"
          ? (next.training as Record<string, unknown>)
          : (next.dataset as Record<string, unknown>);
    section[name] = value;
  }
  return next;
}
