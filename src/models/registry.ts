/**
 * The model registry: definitions from config, models from definitions, and saved models as
 * safetensors files whose `cryptoml.model` metadata holds the definition, so the file alone
 * rebuilds the model (`loadModel`). Weight names are PyTorch `state_dict` keys.
 */
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";

import type { ModelsConfig } from "../config/schema/models.js";
import { writeFileAtomic } from "../core/atomic-file.js";
import { CryptomlError, DataFormatError } from "../core/errors.js";
import { Rng } from "../engine/random.js";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  type SafetensorsContents,
} from "../engine/safetensors/index.js";
import { CnnLstmModel } from "./architectures/cnn-lstm.js";
import { EnsembleModel } from "./architectures/ensemble.js";
import { RecurrentModel } from "./architectures/recurrent.js";
import { TransformerModel } from "./architectures/transformer.js";
import type { ArchitectureConfig, ForecastModel, ModelDefinition, ModelIo } from "./definition.js";
import { checkDefinition, isModelName, normaliseWeights, unknownClassName } from "./validate.js";

/** The safetensors metadata key holding the model's definition as JSON. */
export const MODEL_METADATA_KEY = "cryptoml.model";

/** One named weight tensor, as checkpoints and safetensors files hold it. */
export interface NamedWeights {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

function build(definition: ModelDefinition, rng: Rng, prefix: string): ForecastModel {
  switch (definition.className) {
    case "lstm":
    case "gru":
    case "lstm_attention":
      return new RecurrentModel(definition, definition.config as ArchitectureConfig<"lstm">, rng, prefix);
    case "cnn_lstm":
      return new CnnLstmModel(definition, definition.config as ArchitectureConfig<"cnn_lstm">, rng, prefix);
    case "transformer":
      return new TransformerModel(
        definition,
        definition.config as ArchitectureConfig<"transformer">,
        rng,
        prefix,
      );
    case "ensemble": {
      const { method, members, weights } = definition.config;
      const built = members.map((m, i) => build(m, rng, `${prefix}members.${i}.`));
      const normalised =
        method === "weighted" ? normaliseWeights(weights, members.length, "config.weights") : undefined;
      return new EnsembleModel(definition, built, normalised, prefix);
    }
  }
}

/**
 * Builds the model a definition describes, with PyTorch-default initial weights drawn from `rng`
 * (the same definition and seed give the same weights).
 * @throws CryptomlError (USAGE) naming the first invalid field: an unknown className, bad io, a
 *   config value out of range, ensemble members that do not share the ensemble's io, …
 */
export function createModel(definition: ModelDefinition, rng: Rng): ForecastModel {
  checkDefinition(definition);
  return build(definition, rng, "");
}

/**
 * The definition of `className` with its settings from the `models:` section. For `ensemble`,
 * `members` are the members' own (already resolved) definitions and `weights` the fixed weights of
 * method `weighted`, one per member.
 */
export function defineModel(
  className: string,
  models: ModelsConfig,
  io: ModelIo,
  members?: readonly ModelDefinition[],
  weights?: readonly number[],
): ModelDefinition {
  if (!isModelName(className)) unknownClassName(className);
  let definition: ModelDefinition;
  if (className === "ensemble") {
    if (members === undefined || members.length === 0) {
      throw new CryptomlError("USAGE", "an ensemble needs the definitions of its members", {
        hint: "list trained models in models.ensemble.members and resolve them to their definitions",
      });
    }
    const { method } = models.ensemble;
    definition = {
      className,
      io: { ...io },
      config: { method, members: [...members], ...(weights === undefined ? {} : { weights: [...weights] }) },
    };
  } else {
    definition = { className, io: { ...io }, config: { ...models[className] } };
  }
  checkDefinition(definition);
  return definition;
}

/** Copies of the model's weights, in parameter order (a snapshot: later training does not change it). */
export function weightsOf(model: ForecastModel): NamedWeights[] {
  return model
    .parameters()
    .map((p) => ({ name: p.name, shape: [...p.shape], data: Float32Array.from(p.data) }));
}

/** The first way `weights` do not fit `model`'s parameters, or undefined when they fit exactly. */
function firstMismatch(model: ForecastModel, weights: readonly NamedWeights[]): string | undefined {
  const params = model.parameters();
  const byName = new Map(weights.map((w) => [w.name, w]));
  for (const p of params) {
    const w = byName.get(p.name);
    if (w === undefined)
      return `weight ${p.name} [${p.shape.join(", ")}] of the ${model.className} is missing`;
    if (w.shape.length !== p.shape.length || w.shape.some((d, i) => d !== p.shape[i])) {
      return `weight ${p.name} has shape [${w.shape.join(", ")}] but the ${model.className} needs [${p.shape.join(", ")}]`;
    }
    if (!(w.data instanceof Float32Array) || w.data.length !== p.data.length) {
      return `weight ${p.name} must be ${p.data.length} float32 values`;
    }
  }
  const names = new Set(params.map((p) => p.name));
  const extra = weights.find((w) => !names.has(w.name));
  if (extra !== undefined) return `weight ${extra.name} is not a parameter of the ${model.className}`;
  if (weights.length !== params.length) return "a weight name appears more than once";
  return undefined;
}

/**
 * Copies `weights` into the model's parameters. Strict: the names and shapes must be exactly the
 * model's. `source` (a file, "checkpoint") names the weights in the error.
 * @throws DataFormatError naming `source` and the first mismatch; nothing is copied then.
 */
export function loadWeights(
  model: ForecastModel,
  weights: readonly NamedWeights[],
  source = "weights",
): void {
  const problem = firstMismatch(model, weights);
  if (problem !== undefined) {
    throw new DataFormatError(source, undefined, problem, {
      hint: "the weights were saved from a different model definition; load them into a model built from that definition",
    });
  }
  const byName = new Map(weights.map((w) => [w.name, w]));
  for (const p of model.parameters()) p.data.set((byName.get(p.name) as NamedWeights).data);
}

/** The safetensors bytes of a model: its weights plus its definition under `cryptoml.model`. */
export function encodeModel(
  model: ForecastModel,
  extraMetadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  if (MODEL_METADATA_KEY in extraMetadata) {
    throw new CryptomlError(
      "USAGE",
      `metadata key ${MODEL_METADATA_KEY} is reserved for the model definition`,
      {
        hint: "store extra information under another key",
      },
    );
  }
  const metadata = { format: "pt", ...extraMetadata, [MODEL_METADATA_KEY]: JSON.stringify(model.definition) };
  return encodeSafetensors(weightsOf(model), metadata);
}

function modelFrom(contents: SafetensorsContents, source: string): ForecastModel {
  const json = contents.metadata[MODEL_METADATA_KEY];
  const hint = "save models with saveModel(); a bare state_dict needs its definition to be loaded";
  if (json === undefined) {
    throw new DataFormatError(
      source,
      undefined,
      `has no ${MODEL_METADATA_KEY} metadata (the model definition)`,
      {
        hint,
      },
    );
  }
  let model: ForecastModel;
  try {
    const definition: unknown = JSON.parse(json);
    checkDefinition(definition);
    model = createModel(definition, new Rng(0));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataFormatError(source, undefined, `invalid ${MODEL_METADATA_KEY} metadata: ${reason}`, {
      hint,
      cause: error,
    });
  }
  const weights: NamedWeights[] = [];
  for (const [name, t] of contents.tensors) {
    if (!(t.data instanceof Float32Array) || t.dtype !== "F32") {
      throw new DataFormatError(source, undefined, `weight ${name} is ${t.dtype}; models are stored as F32`, {
        hint,
      });
    }
    weights.push({ name, shape: t.shape, data: t.data });
  }
  loadWeights(model, weights, source);
  return model;
}

/** Rebuilds a model from the bytes of a saved model; `source` names them in errors. */
export function decodeModel(bytes: Uint8Array, source: string): ForecastModel {
  return modelFrom(decodeSafetensors(bytes, source), source);
}

/** Writes the model to `path` (atomically) as safetensors with its definition in the metadata. */
export async function saveModel(
  path: string,
  model: ForecastModel,
  extraMetadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const bytes = encodeModel(model, extraMetadata);
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, bytes);
}

/**
 * Reads a model saved by {@link saveModel}.
 * @throws DataFormatError naming `path` when it is not a saved model or its weights do not fit its
 *   definition; CryptomlError (NOT_FOUND) when there is no such file.
 */
export async function loadModel(path: string): Promise<ForecastModel> {
  return modelFrom(await readSafetensors(path), path);
}
