import { CryptomlError } from "../../../core/errors.js";
import type { WasmKernels } from "../../kernels/wasm-kernels.js";
import { needsGrad, result, type Tensor } from "../../tensor.js";
import { fillRows, projectForward, projectInputGrad, projectWeightGrad } from "../projection.js";
import { addInto } from "../recurrent/layout.js";
import { Arena } from "../recurrent/resident.js";
import { addColumnSums } from "./heads.js";
import type { AttentionParams, Dims } from "./shapes.js";

type ForwardPart = "x" | "win" | "wout" | "qkv" | "probs" | "ctx" | "out";
type BackwardPart = "gy" | "dctx" | "dS" | "dqkv" | "dWout" | "dWin" | "dx";

const F = 4; // bytes per float

/** One operand of a per-(batch, head) product: its address, leading dimension and grid strides (bytes). */
interface HeadOperand {
  ptr: number;
  ld: number;
  outer: number;
  inner: number;
}

/** The operands' layouts in the resident block: the qkv, context and T×T parts, per (batch, head). */
class HeadGrid {
  constructor(
    private readonly kernels: WasmKernels,
    private readonly d: Dims,
  ) {}

  /** Column block `which` (0 q, 1 k, 2 v) of a [B·T, 3E] part at `ptr`: head h is dh columns of it. */
  qkv(ptr: number, which: number): HeadOperand {
    const { steps: T, embed: E, headDim: dh } = this.d;
    return { ptr: ptr + which * E * F, ld: 3 * E, outer: T * 3 * E * F, inner: dh * F };
  }

  /** A [B·T, E] part at `ptr`: head h is its columns h·dh … (h+1)·dh − 1. */
  ctx(ptr: number): HeadOperand {
    const { steps: T, embed: E, headDim: dh } = this.d;
    return { ptr, ld: E, outer: T * E * F, inner: dh * F };
  }

  /** A [B, heads, T, T] part at `ptr`: one T×T matrix per (batch, head). */
  square(ptr: number): HeadOperand {
    const { steps: T, heads: NH } = this.d;
    return { ptr, ld: T, outer: NH * T * T * F, inner: T * T * F };
  }

  /** `c = alpha·op(a)·op(b) + beta·c` for every (batch, head), as ONE `gemmBatched` call. */
  gemm(
    transA: boolean,
    transB: boolean,
    [m, n, k]: readonly [number, number, number],
    alpha: number,
    a: HeadOperand,
    b: HeadOperand,
    beta: number,
    c: HeadOperand,
  ): void {
    this.kernels.gemmBatched({
      outer: this.d.batch,
      inner: this.d.heads,
      transA,
      transB,
      m,
      n,
      k,
      alpha,
      a: a.ptr,
      lda: a.ld,
      aOuter: a.outer,
      aInner: a.inner,
      b: b.ptr,
      ldb: b.ld,
      bOuter: b.outer,
      bInner: b.inner,
      beta,
      c: c.ptr,
      ldc: c.ld,
      cOuter: c.outer,
      cInner: c.inner,
    });
  }
}

/**
 * {@link multiHeadSelfAttention} on the WASM kernels, everything resident in one block of wasm memory.
 * No head is copied: the per-(batch, head) products read q, k, v in place from the [B·T, 3E] in-projection
 * with leading dimension 3E, and write each head's output straight into its columns of the [B·T, E]
 * context. Each of the 2 forward and 4 backward per-head products is ONE `gemmBatched` call over the
 * B × heads grid; softmax and its backward are one WASM call each over all B·heads·T rows. The scale
 * 1/√dh is applied as alpha. The block is kept for backward, which frees it (so backward runs once).
 */
export function attentionResident(
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
  const inProj = { rows, inputs: E, outputs: 3 * E };
  const outProj = { rows, inputs: E, outputs: E };
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
  if (inProjBias !== undefined) fillRows(a.f32("qkv"), inProjBias.data, rows);
  if (outProjBias !== undefined) fillRows(a.f32("out"), outProjBias.data, rows);
  if (mask !== undefined) fillRows(a.f32("probs"), mask, B * NH);
  const grid = new HeadGrid(kernels, d);
  const pQkv = a.ptr("qkv");
  const pProbs = a.ptr("probs");
  const [q, k, v] = [grid.qkv(pQkv, 0), grid.qkv(pQkv, 1), grid.qkv(pQkv, 2)];
  const probs = grid.square(pProbs);
  const ctx = grid.ctx(a.ptr("ctx"));
  kernels.gemmAt(projectForward(inProj, a.ptr("x"), a.ptr("win"), inProjBias ? 1 : 0, pQkv));
  // S = scale·q·kᵀ (+ mask), per (b, h).
  grid.gemm(false, true, [T, T, dh], scale, q, k, mask ? 1 : 0, probs);
  kernels.fused.softmaxRows(pProbs, B * NH * T, T);
  // o_h = P·v_h, written into its columns of the context.
  grid.gemm(false, false, [T, dh, T], 1, probs, v, 0, ctx);
  kernels.gemmAt(projectForward(outProj, ctx.ptr, a.ptr("wout"), outProjBias ? 1 : 0, a.ptr("out")));
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
        kernels.gemmAt(projectWeightGrad(outProj, pGy, ctx.ptr, 0, m.ptr("dWout")));
        addInto(outProjWeight.gradBuffer(), m.f32("dWout"));
      }
      if (outProjBias?.requiresGrad) addColumnSums(g, rows, E, outProjBias.gradBuffer());
      if (!needIn) return;
      const pDqkv = m.ptr("dqkv");
      const dO = grid.ctx(m.ptr("dctx"));
      const dS = grid.square(m.ptr("dS"));
      const [dq, dk, dv] = [grid.qkv(pDqkv, 0), grid.qkv(pDqkv, 1), grid.qkv(pDqkv, 2)];
      kernels.gemmAt(projectInputGrad(outProj, pGy, a.ptr("wout"), 0, dO.ptr));
      // dV_h = Pᵀ·dO_h, into the v columns of dqkv.
      grid.gemm(true, false, [T, dh, T], 1, probs, dO, 0, dv);
      // dP = dO_h·v_hᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) in place.
      grid.gemm(false, true, [T, T, dh], 1, dO, v, 0, dS);
      kernels.fused.softmaxRowsBackward(pProbs, dS.ptr, dS.ptr, B * NH * T, T);
      // dq_h = scale·dS·k_h and dk_h = scale·dSᵀ·q_h.
      grid.gemm(false, false, [T, dh, T], scale, dS, k, 0, dq);
      grid.gemm(true, false, [T, dh, T], scale, dS, q, 0, dk);
      if (inProjWeight.requiresGrad) {
        kernels.gemmAt(projectWeightGrad(inProj, pDqkv, a.ptr("x"), 0, m.ptr("dWin")));
        addInto(inProjWeight.gradBuffer(), m.f32("dWin"));
      }
      if (inProjBias?.requiresGrad) addColumnSums(m.f32("dqkv"), rows, 3 * E, inProjBias.gradBuffer());
      if (x.requiresGrad) {
        kernels.gemmAt(projectInputGrad(inProj, pDqkv, a.ptr("win"), 0, m.ptr("dx")));
        addInto(x.gradBuffer(), m.f32("dx"));
      }
    } finally {
      m.free();
      a.free();
    }
  });
}
