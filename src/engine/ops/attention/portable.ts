import { gemm } from "../../kernels/gemm.js";
import { result, type Tensor } from "../../tensor.js";
import { fillRows, projectForward, projectInputGrad, projectWeightGrad } from "../projection.js";
import { softmaxRowsBackward, softmaxRowsInPlace } from "../softmax.js";
import { addColumnSums, type HeadBuffers, joinHeads, mergeHeads, splitContext, splitHeads } from "./heads.js";
import type { AttentionParams, Dims } from "./shapes.js";

/**
 * {@link multiHeadSelfAttention} in portable TypeScript: the projections are one GEMM each over all
 * B·T rows; q, k, v are laid out as contiguous [B, heads, T, dh] blocks (q pre-scaled by 1/√dh) so that
 * the scores, the softmax and the weighted sum are two GEMMs per (batch, head) on contiguous memory.
 */
export function attentionPortable(
  x: Tensor,
  params: AttentionParams,
  dims: Dims,
  mask: Float32Array | undefined,
): Tensor {
  const { batch, steps, embed } = dims;
  const rows = batch * steps;
  const { inProjWeight, inProjBias, outProjWeight, outProjBias } = params;
  const inProj = { rows, inputs: embed, outputs: 3 * embed };
  const outProj = { rows, inputs: embed, outputs: embed };

  const qkv = new Float32Array(rows * 3 * embed);
  if (inProjBias !== undefined) fillRows(qkv, inProjBias.data, rows);
  gemm(projectForward(inProj, x.data, inProjWeight.data, 1, qkv));
  const heads3 = splitHeads(qkv, dims);
  const { probs, context } = attend(heads3, dims, mask);

  const out = new Float32Array(rows * embed);
  if (outProjBias !== undefined) fillRows(out, outProjBias.data, rows);
  gemm(projectForward(outProj, context, outProjWeight.data, 1, out));

  const inputs = [x, inProjWeight, inProjBias, outProjWeight, outProjBias];
  return result(out, x.shape, inputs, (g) => {
    if (outProjWeight.requiresGrad) {
      gemm(projectWeightGrad(outProj, g, context, 1, outProjWeight.gradBuffer()));
    }
    if (outProjBias?.requiresGrad) addColumnSums(g, rows, embed, outProjBias.gradBuffer());
    if (!x.requiresGrad && !inProjWeight.requiresGrad && !inProjBias?.requiresGrad) return;
    const dContext = new Float32Array(rows * embed);
    gemm(projectInputGrad(outProj, g, outProjWeight.data, 0, dContext));
    const dqkv = attendBackward(heads3, probs, dContext, dims);
    if (inProjWeight.requiresGrad)
      gemm(projectWeightGrad(inProj, dqkv, x.data, 1, inProjWeight.gradBuffer()));
    if (inProjBias?.requiresGrad) addColumnSums(dqkv, rows, 3 * embed, inProjBias.gradBuffer());
    if (x.requiresGrad) gemm(projectInputGrad(inProj, dqkv, inProjWeight.data, 1, x.gradBuffer()));
  });
}

/** Scores, softmax and weighted sum for every (batch, head); returns P and the heads joined [B·T, E]. */
function attend(hb: HeadBuffers, d: Dims, mask: Float32Array | undefined) {
  const { batch, steps, embed, heads, headDim } = d;
  const square = steps * steps;
  const probs = new Float32Array(batch * heads * square);
  const o = new Float32Array(batch * steps * embed);
  for (let s = 0; s < batch * heads; s++) {
    const pOff = s * square;
    const hOff = s * steps * headDim;
    if (mask !== undefined) probs.set(mask, pOff);
    gemm({
      transA: false,
      transB: true,
      m: steps,
      n: steps,
      k: headDim,
      alpha: 1,
      a: hb.q,
      aOffset: hOff,
      b: hb.k,
      bOffset: hOff,
      beta: 1,
      c: probs,
      cOffset: pOff,
    });
    softmaxRowsInPlace(probs, pOff, steps, steps);
    gemm({
      transA: false,
      transB: false,
      m: steps,
      n: headDim,
      k: steps,
      alpha: 1,
      a: probs,
      aOffset: pOff,
      b: hb.v,
      bOffset: hOff,
      beta: 0,
      c: o,
      cOffset: hOff,
    });
  }
  return { probs, context: joinHeads(o, d) };
}

/** Gradients of the attention core: from d(context) [B·T, E] to d(qkv) [B·T, 3E]. */
function attendBackward(hb: HeadBuffers, probs: Float32Array, dContext: Float32Array, d: Dims): Float32Array {
  const { batch, steps, embed, heads, headDim } = d;
  const square = steps * steps;
  const size = batch * steps * embed;
  const dO = splitContext(dContext, d);
  const dq = new Float32Array(size);
  const dk = new Float32Array(size);
  const dv = new Float32Array(size);
  const dP = new Float32Array(square);
  const scale = 1 / Math.sqrt(headDim);
  for (let s = 0; s < batch * heads; s++) {
    const pOff = s * square;
    const hOff = s * steps * headDim;
    gemm({
      transA: true,
      transB: false,
      m: steps,
      n: headDim,
      k: steps,
      alpha: 1,
      a: probs,
      aOffset: pOff,
      b: dO,
      bOffset: hOff,
      beta: 0,
      c: dv,
      cOffset: hOff,
    });
    gemm({
      transA: false,
      transB: true,
      m: steps,
      n: steps,
      k: headDim,
      alpha: 1,
      a: dO,
      aOffset: hOff,
      b: hb.v,
      bOffset: hOff,
      beta: 0,
      c: dP,
    });
    // dS overwrites dP: the softmax backward per query row.
    softmaxRowsBackward(probs.subarray(pOff, pOff + square), dP, dP, 0, steps, steps, false);
    gemm({
      transA: false,
      transB: false,
      m: steps,
      n: headDim,
      k: steps,
      alpha: scale,
      a: dP,
      b: hb.k,
      bOffset: hOff,
      beta: 0,
      c: dq,
      cOffset: hOff,
    });
    gemm({
      transA: true,
      transB: false,
      m: steps,
      n: headDim,
      k: steps,
      alpha: 1,
      a: dP,
      b: hb.q,
      bOffset: hOff,
      beta: 0,
      c: dk,
      cOffset: hOff,
    });
  }
  return mergeHeads(dq, dk, dv, d);
}
