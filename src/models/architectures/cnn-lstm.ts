/**
 * `cnn_lstm`: Conv1d(F → C, kernel K) + ReLU over time → dropout → LSTM(C → H) → last hidden state
 * → dropout → Linear(H → outputs). Names as PyTorch: `conv.weight` [C, F, K], `conv.bias`,
 * `rnn.weight_ih_l0` …, `head.*`.
 *
 * The convolution keeps the window length, as PyTorch's `padding="same"`: odd K pads K//2 on both
 * sides; even K needs K−1 zeros in all, (K−1)//2 on the left and one more on the right, which is
 * padding K/2 on both sides followed by dropping the first output step.
 */
import type { ModelsConfig } from "../../config/schema/models.js";
import { initConv1d } from "../../engine/init.js";
import { conv1d } from "../../engine/ops/conv1d.js";
import { relu } from "../../engine/ops/elementwise.js";
import { lstm, type RecurrentParameters } from "../../engine/ops/recurrent.js";
import { slice } from "../../engine/ops/structure.js";
import type { Rng } from "../../engine/random.js";
import type { ParameterTensor, Tensor } from "../../engine/tensor.js";
import type { ForwardOptions, ModelDefinition } from "../definition.js";
import { BaseModel, dense, type LinearParameters } from "./base.js";

export type CnnLstmConfig = ModelsConfig["cnn_lstm"];

export class CnnLstmModel extends BaseModel {
  private readonly conv: { weight: ParameterTensor; bias: ParameterTensor };
  private readonly rnn: RecurrentParameters;
  private readonly head: LinearParameters;

  constructor(
    definition: ModelDefinition,
    private readonly config: CnnLstmConfig,
    rng: Rng,
    prefix = "",
  ) {
    super(definition, prefix);
    const { conv_channels: channels, kernel_size: kernel, hidden_size: hidden } = config;
    const weight = this.param("conv.weight", [channels, definition.io.features, kernel]);
    const bias = this.param("conv.bias", [channels]);
    initConv1d(rng, weight, bias);
    this.conv = { weight, bias };
    this.rnn = this.recurrentLayer(rng, "rnn", 4, channels, hidden, 0);
    this.head = this.linearLayer(rng, "head", hidden, this.outputs);
  }

  forward(x: Tensor, options: ForwardOptions = {}): Tensor {
    this.checkInput(x);
    const drop = this.dropoutFor(this.config.dropout, options);
    const kernel = this.config.kernel_size;
    let features = conv1d(x, this.conv.weight, this.conv.bias, { padding: Math.floor(kernel / 2) });
    if (kernel % 2 === 0) features = slice(features, 1, 1, this.definition.io.window + 1);
    const h = lstm(drop(relu(features)), this.rnn).h;
    return dense(drop(h), this.head);
  }
}
