import type { Tensor } from "../../tensor.js";
import { residentKernels } from "../recurrent/resident.js";
import { attentionPortable } from "./portable.js";
import { attentionResident } from "./resident.js";
import { type AttentionOptions, type AttentionParams, checkDims } from "./shapes.js";

export { type AttentionOptions, type AttentionParams, causalMask } from "./shapes.js";

/**
 * Multi-head self-attention as one fused autograd node: exactly
 * `nn.MultiheadAttention(E, heads, batch_first=True, dropout=0)(x, x, x, need_weights=False,
 * attn_mask=mask)[0]` for x [B, T, E]:
 *
 *   [q k v] = x·W_inᵀ + b_in;  per head h (dh = E/heads columns each):
 *   Pₕ = softmax(qₕ·kₕᵀ / √dh + mask);  oₕ = Pₕ·vₕ;  y = [o₀ … o_{heads−1}]·W_outᵀ + b_out.
 *
 * The projections are one GEMM each over all B·T rows; q, k, v are then laid out as contiguous
 * [B, heads, T, dh] blocks (q pre-scaled by 1/√dh) so that the scores, the softmax and the weighted
 * sum are two GEMMs per (batch, head) on contiguous memory. The forward saves q, k, v, the attention
 * probabilities P and the concatenated heads; backward (also one call) is, per (batch, head),
 * `dV = Pᵀ·dO`, `dP = dO·Vᵀ`, `dS = P ⊙ (dP − Σ dP⊙P)`, `dq = dS·K/√dh`, `dK = dSᵀ·q_scaled`,
 * followed by the two projections' GEMMs.
 */
export function multiHeadSelfAttention(
  x: Tensor,
  params: AttentionParams,
  heads: number,
  options: AttentionOptions = {},
): Tensor {
  const dims = checkDims(x, params, heads, options.mask);
  const kernels = residentKernels();
  if (kernels !== undefined) return attentionResident(kernels, x, params, dims, options.mask);
  return attentionPortable(x, params, dims, options.mask);
}
