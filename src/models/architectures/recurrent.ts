/**
 * The recurrent family, as PyTorch's nn.LSTM / nn.GRU (batch_first) with `num_layers` stacked layers
 * (`rnn.weight_ih_l<k>` …), one fused engine op per layer:
 * - `lstm` / `gru`: last hidden state of the top layer → dropout → Linear(H → outputs) (`head.*`)
 * - `lstm_attention`: additive attention pooling over the top layer's states,
 *   score = Linear(H → 1)(tanh(h_t)), softmax over time, Σ_t w_t·h_t → dropout → head
 * Dropout also applies between layers, as nn.LSTM's `dropout` argument does (not after the top one).
 */
import type { ModelsConfig } from "../../config/schema/models.js";
import { reshape, tanh } from "../../engine/ops/elementwise.js";
import { bmm } from "../../engine/ops/linear.js";
import { gru, lstm, type RecurrentParameters } from "../../engine/ops/recurrent.js";
import { softmax } from "../../engine/ops/softmax.js";
import type { Rng } from "../../engine/random.js";
import type { Tensor } from "../../engine/tensor.js";
import type { ForwardOptions, ModelDefinition } from "../definition.js";
import { BaseModel, type Dropout, dense, type LinearParameters } from "./base.js";

export type RecurrentConfig = ModelsConfig["lstm"];
export type RecurrentKind = "lstm" | "gru" | "lstm_attention";

export class RecurrentModel extends BaseModel {
  private readonly layers: RecurrentParameters[] = [];
  private readonly score: LinearParameters | undefined;
  private readonly head: LinearParameters;
  private readonly cell: "lstm" | "gru";

  constructor(
    definition: ModelDefinition,
    private readonly config: RecurrentConfig,
    rng: Rng,
    prefix = "",
  ) {
    super(definition, prefix);
    this.cell = definition.className === "gru" ? "gru" : "lstm";
    const gates = this.cell === "gru" ? 3 : 4;
    const hidden = config.hidden_size;
    for (let k = 0; k < config.num_layers; k++) {
      const inputs = k === 0 ? definition.io.features : hidden;
      this.layers.push(this.recurrentLayer(rng, "rnn", gates, inputs, hidden, k));
    }
    this.score =
      definition.className === "lstm_attention" ? this.linearLayer(rng, "score", hidden, 1) : undefined;
    this.head = this.linearLayer(rng, "head", hidden, this.outputs);
  }

  forward(x: Tensor, options: ForwardOptions = {}): Tensor {
    const batch = this.checkInput(x);
    const drop = this.dropoutFor(this.config.dropout, options);
    const top = this.stack(x, drop);
    const pooled = this.score === undefined ? top.last : this.attend(top.sequence, batch);
    return dense(drop(pooled), this.head);
  }

  /** Runs the stacked layers; returns the top layer's states [B, T, H] and its last state [B, H]. */
  private stack(x: Tensor, drop: Dropout): { sequence: Tensor; last: Tensor } {
    let input = x;
    let out = { sequence: x, last: x };
    this.layers.forEach((p, k) => {
      const r = this.cell === "gru" ? gru(input, p) : lstm(input, p);
      out = { sequence: r.output, last: r.h };
      if (k < this.layers.length - 1) input = drop(r.output);
    });
    return out;
  }

  private attend(sequence: Tensor, batch: number): Tensor {
    const steps = this.definition.io.window;
    const hidden = this.config.hidden_size;
    const score = this.score as LinearParameters;
    const weights = softmax(dense(tanh(sequence), score), 1); // [B, T, 1]
    // Σ_t w_t · h_t as one batched product: [B, 1, T] · [B, T, H] → [B, 1, H].
    const pooled = bmm(reshape(weights, [batch, 1, steps]), sequence);
    return reshape(pooled, [batch, hidden]);
  }
}
