/**
 * What every architecture of the registry shares: parameter registration under PyTorch `state_dict`
 * names (optionally prefixed, so an ensemble's members live under `members.<i>.`), PyTorch-default
 * initialisation of the common layers, input checks and dropout that is only drawn while training.
 */
import { CryptomlError } from "../../core/errors.js";
import { initLinear, initRecurrent } from "../../engine/init.js";
import { dropout } from "../../engine/ops/dropout.js";
import { linear } from "../../engine/ops/linear.js";
import type { RecurrentParameters } from "../../engine/ops/recurrent.js";
import type { Rng } from "../../engine/random.js";
import { ParameterTensor, type Tensor } from "../../engine/tensor.js";
import {
  type ForecastModel,
  type ForwardOptions,
  type ModelDefinition,
  type ModelName,
  outputColumns,
} from "../definition.js";
import { ParameterRegistry } from "../module.js";

/** The weight and bias of an nn.Linear (weight [out, in]). */
export interface LinearParameters {
  readonly weight: ParameterTensor;
  readonly bias: ParameterTensor;
}

/** Applies a Linear layer to the last dimension of `x`. */
export function dense(x: Tensor, layer: LinearParameters): Tensor {
  return linear(x, layer.weight, layer.bias);
}

/** Applies a dropout layer of the model: the identity outside training. */
export type Dropout = (x: Tensor) => Tensor;

export abstract class BaseModel implements ForecastModel {
  readonly className: ModelName;
  private readonly registry = new ParameterRegistry();

  constructor(
    readonly definition: ModelDefinition,
    /** Prepended to every parameter name ("" for a model of its own, `members.<i>.` in an ensemble). */
    protected readonly prefix: string,
  ) {
    this.className = definition.className;
  }

  parameters(): readonly ParameterTensor[] {
    return this.registry.list;
  }

  trainableParameters(): readonly ParameterTensor[] {
    return this.registry.list;
  }

  abstract forward(x: Tensor, options?: ForwardOptions): Tensor;

  /** The number of output columns of the head. */
  protected get outputs(): number {
    return outputColumns(this.definition.io.head).length;
  }

  protected param(name: string, shape: readonly number[]): ParameterTensor {
    return this.registry.add(new ParameterTensor(`${this.prefix}${name}`, shape));
  }

  /** Registers parameters built elsewhere (an ensemble's members), keeping their names. */
  protected adopt(parameters: readonly ParameterTensor[]): void {
    for (const p of parameters) this.registry.add(p);
  }

  /** nn.Linear(inputs → outputs) named `<name>.weight` / `<name>.bias`, PyTorch's default init. */
  protected linearLayer(rng: Rng, name: string, inputs: number, outputs: number): LinearParameters {
    const weight = this.param(`${name}.weight`, [outputs, inputs]);
    const bias = this.param(`${name}.bias`, [outputs]);
    initLinear(rng, weight, bias);
    return { weight, bias };
  }

  /**
   * Layer `layer` of an nn.LSTM (gates 4) or nn.GRU (gates 3) named `<name>.weight_ih_l<layer>` etc.
   * Drawing layer by layer in this order is the order of PyTorch's `reset_parameters`.
   */
  protected recurrentLayer(
    rng: Rng,
    name: string,
    gates: number,
    inputs: number,
    hidden: number,
    layer: number,
  ): RecurrentParameters {
    const rows = gates * hidden;
    const p = {
      weightIh: this.param(`${name}.weight_ih_l${layer}`, [rows, inputs]),
      weightHh: this.param(`${name}.weight_hh_l${layer}`, [rows, hidden]),
      biasIh: this.param(`${name}.bias_ih_l${layer}`, [rows]),
      biasHh: this.param(`${name}.bias_hh_l${layer}`, [rows]),
    };
    initRecurrent(rng, hidden, [p.weightIh, p.weightHh, p.biasIh, p.biasHh]);
    return p;
  }

  /**
   * Checks that `x` is [B, window, features] as the model was built for; returns B. A wrong window
   * or feature count means the dataset and the model were made from different configs.
   */
  protected checkInput(x: Tensor): number {
    const { window, features } = this.definition.io;
    const [batch, steps, width] = x.shape;
    if (x.shape.length !== 3 || steps !== window || width !== features || batch === undefined || batch < 1) {
      throw new CryptomlError(
        "USAGE",
        `${this.className} was built for windows [B, ${window}, ${features}] but got [${x.shape.join(", ")}]`,
        {
          hint: "build the dataset with the window and features the model was defined with (its definition.io)",
        },
      );
    }
    return batch;
  }

  /**
   * The model's dropout layer for one forward pass: the identity unless training with p > 0, in
   * which case masks are drawn from `options.rng` (required, so a training run is reproducible).
   */
  protected dropoutFor(p: number, options: ForwardOptions): Dropout {
    if (options.training !== true || p === 0) return (x) => x;
    const rng = options.rng;
    if (rng === undefined) {
      throw new CryptomlError(
        "USAGE",
        `${this.className}: training with dropout ${p} needs options.rng to draw the dropout masks from`,
        { hint: "call forward(x, { training: true, rng }) with a seeded Rng, or set dropout to 0" },
      );
    }
    return (x) => dropout(x, p, rng, true);
  }
}
