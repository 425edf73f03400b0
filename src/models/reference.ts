/**
 * The five reference architectures of the engine benchmark (see ../shared/anchors/README.md), built
 * on the engine's fused ops, with PyTorch's parameter names so weights travel both ways as safetensors:
 * - `lstm`: LSTM(F→H), last hidden state → Linear(H→1)
 * - `gru`: GRU(F→H), last hidden state → Linear(H→1)
 * - `lstm_attention`: LSTM over the window; score = Linear(H→1)(tanh(h_t)); softmax over time; weighted
 *   sum of h_t → Linear(H→1)
 * - `cnn_lstm`: Conv1d(F→C, kernel 3, padding 1) + ReLU over time → LSTM(C→H) → last hidden → Linear(H→1)
 * - `transformer`: Linear(F→D) + learned positions [1, T, D]; post-norm encoder layers (self-attention,
 *   ReLU feed-forward, no dropout); mean over time → Linear(D→1)
 */
import { CryptomlError } from "../core/errors.js";
import {
  initConv1d,
  initLayerNorm,
  initLinear,
  initMultiheadAttention,
  initPositions,
  initRecurrent,
} from "../engine/init.js";
import { multiHeadSelfAttention } from "../engine/ops/attention.js";
import { conv1d } from "../engine/ops/conv1d.js";
import { add, relu, reshape, tanh } from "../engine/ops/elementwise.js";
import { bmm, linear } from "../engine/ops/linear.js";
import { layerNorm } from "../engine/ops/norm.js";
import type { RecurrentParameters } from "../engine/ops/recurrent.js";
import { gru, lstm } from "../engine/ops/recurrent.js";
import { softmax } from "../engine/ops/softmax.js";
import { mean } from "../engine/ops/structure.js";
import type { Rng } from "../engine/random.js";
import { ParameterTensor, type Tensor } from "../engine/tensor.js";
import { type Module, ParameterRegistry } from "./module.js";

export const REFERENCE_MODELS = ["lstm", "gru", "lstm_attention", "cnn_lstm", "transformer"] as const;
export type ReferenceModelName = (typeof REFERENCE_MODELS)[number];

/** Sizes of the reference models; the benchmark uses the defaults. */
export interface ReferenceShape {
  /** Input features F (default 16). */
  features: number;
  /** Window length T (needed by the transformer's learned positions; default 64). */
  window: number;
  /** Hidden size H of the recurrent models and model width D of the transformer (default 64). */
  hidden: number;
  /** Conv1d channels of cnn_lstm (default 32). */
  convChannels: number;
  /** Transformer heads, feed-forward width and layers (defaults 4, 128, 2). */
  heads: number;
  feedForward: number;
  layers: number;
}

export const DEFAULT_REFERENCE_SHAPE: ReferenceShape = {
  features: 16,
  window: 64,
  hidden: 64,
  convChannels: 32,
  heads: 4,
  feedForward: 128,
  layers: 2,
};

function linearParams(registry: ParameterRegistry, rng: Rng, name: string, inputs: number, outputs: number) {
  const weight = registry.add(new ParameterTensor(`${name}.weight`, [outputs, inputs]));
  const bias = registry.add(new ParameterTensor(`${name}.bias`, [outputs]));
  initLinear(rng, weight, bias);
  return { weight, bias };
}

function recurrentParams(
  registry: ParameterRegistry,
  rng: Rng,
  name: string,
  gates: number,
  inputs: number,
  hidden: number,
): RecurrentParameters {
  const p = {
    weightIh: registry.add(new ParameterTensor(`${name}.weight_ih_l0`, [gates * hidden, inputs])),
    weightHh: registry.add(new ParameterTensor(`${name}.weight_hh_l0`, [gates * hidden, hidden])),
    biasIh: registry.add(new ParameterTensor(`${name}.bias_ih_l0`, [gates * hidden])),
    biasHh: registry.add(new ParameterTensor(`${name}.bias_hh_l0`, [gates * hidden])),
  };
  initRecurrent(rng, hidden, [p.weightIh, p.weightHh, p.biasIh, p.biasHh]);
  return p;
}

abstract class ReferenceModel implements Module {
  protected readonly registry = new ParameterRegistry();
  constructor(
    readonly className: ReferenceModelName,
    readonly shape: ReferenceShape,
  ) {}
  parameters(): readonly ParameterTensor[] {
    return this.registry.list;
  }
  abstract forward(x: Tensor): Tensor;
}

