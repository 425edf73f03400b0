/**
 * The model registry's vocabulary: every model is `{ className, config, io }`, plain JSON that is
 * stored next to the weights, so a safetensors file plus its definition rebuilds the model exactly.
 */
import type { ModelName, ModelsConfig } from "../config/schema/models.js";
import type { Rng } from "../engine/random.js";
import type { ParameterTensor, Tensor } from "../engine/tensor.js";

export type { ModelName } from "../config/schema/models.js";

/**
 * What the model predicts: `regression` the forward log return, `classification` the logit of
 * "up", `both` the two side by side (the dataset's `target.kind`).
 */
export type HeadKind = "regression" | "classification" | "both";

/** One column of a model's output. */
export type OutputColumn = "return" | "logit";

/** The output columns of a head, in order: `both` is [return, logit]. */
export function outputColumns(head: HeadKind): readonly OutputColumn[] {
  if (head === "regression") return ["return"];
  if (head === "classification") return ["logit"];
  return ["return", "logit"];
}

/** The data a model is built for: windows [B, window, features] in, [B, outputs] out. */
export interface ModelIo {
  readonly window: number;
  readonly features: number;
  readonly head: HeadKind;
  /**
   * The regression column predicts `log return / returnScale` (the training targets' standard
   * deviation), so the network works on values near 1; predictions are multiplied back by it.
   * 1 when there is no regression column.
   */
  readonly returnScale: number;
}

/** The settings of one architecture: its section of `models:` (model_architectures.yaml). */
export type ArchitectureConfig<N extends Exclude<ModelName, "ensemble"> = Exclude<ModelName, "ensemble">> =
  ModelsConfig[N];

/** How an ensemble combines its members' outputs. */
export type EnsembleMethod = ModelsConfig["ensemble"]["method"];

/**
 * A resolved ensemble: the members' own definitions (their weights are part of the ensemble's
 * weights, under `members.<i>.`), and for `weighted` the fixed weight of each member (summing to 1).
 * `stacked` learns a linear blend (`blend.weight` [outputs, members·outputs], `blend.bias`).
 */
export interface EnsembleConfig {
  readonly method: EnsembleMethod;
  readonly members: readonly ModelDefinition[];
  readonly weights?: readonly number[];
}

/** A model of the registry: plain JSON (stored in the safetensors metadata of saved models). */
export type ModelDefinition =
  | {
      readonly className: Exclude<ModelName, "ensemble">;
      readonly config: ArchitectureConfig;
      readonly io: ModelIo;
    }
  | { readonly className: "ensemble"; readonly config: EnsembleConfig; readonly io: ModelIo };

/** Options of a forward pass. */
export interface ForwardOptions {
  /** Training mode: dropout active. Default false. */
  readonly training?: boolean;
  /** The generator dropout draws its masks from; required when training with dropout > 0. */
  readonly rng?: Rng;
}

/**
 * A model built from a definition. `forward` maps [B, window, features] to [B, outputs], the columns
 * being `outputColumns(definition.io.head)`.
 */
export interface ForecastModel {
  readonly className: ModelName;
  readonly definition: ModelDefinition;
  /** Every parameter, in a fixed order (safetensors files and optimiser states follow it). */
  parameters(): readonly ParameterTensor[];
  /** The parameters an optimiser updates (an ensemble's frozen members are left out). */
  trainableParameters(): readonly ParameterTensor[];
  forward(x: Tensor, options?: ForwardOptions): Tensor;
}
