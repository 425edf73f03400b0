/**
 * `transformer`: Linear(F → D) (`inp.*`) + learned positions `pos` [1, window, D]; `layers` post-norm
 * encoder layers named as nn.TransformerEncoder's (`enc.layers.<l>.self_attn.in_proj_weight` …,
 * ReLU feed-forward of width `feed_forward`); mean over time → Linear(D → outputs) (`head.*`).
 *
 * Dropout sits where nn.TransformerEncoderLayer puts it: on the attention output (dropout1), inside
 * the feed-forward after the ReLU (dropout) and on the feed-forward output (dropout2).
 */
import type { ModelsConfig } from "../../config/schema/models.js";
import { initLayerNorm, initMultiheadAttention, initPositions } from "../../engine/init.js";
import { multiHeadSelfAttention } from "../../engine/ops/attention.js";
import { add, relu, reshape } from "../../engine/ops/elementwise.js";
import { layerNorm } from "../../engine/ops/norm.js";
import { mean } from "../../engine/ops/structure.js";
import type { Rng } from "../../engine/random.js";
import type { ParameterTensor, Tensor } from "../../engine/tensor.js";
import type { ForwardOptions, ModelDefinition } from "../definition.js";
import { BaseModel, dense, type LinearParameters } from "./base.js";

export type TransformerConfig = ModelsConfig["transformer"];

interface EncoderLayer {
  readonly attention: {
    readonly inProjWeight: ParameterTensor;
    readonly inProjBias: ParameterTensor;
    readonly outProjWeight: ParameterTensor;
    readonly outProjBias: ParameterTensor;
  };
  readonly linear1: LinearParameters;
  readonly linear2: LinearParameters;
  readonly norm1: LinearParameters;
  readonly norm2: LinearParameters;
}

const tensorsOf = (layer: EncoderLayer): ParameterTensor[] => [
  ...Object.values(layer.attention),
  ...[layer.linear1, layer.linear2, layer.norm1, layer.norm2].flatMap((p) => [p.weight, p.bias]),
];

export class TransformerModel extends BaseModel {
  private readonly inp: LinearParameters;
  private readonly pos: ParameterTensor;
  private readonly layers: EncoderLayer[] = [];
  private readonly head: LinearParameters;

  constructor(
    definition: ModelDefinition,
    private readonly config: TransformerConfig,
    rng: Rng,
    prefix = "",
  ) {
    super(definition, prefix);
    const d = config.d_model;
    this.inp = this.linearLayer(rng, "inp", definition.io.features, d);
    this.pos = this.param("pos", [1, definition.io.window, d]);
    initPositions(this.pos);
    for (let l = 0; l < config.layers; l++) this.layers.push(this.encoderLayer(`enc.layers.${l}`, rng));
    // PyTorch's TransformerEncoder deep-copies one initialised layer, so every layer starts equal.
    const [first = [], ...rest] = this.layers.map(tensorsOf);
    for (const layer of rest) {
      layer.forEach((p, i) => {
        p.data.set((first[i] as ParameterTensor).data);
      });
    }
    this.head = this.linearLayer(rng, "head", d, this.outputs);
  }

  private encoderLayer(prefix: string, rng: Rng): EncoderLayer {
    const { d_model: d, feed_forward: feedForward } = this.config;
    const attention = {
      inProjWeight: this.param(`${prefix}.self_attn.in_proj_weight`, [3 * d, d]),
      inProjBias: this.param(`${prefix}.self_attn.in_proj_bias`, [3 * d]),
      outProjWeight: this.param(`${prefix}.self_attn.out_proj.weight`, [d, d]),
      outProjBias: this.param(`${prefix}.self_attn.out_proj.bias`, [d]),
    };
    initMultiheadAttention(rng, attention);
    const linear1 = this.linearLayer(rng, `${prefix}.linear1`, d, feedForward);
    const linear2 = this.linearLayer(rng, `${prefix}.linear2`, feedForward, d);
    const norm = (name: string): LinearParameters => {
      const weight = this.param(`${prefix}.${name}.weight`, [d]);
      const bias = this.param(`${prefix}.${name}.bias`, [d]);
      initLayerNorm(weight, bias);
      return { weight, bias };
    };
    return { attention, linear1, linear2, norm1: norm("norm1"), norm2: norm("norm2") };
  }

  forward(x: Tensor, options: ForwardOptions = {}): Tensor {
    const batch = this.checkInput(x);
    const drop = this.dropoutFor(this.config.dropout, options);
    const { d_model: d, heads } = this.config;
    const steps = this.definition.io.window;
    let h = add(dense(x, this.inp), reshape(this.pos, [steps, d]));
    for (const layer of this.layers) {
      // Post-norm (PyTorch's default norm_first=False): x = norm1(x + SA(x)); x = norm2(x + FF(x)).
      const attended = drop(multiHeadSelfAttention(h, layer.attention, heads));
      h = layerNorm(add(h, attended), layer.norm1.weight, layer.norm1.bias);
      const ff = drop(dense(drop(relu(dense(h, layer.linear1))), layer.linear2));
      h = layerNorm(add(h, ff), layer.norm2.weight, layer.norm2.bias);
    }
    return dense(reshape(mean(h, 1), [batch, d]), this.head);
  }
}