class LstmNet extends ReferenceModel {
  private readonly rnn: RecurrentParameters;
  private readonly out: { weight: ParameterTensor; bias: ParameterTensor };
  constructor(shape: ReferenceShape, rng: Rng) {
    super("lstm", shape);
    this.rnn = recurrentParams(this.registry, rng, "rnn", 4, shape.features, shape.hidden);
    this.out = linearParams(this.registry, rng, "out", shape.hidden, 1);
  }
  forward(x: Tensor): Tensor {
    return linear(lstm(x, this.rnn).h, this.out.weight, this.out.bias);
  }
}

class GruNet extends ReferenceModel {
  private readonly rnn: RecurrentParameters;
  private readonly out: { weight: ParameterTensor; bias: ParameterTensor };
  constructor(shape: ReferenceShape, rng: Rng) {
    super("gru", shape);
    this.rnn = recurrentParams(this.registry, rng, "rnn", 3, shape.features, shape.hidden);
    this.out = linearParams(this.registry, rng, "out", shape.hidden, 1);
  }
  forward(x: Tensor): Tensor {
    return linear(gru(x, this.rnn).h, this.out.weight, this.out.bias);
  }
}

class LstmAttentionNet extends ReferenceModel {
  private readonly rnn: RecurrentParameters;
  private readonly score: { weight: ParameterTensor; bias: ParameterTensor };
  private readonly out: { weight: ParameterTensor; bias: ParameterTensor };
  constructor(shape: ReferenceShape, rng: Rng) {
    super("lstm_attention", shape);
    this.rnn = recurrentParams(this.registry, rng, "rnn", 4, shape.features, shape.hidden);
    this.score = linearParams(this.registry, rng, "score", shape.hidden, 1);
    this.out = linearParams(this.registry, rng, "out", shape.hidden, 1);
  }
  forward(x: Tensor): Tensor {
    const [batch, steps] = x.shape as [number, number];
    const seq = lstm(x, this.rnn).output; // [B, T, H]
    const weights = softmax(linear(tanh(seq), this.score.weight, this.score.bias), 1); // [B, T, 1]
    // Σ_t w_t · h_t as one batched product: [B, 1, T] · [B, T, H] → [B, 1, H].
    const pooled = bmm(reshape(weights, [batch, 1, steps]), seq);
    return linear(reshape(pooled, [batch, this.shape.hidden]), this.out.weight, this.out.bias);
  }
}

class CnnLstmNet extends ReferenceModel {
  private readonly conv: { weight: ParameterTensor; bias: ParameterTensor };
  private readonly rnn: RecurrentParameters;
  private readonly out: { weight: ParameterTensor; bias: ParameterTensor };
  constructor(shape: ReferenceShape, rng: Rng) {
    super("cnn_lstm", shape);
    const weight = this.registry.add(
      new ParameterTensor("conv.weight", [shape.convChannels, shape.features, 3]),
    );
    const bias = this.registry.add(new ParameterTensor("conv.bias", [shape.convChannels]));
    initConv1d(rng, weight, bias);
    this.conv = { weight, bias };
    this.rnn = recurrentParams(this.registry, rng, "rnn", 4, shape.convChannels, shape.hidden);
    this.out = linearParams(this.registry, rng, "out", shape.hidden, 1);
  }
  forward(x: Tensor): Tensor {
    const features = relu(conv1d(x, this.conv.weight, this.conv.bias, { padding: 1 }));
    return linear(lstm(features, this.rnn).h, this.out.weight, this.out.bias);
  }
}

interface EncoderLayer {
  attention: {
    inProjWeight: ParameterTensor;
    inProjBias: ParameterTensor;
    outProjWeight: ParameterTensor;
    outProjBias: ParameterTensor;
  };
  linear1: { weight: ParameterTensor; bias: ParameterTensor };
  linear2: { weight: ParameterTensor; bias: ParameterTensor };
  norm1: { weight: ParameterTensor; bias: ParameterTensor };
  norm2: { weight: ParameterTensor; bias: ParameterTensor };
}

function copyLayer(from: EncoderLayer, to: EncoderLayer): void {
  const tensors = (layer: EncoderLayer) => [
    ...Object.values(layer.attention),
    ...[layer.linear1, layer.linear2, layer.norm1, layer.norm2].flatMap((p) => [p.weight, p.bias]),
  ];
  const targets = tensors(to);
  tensors(from).forEach((source, i) => {
    targets[i]?.data.set(source.data);
  });
}

