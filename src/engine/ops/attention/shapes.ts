import { CryptomlError } from "../../../core/errors.js";
import type { Tensor } from "../../tensor.js";

/** The parameters of nn.MultiheadAttention (packed in-projection), with PyTorch's layouts. */
export interface AttentionParams {
  /** `in_proj_weight` [3E, E]: rows 0…E−1 project queries, E…2E−1 keys, 2E…3E−1 values. */
  inProjWeight: Tensor;
  /** `in_proj_bias` [3E] (omit for bias=False). */
  inProjBias?: Tensor;
  /** `out_proj.weight` [E, E]. */
  outProjWeight: Tensor;
  /** `out_proj.bias` [E] (omit for bias=False). */
  outProjBias?: Tensor;
}

/** Options of {@link multiHeadSelfAttention}. */
export interface AttentionOptions {
  /**
   * Additive attention mask [T, T] (PyTorch's float `attn_mask`): entry (i, j) is added to the
   * scaled score of query i against key j before the softmax; −∞ forbids the pair. See
   * {@link causalMask}. A query whose keys are all forbidden gets NaN, as in PyTorch.
   */
  mask?: Float32Array;
}

/** The float mask that lets query i attend only to keys j ≤ i (0 on and below the diagonal, −∞ above). */
export function causalMask(steps: number): Float32Array {
  const mask = new Float32Array(steps * steps);
  for (let i = 0; i < steps; i++) mask.fill(-Infinity, i * steps + i + 1, (i + 1) * steps);
  return mask;
}

/** Sizes shared by the forward and backward passes. */
export interface Dims {
  batch: number;
  steps: number;
  embed: number;
  heads: number;
  headDim: number;
}

/** Checks x, the parameters, heads and the mask against each other; returns the sizes. */
export function checkDims(
  x: Tensor,
  p: AttentionParams,
  heads: number,
  mask: Float32Array | undefined,
): Dims {
  const [batch, steps, embed] = x.shape as [number, number, number];
  if (x.shape.length !== 3)
    throw new CryptomlError("INTERNAL", `attention: input [${x.shape}] must be [B, T, E]`);
  if (!Number.isInteger(heads) || heads < 1 || embed % heads !== 0) {
    throw new CryptomlError(
      "USAGE",
      `attention.heads=${heads} must be an integer >= 1 that divides E=${embed}`,
    );
  }
  const expect = (t: Tensor | undefined, shape: number[], name: string) => {
    if (t !== undefined && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
      throw new CryptomlError(
        "INTERNAL",
        `attention: ${name} [${t.shape}] must be [${shape}] for E=${embed}`,
      );
    }
  };
  expect(p.inProjWeight, [3 * embed, embed], "inProjWeight");
  expect(p.inProjBias, [3 * embed], "inProjBias");
  expect(p.outProjWeight, [embed, embed], "outProjWeight");
  expect(p.outProjBias, [embed], "outProjBias");
  if (mask !== undefined && mask.length !== steps * steps) {
    throw new CryptomlError(
      "INTERNAL",
      `attention: mask has ${mask.length} values, not T·T = ${steps * steps}`,
    );
  }
  return { batch, steps, embed, heads, headDim: embed / heads };
}
