/**
 * What a replica is built from: serialisable specs (plain data, structured-clone safe) for the model
 * and the optimiser, so every worker thread rebuilds exactly the same replica without sharing objects.
 */
import { CryptomlError } from "../../core/errors.js";
import type { Module } from "../../models/module.js";
import {
  createReferenceModel,
  DEFAULT_REFERENCE_SHAPE,
  REFERENCE_MODELS,
  type ReferenceModelName,
  type ReferenceShape,
} from "../../models/reference.js";
import { Adam, type AdamOptions, AdamW, type Optimizer, SGD, type SgdOptions } from "../optim/index.js";
import { Rng } from "../random.js";

/**
 * A reference model (src/models/reference.ts) drawn from `new Rng(seed)`. `kind` defaults to
 * "reference"; other kinds (a registry's `{ className, config }`) join this union later, and only
 * `buildModel` and `modelIo` need to learn them.
 */
export interface ReferenceModelSpec {
  kind?: "reference";
  name: ReferenceModelName;
  /** Sizes; missing fields take DEFAULT_REFERENCE_SHAPE's. */
  shape?: Partial<ReferenceShape>;
  /** Seed of the initial weights. Default 0. */
  seed?: number;
}

export type ModelSpec = ReferenceModelSpec;

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

/** Builds the model a spec describes; equal specs give equal initial weights. */
export function buildModel(spec: ModelSpec): Module {
  checkReference(spec);
  return createReferenceModel(spec.name, new Rng(spec.seed ?? 0), spec.shape ?? {});
}

/** The input/output sizes of a spec's model, without building it. */
export function modelIo(spec: ModelSpec): ModelIo {
  checkReference(spec);
  const shape = { ...DEFAULT_REFERENCE_SHAPE, ...spec.shape };
  return { window: shape.window, features: shape.features, outputs: 1 };
}

/** Builds the optimiser over a replica's parameters (validation errors quote the option). */
export function buildOptimizer(spec: OptimizerSpec, model: Module): Optimizer {
  const { kind, ...options } = spec;
  switch (kind) {
    case "adam":
      return new Adam(model.parameters(), options as AdamOptions);
    case "adamw":
      return new AdamW(model.parameters(), options as AdamOptions);
    case "sgd":
      return new SGD(model.parameters(), options as SgdOptions);
    default:
      throw new CryptomlError(
        "USAGE",
        `optimizer.kind=${JSON.stringify(kind)} must be one of adam, adamw, sgd`,
      );
  }
}
