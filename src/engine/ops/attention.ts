import { CryptomlError } from "../../core/errors.js";
import { gemm } from "../kernels/gemm.js";
import type { WasmKernels } from "../kernels/wasm-kernels.js";
import { needsGrad, result, type Tensor } from "../tensor.js";
import { addInto } from "./recurrent/layout.js";
import { Arena, residentKernels } from "./recurrent/resident.js";
import { softmaxRowsBackward, softmaxRowsInPlace } from "./softmax.js";

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
interface Dims {
  batch: number;
  steps: number;
  embed: number;
  heads: number;
  headDim: number;
}

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
  const { batch, steps, embed } = dims;
  const rows = batch * steps;
  const { inProjWeight, inProjBias, outProjWeight, outProjBias } = params;

  const qkv = new Float32Array(rows * 3 * embed);
  if (inProjBias !== undefined) for (let r = 0; r < rows; r++) qkv.set(inProjBias.data, r * 3 * embed);
  gemm({
    transA: false,
    transB: true,
    m: rows,
    n: 3 * embed,
    k: embed,
    alpha: 1,
    a: x.data,
    b: inProjWeight.data,
    beta: 1,
    c: qkv,
  });
  const heads3 = splitHeads(qkv, dims);
  const { probs, context } = attend(heads3, dims, options.mask);

  const out = new Float32Array(rows * embed);
  if (outProjBias !== undefined) for (let r = 0; r < rows; r++) out.set(outProjBias.data, r * embed);
  gemm({
    transA: false,
    transB: true,
    m: rows,
    n: embed,
    k: embed,
    alpha: 1,
    a: context,
    b: outProjWeight.data,
    beta: 1,
    c: out,
  });

  const inputs = [x, inProjWeight, inProjBias, outProjWeight, outProjBias];
  return result(out, x.shape, inputs, (g) => {
    if (outProjWeight.requiresGrad) {
      gemm({
        transA: true,
        transB: false,
        m: embed,
        n: embed,
        k: rows,
        alpha: 1,
        a: g,
        b: context,
        beta: 1,
        c: outProjWeight.gradBuffer(),
      });
    }
    if (outProjBias?.requiresGrad) addColumnSums(g, rows, embed, outProjBias.gradBuffer());
    if (!x.requiresGrad && !inProjWeight.requiresGrad && !inProjBias?.requiresGrad) return;
    const dContext = new Float32Array(rows * embed);
    gemm({
      transA: false,
      transB: false,
      m: rows,
      n: embed,
      k: embed,
      alpha: 1,
      a: g,
      b: outProjWeight.data,
      beta: 0,
      c: dContext,
    });
    const dqkv = attendBackward(heads3, probs, dContext, dims);
    if (inProjWeight.requiresGrad) {
      gemm({
        transA: true,
        transB: false,
        m: 3 * embed,
        n: embed,
        k: rows,
        alpha: 1,
        a: dqkv,
        b: x.data,
        beta: 1,
        c: inProjWeight.gradBuffer(),
      });
    }
    if (inProjBias?.requiresGrad) addColumnSums(dqkv, rows, 3 * embed, inProjBias.gradBuffer());
    if (x.requiresGrad) {
      gemm({
        transA: false,
        transB: false,
        m: rows,
        n: embed,
        k: 3 * embed,
        alpha: 1,
        a: dqkv,
        b: inProjWeight.data,
        beta: 1,
        c: x.gradBuffer(),
      });
    }
  });
}

