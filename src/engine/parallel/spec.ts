/**
 * What a replica is built from: serialisable specs (plain data, structured-clone safe) for the model
 * and the optimiser, so every worker thread rebuilds exactly the same replica without sharing objects.
 */
import { CryptomlError } from "../../core/errors.js";
import { type ModelDefinition, outputColumns } from "../../models/definition.js";
import { forecastLoss } from "../../models/heads.js";
import {
  createReferenceModel,
  DEFAULT_REFERENCE_SHAPE,
  REFERENCE_MODELS,
  type ReferenceModelName,
  type ReferenceShape,
} from "../../models/reference.js";
import { createModel } from "../../models/registry.js";
import { mseLoss } from "../ops/losses.js";
import { Adam, type AdamOptions, AdamW, type Optimizer, SGD, type SgdOptions } from "../optim/index.js";
import type { Parameter } from "../parameter.js";
import { Rng } from "../random.js";
import { type ParameterTensor, Tensor } from "../tensor.js";

/** A reference model (src/models/reference.ts) drawn from `new Rng(seed)`. `kind` defaults to "reference". */
export interface ReferenceModelSpec {
  kind?: "reference";
  name: ReferenceModelName;
  /** Sizes; missing fields take DEFAULT_REFERENCE_SHAPE's. */
  shape?: Partial<ReferenceShape>;
  /** Seed of the initial weights. Default 0. */
  seed?: number;
}

/**
 * A registry model (src/models/registry.ts) built by `createModel(definition, new Rng(seed))`; it is
 * trained on `forecastLoss` of its head, with targets packed as [rows, outputs] (heads.ts packTargets).
 */
export interface DefinitionModelSpec {
  kind: "definition";
  definition: ModelDefinition;
  /** Seed of the initial weights. */
  seed: number;
}

export type ModelSpec = ReferenceModelSpec | DefinitionModelSpec;

/** Optimiser of every replica: torch.optim semantics (src/engine/optim). */
export type OptimizerSpec =
  | ({ kind: "adam" } & AdamOptions)
  | ({ kind: "adamw" } & AdamOptions)
  | ({ kind: "sgd" } & SgdOptions);

/** One sample's input and output sizes: x is [B, window, features], predictions [B, outputs]. */
export interface ModelIo {
  window: number;
  features: number;
  outputs: number;
}

/** What a replica trains: the model as the replica sees it, and its training loss. */
export interface ReplicaModel {
  /** Every parameter, in a fixed order (the weights buffer and checkpoints follow it). */
  parameters(): readonly ParameterTensor[];
  /** The parameters the optimiser updates and whose gradients are all-reduced (a subset, in order). */
  trainableParameters(): readonly ParameterTensor[];
  /** [rows, window, features] → [rows, outputs]; `rng` feeds dropout while training. */
  forward(x: Tensor, options?: { training?: boolean; rng?: Rng }): Tensor;
  /** The mean loss over the rows of `pred` against `targets` [rows, outputs]. */
  loss(pred: Tensor, targets: Float32Array): Tensor;
}

function checkReference(spec: ReferenceModelSpec): void {
  if (!(REFERENCE_MODELS as readonly string[]).includes(spec.name)) {
    throw new CryptomlError(
      "USAGE",
      `model.name=${JSON.stringify(spec.name)} must be one of ${REFERENCE_MODELS.join(", ")}`,
    );
  }
  if (spec.seed !== undefined && !Number.isSafeInteger(spec.seed)) {
    throw new CryptomlError("USAGE", `model.seed=${spec.seed} must be a safe integer`);
  }
}

function checkDefinitionSpec(spec: DefinitionModelSpec): void {
  if (!Number.isSafeInteger(spec.seed)) {
    throw new CryptomlError("USAGE", `model.seed=${spec.seed} must be a safe integer`, {
      hint: "pass the run's integer seed",
    });
  }
}

/** Builds the model a spec describes; equal specs give equal initial weights. */
export function buildModel(spec: ModelSpec): ReplicaModel {
  if (spec.kind === "definition") {
    checkDefinitionSpec(spec);
    const model = createModel(spec.definition, new Rng(spec.seed));
    const head = spec.definition.io.head;
    return {
      parameters: () => model.parameters(),
      trainableParameters: () => model.trainableParameters(),
      forward: (x, options = {}) => model.forward(x, options),
      loss: (pred, targets) => forecastLoss(pred, targets, head),
    };
  }
  checkReference(spec);
  const model = createReferenceModel(spec.name, new Rng(spec.seed ?? 0), spec.shape ?? {});
  return {
    parameters: () => model.parameters(),
    // Reference models have no frozen parts.
    trainableParameters: () => model.parameters(),
    // Reference models have no dropout, so the generator is not passed on.
    forward: (x, options = {}) => model.forward(x, { training: options.training ?? false }),
    loss: (pred, targets) => mseLoss(pred, new Tensor(targets, pred.shape)),
  };
}

/** The input/output sizes of a spec's model, without building it. */
export function modelIo(spec: ModelSpec): ModelIo {
  if (spec.kind === "definition") {
    checkDefinitionSpec(spec);
    const { window, features, head } = spec.definition.io;
    return { window, features, outputs: outputColumns(head).length };
  }
  checkReference(spec);
  const shape = { ...DEFAULT_REFERENCE_SHAPE, ...spec.shape };
  return { window: shape.window, features: shape.features, outputs: 1 };
}

/**
 * Builds the optimiser over a replica's trainable parameters (validation errors quote the option),
 * or undefined when nothing is trainable (a mean ensemble): the step then only measures the loss.
 */
export function buildOptimizer(spec: OptimizerSpec, params: readonly Parameter[]): Optimizer | undefined {
  if (params.length === 0) return undefined;
  const { kind, ...options } = spec;
  switch (kind) {
    case "adam":
      return new Adam(params, options as AdamOptions);
    case "adamw":
      return new AdamW(params, options as AdamOptions);
    case "sgd":
      return new SGD(params, options as SgdOptions);
    default:
      throw new CryptomlError(
        "USAGE",
        `optimizer.kind=${JSON.stringify(kind)} must be one of adam, adamw, sgd`,
      );
  }
}
