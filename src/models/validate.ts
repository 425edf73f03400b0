/**
 * Checks a model definition before anything is built. Definitions come from config, from tuning
 * trials and from the JSON stored in saved weights, so each field is checked as if untyped and the
 * first problem is reported with its path (`members[1].config.hidden_size`).
 */

import { MODEL_NAMES, type ModelName } from "../config/schema/models.js";
import { CryptomlError } from "../core/errors.js";
import type { ModelDefinition, ModelIo } from "./definition.js";

const HEADS = ["regression", "classification", "both"] as const;
const METHODS = ["mean", "weighted", "stacked"] as const;

/** The fields of each architecture's config: `int` ≥ 1 or a dropout probability in [0, 1). */
const CONFIG_FIELDS: Record<Exclude<ModelName, "ensemble">, Record<string, "int" | "dropout">> = {
  lstm: { hidden_size: "int", num_layers: "int", dropout: "dropout" },
  gru: { hidden_size: "int", num_layers: "int", dropout: "dropout" },
  lstm_attention: { hidden_size: "int", num_layers: "int", dropout: "dropout" },
  cnn_lstm: { conv_channels: "int", kernel_size: "int", hidden_size: "int", dropout: "dropout" },
  transformer: { d_model: "int", heads: "int", layers: "int", feed_forward: "int", dropout: "dropout" },
};

const DEFINITION_HINT =
  "build definitions with defineModel() from the models: section of model_architectures.yaml";

function fail(path: string, problem: string, hint = DEFINITION_HINT): never {
  throw new CryptomlError("USAGE", `model definition ${path}: ${problem}`, { hint });
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const show = (v: unknown): string => (typeof v === "string" ? `"${v}"` : String(JSON.stringify(v)));

export function isModelName(name: unknown): name is ModelName {
  return typeof name === "string" && (MODEL_NAMES as readonly string[]).includes(name);
}

/** Throws the USAGE error for a className the registry does not know, naming the valid ones. */
export function unknownClassName(name: unknown, path = "className"): never {
  return fail(
    path,
    `unknown model ${show(name)}; the registry has ${MODEL_NAMES.join(", ")}`,
    "pick one of the names above (training.model / the tuning search space)",
  );
}

function checkIo(io: unknown, path: string): asserts io is ModelIo {
  if (!isRecord(io)) fail(path, "io must be an object { window, features, head, returnScale }");
  for (const key of ["window", "features"] as const) {
    const v = io[key];
    if (!(typeof v === "number" && Number.isInteger(v) && v >= 1)) {
      fail(`${path}.${key}`, `must be an integer ≥ 1, not ${show(v)}`);
    }
  }
  if (!(HEADS as readonly unknown[]).includes(io.head)) {
    fail(`${path}.head`, `must be one of ${HEADS.join(", ")}, not ${show(io.head)}`);
  }
  const scale = io.returnScale;
  if (!(typeof scale === "number" && Number.isFinite(scale) && scale > 0)) {
    fail(`${path}.returnScale`, `must be a finite number > 0, not ${show(scale)}`);
  }
}

function checkArchitecture(name: Exclude<ModelName, "ensemble">, config: unknown, path: string): void {
  if (!isRecord(config)) fail(path, `must be the models.${name} section (an object)`);
  const fields = CONFIG_FIELDS[name];
  for (const key of Object.keys(config)) {
    if (!(key in fields))
      fail(`${path}.${key}`, `is not a setting of ${name} (${Object.keys(fields).join(", ")})`);
  }
  for (const [key, kind] of Object.entries(fields)) {
    const v = config[key];
    const ok = typeof v === "number" && (kind === "int" ? Number.isInteger(v) && v >= 1 : v >= 0 && v < 1);
    if (!ok)
      fail(`${path}.${key}`, `must be ${kind === "int" ? "an integer ≥ 1" : "in [0, 1)"}, not ${show(v)}`);
  }
  if (name === "transformer" && (config.d_model as number) % (config.heads as number) !== 0) {
    fail(`${path}.d_model`, `${config.d_model} must be divisible by heads (${config.heads})`);
  }
}

/**
 * The weights of a `weighted` ensemble normalised to sum 1: one per member, each finite and ≥ 0,
 * their sum > 0. `path` names the field in errors.
 */
export function normaliseWeights(weights: unknown, members: number, path: string): number[] {
  const hint = "give one weight ≥ 0 per member, in the order of ensemble.members, e.g. [0.5, 0.3, 0.2]";
  if (!Array.isArray(weights)) fail(path, `method weighted needs a list of ${members} weights`, hint);
  if (weights.length !== members) {
    fail(path, `has ${weights.length} weight(s) but the ensemble has ${members} member(s)`, hint);
  }
  weights.forEach((w, i) => {
    if (!(typeof w === "number" && Number.isFinite(w) && w >= 0)) {
      fail(`${path}[${i}]`, `must be a finite number ≥ 0, not ${show(w)}`, hint);
    }
  });
  const total = (weights as number[]).reduce((s, w) => s + w, 0);
  if (!(total > 0)) fail(path, "sum to 0; at least one member needs a positive weight", hint);
  return (weights as number[]).map((w) => w / total);
}

function checkEnsemble(config: unknown, io: ModelIo, path: string): void {
  if (!isRecord(config)) fail(path, "must be an object { method, members, weights? }");
  for (const key of Object.keys(config)) {
    if (!["method", "members", "weights"].includes(key)) {
      fail(`${path}.${key}`, "is not a setting of ensemble (method, members, weights)");
    }
  }
  const method = config.method;
  if (!(METHODS as readonly unknown[]).includes(method)) {
    fail(`${path}.method`, `must be one of ${METHODS.join(", ")}, not ${show(method)}`);
  }
  const members = config.members;
  if (!Array.isArray(members) || members.length === 0) {
    fail(
      `${path}.members`,
      "must list at least one member definition",
      "list trained models in ensemble.members",
    );
  }
  members.forEach((member: unknown, i) => {
    const at = `${path}.members[${i}]`;
    checkDefinition(member, at);
    const { window, features, head } = member.io;
    if (window !== io.window || features !== io.features || head !== io.head) {
      fail(
        at,
        `has io window ${window}, features ${features}, head ${head} but the ensemble has window ${io.window}, features ${io.features}, head ${io.head}`,
        "ensemble only members trained on the same dataset layout (window, features and target kind)",
      );
    }
  });
  if (method === "weighted") normaliseWeights(config.weights, members.length, `${path}.weights`);
  else if (config.weights !== undefined) {
    fail(
      `${path}.weights`,
      `apply only to method weighted, not ${method}`,
      "drop the weights or use method weighted",
    );
  }
}

/** Asserts that `definition` is a complete, consistent ModelDefinition; throws a USAGE error otherwise. */
export function checkDefinition(
  definition: unknown,
  path = "definition",
): asserts definition is ModelDefinition {
  if (!isRecord(definition)) fail(path, "must be an object { className, config, io }");
  const { className } = definition;
  if (!isModelName(className)) unknownClassName(className, `${path}.className`);
  checkIo(definition.io, `${path}.io`);
  if (className === "ensemble") checkEnsemble(definition.config, definition.io, `${path}.config`);
  else checkArchitecture(className, definition.config, `${path}.config`);
}