function checkDims(x: Tensor, p: AttentionParams, heads: number, mask: Float32Array | undefined): Dims {
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

/** q, k, v as [B, heads, T, dh] blocks; q already multiplied by 1/√dh. */
interface HeadBuffers {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

/** Row (b, t) of [B·T, 3E] → q, k, v blocks [b, h, t, :]. */
function splitHeads(qkv: Float32Array, d: Dims): HeadBuffers {
  const { batch, steps, embed, heads, headDim } = d;
  const scale = 1 / Math.sqrt(headDim);
  const size = batch * steps * embed;
  const q = new Float32Array(size);
  const k = new Float32Array(size);
  const v = new Float32Array(size);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const src = (b * steps + t) * 3 * embed;
      for (let h = 0; h < heads; h++) {
        const dst = ((b * heads + h) * steps + t) * headDim;
        const col = src + h * headDim;
        // Plain loops: heads are a few values wide, too short for subarray().set() to pay off.
        for (let j = 0; j < headDim; j++) {
          q[dst + j] = (qkv[col + j] as number) * scale;
          k[dst + j] = qkv[col + embed + j] as number;
          v[dst + j] = qkv[col + 2 * embed + j] as number;
        }
      }
    }
  }
  return { q, k, v };
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

/** [B, heads, T, dh] → [B·T, E] with head h in columns h·dh … (h+1)·dh − 1. */
function joinHeads(o: Float32Array, d: Dims): Float32Array {
  const { batch, steps, embed, heads, headDim } = d;
  const out = new Float32Array(batch * steps * embed);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < steps; t++) {
        const src = ((b * heads + h) * steps + t) * headDim;
        const dst = (b * steps + t) * embed + h * headDim;
        for (let j = 0; j < headDim; j++) out[dst + j] = o[src + j] as number;
      }
    }
  }
  return out;
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

/** [B·T, E] → [B, heads, T, dh] (the inverse of joinHeads). */
function splitContext(c: Float32Array, d: Dims): Float32Array {
  const { batch, steps, embed, heads, headDim } = d;
  const out = new Float32Array(batch * steps * embed);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < steps; t++) {
        const src = (b * steps + t) * embed + h * headDim;
        const dst = ((b * heads + h) * steps + t) * headDim;
        for (let j = 0; j < headDim; j++) out[dst + j] = c[src + j] as number;
      }
    }
  }
  return out;
}

/** dq, dk, dv blocks [B, heads, T, dh] → d(qkv) rows [B·T, 3E] (the inverse of splitHeads' layout). */
function mergeHeads(dq: Float32Array, dk: Float32Array, dv: Float32Array, d: Dims): Float32Array {
  const { batch, steps, embed, heads, headDim } = d;
  const out = new Float32Array(batch * steps * 3 * embed);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < steps; t++) {
        const src = ((b * heads + h) * steps + t) * headDim;
        const dst = (b * steps + t) * 3 * embed + h * headDim;
        for (let j = 0; j < headDim; j++) {
          out[dst + j] = dq[src + j] as number;
          out[dst + embed + j] = dk[src + j] as number;
          out[dst + 2 * embed + j] = dv[src + j] as number;
        }
      }
    }
  }
  return out;
}

function addColumnSums(g: Float32Array, rows: number, cols: number, into: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) into[c] = (into[c] as number) + (g[base + c] as number);
  }
}

type ForwardPart = "x" | "win" | "wout" | "qkv" | "probs" | "ctx" | "out";
type BackwardPart = "gy" | "dctx" | "dS" | "dqkv" | "dWout" | "dWin" | "dx";

/**
 * {@link multiHeadSelfAttention} on the WASM kernels, everything resident in one block of wasm memory.
 * No head is copied: the per-(batch, head) products read q, k, v in place from the [B·T, 3E] in-projection
 * with leading dimension 3E, and write each head's output straight into its columns of the [B·T, E]
 * context. Each of the 2 forward and 4 backward per-head products is ONE `gemmBatched` call over the
 * B × heads grid; softmax and its backward are one WASM call each over all B·heads·T rows. The scale
 * 1/√dh is applied as alpha. The block is kept for backward, which frees it (so backward runs once).
 */
