/**
 * `ensemble`: combines trained members (built from their own definitions, parameters under
 * `members.<i>.`) column by column:
 * - `mean`: the average of the members' outputs
 * - `weighted`: Σ_i w_i · output_i with fixed weights summing to 1
 * - `stacked`: a learned Linear over the members' outputs side by side, `blend.weight`
 *   [outputs, members·outputs] and `blend.bias` [outputs], starting as the mean
 *
 * Members are frozen: they run without a graph and in eval mode (no dropout) even while the blend
 * trains, since their noise would only blur what the blend learns. Each member's return column is
 * brought to the ensemble's `returnScale` (members trained on other folds have other scales).
 */
import { constantInit } from "../../engine/init.js";
import { linear } from "../../engine/ops/linear.js";
import { noGrad, type ParameterTensor, Tensor } from "../../engine/tensor.js";
import {
  type ForecastModel,
  type ForwardOptions,
  type ModelDefinition,
  outputColumns,
} from "../definition.js";
import { BaseModel } from "./base.js";

export class EnsembleModel extends BaseModel {
  private readonly blend: { weight: ParameterTensor; bias: ParameterTensor } | undefined;
  /** Per member, the factor bringing each output column to the ensemble's scale. */
  private readonly columnScales: Float32Array[];

  constructor(
    definition: ModelDefinition,
    private readonly members: readonly ForecastModel[],
    /** The normalised member weights of `weighted`; undefined otherwise. */
    private readonly weights: readonly number[] | undefined,
    prefix = "",
  ) {
    super(definition, prefix);
    for (const member of members) this.adopt(member.parameters());
    const columns = outputColumns(definition.io.head);
    this.columnScales = members.map((m) =>
      Float32Array.from(columns, (c) =>
        c === "return" ? m.definition.io.returnScale / definition.io.returnScale : 1,
      ),
    );
    if (definition.className === "ensemble" && definition.config.method === "stacked") {
      const o = this.outputs;
      const weight = this.param("blend.weight", [o, members.length * o]);
      const bias = this.param("blend.bias", [o]);
      // Start as the mean, so training the blend begins from the plain ensemble.
      for (let r = 0; r < o; r++) {
        for (let i = 0; i < members.length; i++)
          weight.data[r * members.length * o + i * o + r] = 1 / members.length;
      }
      constantInit(bias, 0);
      this.blend = { weight, bias };
    }
  }

  override trainableParameters(): readonly ParameterTensor[] {
    return this.blend === undefined ? [] : [this.blend.weight, this.blend.bias];
  }

  forward(x: Tensor, _options: ForwardOptions = {}): Tensor {
    const batch = this.checkInput(x);
    const o = this.outputs;
    const m = this.members.length;
    const outputs = noGrad(() => this.members.map((member) => member.forward(x).data));
    if (this.blend !== undefined) {
      // Members side by side: row b is [member 0's columns, member 1's columns, …].
      const joined = new Float32Array(batch * m * o);
      outputs.forEach((data, i) => {
        const scales = this.columnScales[i] as Float32Array;
        for (let b = 0; b < batch; b++) {
          for (let c = 0; c < o; c++) {
            joined[(b * m + i) * o + c] = (data[b * o + c] as number) * (scales[c] as number);
          }
        }
      });
      return linear(new Tensor(joined, [batch, m * o]), this.blend.weight, this.blend.bias);
    }
    const out = new Float32Array(batch * o);
    outputs.forEach((data, i) => {
      const w = this.weights?.[i] ?? 1 / m;
      const scales = this.columnScales[i] as Float32Array;
      for (let j = 0; j < out.length; j++) {
        out[j] = (out[j] as number) + w * (data[j] as number) * (scales[j % o] as number);
      }
    });
    return new Tensor(out, [batch, o]);
  }
}