class TransformerNet extends ReferenceModel {
  private readonly inp: { weight: ParameterTensor; bias: ParameterTensor };
  private readonly pos: ParameterTensor;
  private readonly layers: EncoderLayer[] = [];
  private readonly out: { weight: ParameterTensor; bias: ParameterTensor };
  constructor(shape: ReferenceShape, rng: Rng) {
    super("transformer", shape);
    if (shape.hidden % shape.heads !== 0) {
      throw new CryptomlError(
        "USAGE",
        `transformer width ${shape.hidden} must be divisible by heads ${shape.heads}`,
      );
    }
    const d = shape.hidden;
    this.inp = linearParams(this.registry, rng, "inp", shape.features, d);
    this.pos = this.registry.add(new ParameterTensor("pos", [1, shape.window, d]));
    initPositions(this.pos);
    for (let l = 0; l < shape.layers; l++) this.layers.push(this.encoderLayer(`enc.layers.${l}`, rng));
    // PyTorch's TransformerEncoder deep-copies one initialised layer, so every layer starts equal.
    const [first, ...rest] = this.layers;
    for (const layer of rest) copyLayer(first as EncoderLayer, layer);
    this.out = linearParams(this.registry, rng, "out", d, 1);
  }

  private encoderLayer(prefix: string, rng: Rng): EncoderLayer {
    const { hidden: d, feedForward } = this.shape;
    const add = <T extends ParameterTensor>(p: T) => this.registry.add(p);
    const attention = {
      inProjWeight: add(new ParameterTensor(`${prefix}.self_attn.in_proj_weight`, [3 * d, d])),
      inProjBias: add(new ParameterTensor(`${prefix}.self_attn.in_proj_bias`, [3 * d])),
      outProjWeight: add(new ParameterTensor(`${prefix}.self_attn.out_proj.weight`, [d, d])),
      outProjBias: add(new ParameterTensor(`${prefix}.self_attn.out_proj.bias`, [d])),
    };
    initMultiheadAttention(rng, attention);
    const linear1 = linearParams(this.registry, rng, `${prefix}.linear1`, d, feedForward);
    const linear2 = linearParams(this.registry, rng, `${prefix}.linear2`, feedForward, d);
    const norm = (name: string) => {
      const weight = add(new ParameterTensor(`${prefix}.${name}.weight`, [d]));
      const bias = add(new ParameterTensor(`${prefix}.${name}.bias`, [d]));
      initLayerNorm(weight, bias);
      return { weight, bias };
    };
    return { attention, linear1, linear2, norm1: norm("norm1"), norm2: norm("norm2") };
  }

  forward(x: Tensor): Tensor {
    const [batch, steps] = x.shape as [number, number];
    const d = this.shape.hidden;
    if (steps !== this.shape.window) {
      throw new CryptomlError(
        "USAGE",
        `transformer expects windows of ${this.shape.window} candles, got ${steps}`,
      );
    }
    let h = add(linear(x, this.inp.weight, this.inp.bias), reshape(this.pos, [steps, d]));
    for (const layer of this.layers) {
      // Post-norm (PyTorch's default norm_first=False): x = norm1(x + SA(x)); x = norm2(x + FF(x)).
      h = layerNorm(
        add(h, multiHeadSelfAttention(h, layer.attention, this.shape.heads)),
        layer.norm1.weight,
        layer.norm1.bias,
      );
      const ff = linear(
        relu(linear(h, layer.linear1.weight, layer.linear1.bias)),
        layer.linear2.weight,
        layer.linear2.bias,
      );
      h = layerNorm(add(h, ff), layer.norm2.weight, layer.norm2.bias);
    }
    return linear(reshape(mean(h, 1), [batch, d]), this.out.weight, this.out.bias);
  }
}

/** Builds a reference model with PyTorch-default initial weights drawn from `rng`. */
export function createReferenceModel(
  name: ReferenceModelName,
  rng: Rng,
  shape: Partial<ReferenceShape> = {},
): Module {
  const full = { ...DEFAULT_REFERENCE_SHAPE, ...shape };
  switch (name) {
    case "lstm":
      return new LstmNet(full, rng);
    case "gru":
      return new GruNet(full, rng);
    case "lstm_attention":
      return new LstmAttentionNet(full, rng);
    case "cnn_lstm":
      return new CnnLstmNet(full, rng);
    case "transformer":
      return new TransformerNet(full, rng);
  }
}