function attentionResident(
  kernels: WasmKernels,
  x: Tensor,
  params: AttentionParams,
  d: Dims,
  mask: Float32Array | undefined,
): Tensor {
  const { batch: B, steps: T, embed: E, heads: NH, headDim: dh } = d;
  const rows = B * T;
  const square = T * T;
  const scale = 1 / Math.sqrt(dh);
  const { inProjWeight, inProjBias, outProjWeight, outProjBias } = params;
  const inputs = [x, inProjWeight, inProjBias, outProjWeight, outProjBias];
  const a = new Arena<ForwardPart>(kernels, {
    x: rows * E,
    win: 3 * E * E,
    wout: E * E,
    qkv: rows * 3 * E,
    probs: B * NH * square,
    ctx: rows * E,
    out: rows * E,
  });
  a.f32("x").set(x.data);
  a.f32("win").set(inProjWeight.data);
  a.f32("wout").set(outProjWeight.data);
  const qkv = a.f32("qkv");
  if (inProjBias !== undefined) for (let r = 0; r < rows; r++) qkv.set(inProjBias.data, r * 3 * E);
  const out = a.f32("out");
  if (outProjBias !== undefined) for (let r = 0; r < rows; r++) out.set(outProjBias.data, r * E);
  if (mask !== undefined) {
    const probs = a.f32("probs");
    for (let s = 0; s < B * NH; s++) probs.set(mask, s * square);
  }
  const F = 4; // bytes per float
  const pQkv = a.ptr("qkv");
  const pProbs = a.ptr("probs");
  const pCtx = a.ptr("ctx");
  // Strides of the (batch, head) grid, in bytes: in qkv / ctx a head is dh columns of T rows of batch b.
  const qkvGrid = { outer: T * 3 * E * F, inner: dh * F };
  const ctxGrid = { outer: T * E * F, inner: dh * F };
  const sqGrid = { outer: NH * square * F, inner: square * F };
  const grid = { outer: B, inner: NH };
  kernels.gemmAt({
    transA: false,
    transB: true,
    m: rows,
    n: 3 * E,
    k: E,
    alpha: 1,
    a: a.ptr("x"),
    b: a.ptr("win"),
    beta: inProjBias ? 1 : 0,
    c: pQkv,
  });
  // S = scale·q·kᵀ (+ mask), per (b, h).
  kernels.gemmBatched({
    ...grid,
    transA: false,
    transB: true,
    m: T,
    n: T,
    k: dh,
    alpha: scale,
    a: pQkv,
    lda: 3 * E,
    aOuter: qkvGrid.outer,
    aInner: qkvGrid.inner,
    b: pQkv + E * F,
    ldb: 3 * E,
    bOuter: qkvGrid.outer,
    bInner: qkvGrid.inner,
    beta: mask ? 1 : 0,
    c: pProbs,
    ldc: T,
    cOuter: sqGrid.outer,
    cInner: sqGrid.inner,
  });
  kernels.fused.softmaxRows(pProbs, B * NH * T, T);
  // o_h = P·v_h, written into its columns of the context.
  kernels.gemmBatched({
    ...grid,
    transA: false,
    transB: false,
    m: T,
    n: dh,
    k: T,
    alpha: 1,
    a: pProbs,
    lda: T,
    aOuter: sqGrid.outer,
    aInner: sqGrid.inner,
    b: pQkv + 2 * E * F,
    ldb: 3 * E,
    bOuter: qkvGrid.outer,
    bInner: qkvGrid.inner,
    beta: 0,
    c: pCtx,
    ldc: E,
    cOuter: ctxGrid.outer,
    cInner: ctxGrid.inner,
  });
  kernels.gemmAt({
    transA: false,
    transB: true,
    m: rows,
    n: E,
    k: E,
    alpha: 1,
    a: pCtx,
    b: a.ptr("wout"),
    beta: outProjBias ? 1 : 0,
    c: a.ptr("out"),
  });
  const y = a.f32("out").slice();
  if (!needsGrad(...inputs)) {
    a.free();
    return result(y, x.shape, inputs, () => {});
  }
  let done = false;
  return result(y, x.shape, inputs, (g) => {
    if (done) {
      throw new CryptomlError("INTERNAL", "attention: backward ran twice through the same forward pass", {
        hint: "its caches are consumed by the first backward; run the forward pass again",
      });
    }
    done = true;
    const needIn = x.requiresGrad || inProjWeight.requiresGrad || inProjBias?.requiresGrad === true;
    const m = new Arena<BackwardPart>(kernels, {
      gy: rows * E,
      dctx: needIn ? rows * E : 0,
      dS: needIn ? B * NH * square : 0,
      dqkv: needIn ? rows * 3 * E : 0,
      dWout: outProjWeight.requiresGrad ? E * E : 0,
      dWin: inProjWeight.requiresGrad ? 3 * E * E : 0,
      dx: x.requiresGrad ? rows * E : 0,
    });
    try {
      m.f32("gy").set(g);
      const pGy = m.ptr("gy");
      if (outProjWeight.requiresGrad) {
        kernels.gemmAt({
          transA: true,
          transB: false,
          m: E,
          n: E,
          k: rows,
          alpha: 1,
          a: pGy,
          b: a.ptr("ctx"),
          beta: 0,
          c: m.ptr("dWout"),
        });
        addInto(outProjWeight.gradBuffer(), m.f32("dWout"));
      }
      if (outProjBias?.requiresGrad) addColumnSums(g, rows, E, outProjBias.gradBuffer());
      if (!needIn) return;
      const pDctx = m.ptr("dctx");
      const pDs = m.ptr("dS");
      const pDqkv = m.ptr("dqkv");
      kernels.gemmAt({
        transA: false,
        transB: false,
        m: rows,
        n: E,
        k: E,
        alpha: 1,
        a: pGy,
        b: a.ptr("wout"),
        beta: 0,
        c: pDctx,
      });
      // dV_h = Pᵀ·dO_h, into the v columns of dqkv.
      kernels.gemmBatched({
        ...grid,
        transA: true,
        transB: false,
        m: T,
        n: dh,
        k: T,
        alpha: 1,
        a: pProbs,
        lda: T,
        aOuter: sqGrid.outer,
        aInner: sqGrid.inner,
        b: pDctx,
        ldb: E,
        bOuter: ctxGrid.outer,
        bInner: ctxGrid.inner,
        beta: 0,
        c: pDqkv + 2 * E * F,
        ldc: 3 * E,
        cOuter: qkvGrid.outer,
        cInner: qkvGrid.inner,
      });
      // dP = dO_h·v_hᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) in place.
      kernels.gemmBatched({
        ...grid,
        transA: false,
        transB: true,
        m: T,
        n: T,
        k: dh,
        alpha: 1,
        a: pDctx,
        lda: E,
        aOuter: ctxGrid.outer,
        aInner: ctxGrid.inner,
        b: pQkv + 2 * E * F,
        ldb: 3 * E,
        bOuter: qkvGrid.outer,
        bInner: qkvGrid.inner,
        beta: 0,
        c: pDs,
        ldc: T,
        cOuter: sqGrid.outer,
        cInner: sqGrid.inner,
      });
      kernels.fused.softmaxRowsBackward(pProbs, pDs, pDs, B * NH * T, T);
      // dq_h = scale·dS·k_h and dk_h = scale·dSᵀ·q_h.
      kernels.gemmBatched({
        ...grid,
        transA: false,
        transB: false,
        m: T,
        n: dh,
        k: T,
        alpha: scale,
        a: pDs,
        lda: T,
        aOuter: sqGrid.outer,
        aInner: sqGrid.inner,
        b: pQkv + E * F,
        ldb: 3 * E,
        bOuter: qkvGrid.outer,
        bInner: qkvGrid.inner,
        beta: 0,
        c: pDqkv,
        ldc: 3 * E,
        cOuter: qkvGrid.outer,
        cInner: qkvGrid.inner,
      });
      kernels.gemmBatched({
        ...grid,
        transA: true,
        transB: false,
        m: T,
        n: dh,
        k: T,
        alpha: scale,
        a: pDs,
        lda: T,
        aOuter: sqGrid.outer,
        aInner: sqGrid.inner,
        b: pQkv,
        ldb: 3 * E,
        bOuter: qkvGrid.outer,
        bInner: qkvGrid.inner,
        beta: 0,
        c: pDqkv + E * F,
        ldc: 3 * E,
        cOuter: qkvGrid.outer,
        cInner: qkvGrid.inner,
      });
      if (inProjWeight.requiresGrad) {
        kernels.gemmAt({
          transA: true,
          transB: false,
          m: 3 * E,
          n: E,
          k: rows,
          alpha: 1,
          a: pDqkv,
          b: a.ptr("x"),
          beta: 0,
          c: m.ptr("dWin"),
        });
        addInto(inProjWeight.gradBuffer(), m.f32("dWin"));
      }
      if (inProjBias?.requiresGrad) addColumnSums(m.f32("dqkv"), rows, 3 * E, inProjBias.gradBuffer());
      if (x.requiresGrad) {
        kernels.gemmAt({
          transA: false,
          transB: false,
          m: rows,
          n: E,
          k: 3 * E,
          alpha: 1,
          a: pDqkv,
          b: a.ptr("win"),
          beta: 0,
          c: m.ptr("dx"),
        });
        addInto(x.gradBuffer(), m.f32("dx"));
      }
    } finally {
      m.free();
      a.free();
    }
  });
}
