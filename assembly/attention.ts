// Batched GEMM and row softmax for fused multi-head attention (docs/engine-ops.md).
import { expv } from "./activations";
import { sgemm } from "./gemm";

/**
 * `sgemm` over an outer × inner grid of blocks (batch × head): block (o, i) uses a + o·aOuter + i·aInner
 * and likewise for b and c (strides in bytes), with the same shape and leading dimensions. One call
 * replaces outer·inner host calls.
 */
export function sgemmBatched(
  outer: i32,
  inner: i32,
  transA: bool,
  transB: bool,
  m: i32,
  n: i32,
  k: i32,
  alpha: f32,
  a: usize,
  lda: i32,
  aOuter: usize,
  aInner: usize,
  b: usize,
  ldb: i32,
  bOuter: usize,
  bInner: usize,
  beta: f32,
  c: usize,
  ldc: i32,
  cOuter: usize,
  cInner: usize,
  scratch: usize,
): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const ao = a + <usize>o * aOuter + <usize>i * aInner;
      const bo = b + <usize>o * bOuter + <usize>i * bInner;
      const co = c + <usize>o * cOuter + <usize>i * cInner;
      sgemm(transA, transB, m, n, k, alpha, ao, lda, bo, ldb, beta, co, ldc, scratch);
    }
  }
}

const EXP_FLOOR: f32 = -87.0;

/**
 * Softmax in place over `rows` contiguous rows of `cols` floats: the row maximum is subtracted, so
 * nothing overflows; a −∞ logit (a masked pair) gets exactly 0; a row of −∞ becomes NaN, as in PyTorch.
 */
export function softmaxRows(p: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  const floor = f32x4.splat(EXP_FLOOR);
  for (let r = 0; r < rows; r++) {
    const row = p + ((<usize>r * cols) << 2);
    let mv = f32x4.splat(-Infinity);
    let j = 0;
    for (; j < c4; j += 4) mv = f32x4.max(mv, v128.load(row + ((<usize>j) << 2)));
    let m = max(
      max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
      max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)),
    );
    for (; j < cols; j++) m = max(m, load<f32>(row + ((<usize>j) << 2)));
    const ms = f32x4.splat(m);
    let sv = f32x4.splat(0);
    j = 0;
    for (; j < c4; j += 4) {
      const at = row + ((<usize>j) << 2);
      const d = f32x4.sub(v128.load(at), ms);
      // Below e^−87 the exponential would clamp; such a term is 0 to float32 next to the maximum's 1.
      const e = v128.andnot(expv(d), f32x4.lt(d, floor));
      v128.store(at, e);
      sv = f32x4.add(sv, e);
    }
    let s =
      f32x4.extract_lane(sv, 0) +
      f32x4.extract_lane(sv, 1) +
      (f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3));
    for (; j < cols; j++) {
      const at = row + ((<usize>j) << 2);
      const d = f32x4.splat(load<f32>(at) - m);
      const e = f32x4.extract_lane(v128.andnot(expv(d), f32x4.lt(d, floor)), 0);
      store<f32>(at, e);
      s += e;
    }
    const inv = f32x4.splat(1 / s);
    j = 0;
    for (; j < c4; j += 4) {
      const at = row + ((<usize>j) << 2);
      v128.store(at, f32x4.mul(v128.load(at), inv));
    }
    for (; j < cols; j++) {
      const at = row + ((<usize>j) << 2);
      store<f32>(at, load<f32>(at) * f32x4.extract_lane(inv, 0));
    }
  }
}

/** Softmax backward over contiguous rows: out = y ⊙ (g − Σⱼ gⱼyⱼ); out may be g. */
export function softmaxRowsBackward(y: usize, g: usize, out: usize, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const off = (<usize>r * cols) << 2;
    let dv = f32x4.splat(0);
    let j = 0;
    for (; j < c4; j += 4) {
      const jb = off + ((<usize>j) << 2);
      dv = f32x4.add(dv, f32x4.mul(v128.load(g + jb), v128.load(y + jb)));
    }
    let dot =
      f32x4.extract_lane(dv, 0) +
      f32x4.extract_lane(dv, 1) +
      (f32x4.extract_lane(dv, 2) + f32x4.extract_lane(dv, 3));
    for (; j < cols; j++) {
      const jb = off + ((<usize>j) << 2);
      dot += load<f32>(g + jb) * load<f32>(y + jb);
    }
    const ds = f32x4.splat(dot);
    j = 0;
    for (; j < c4; j += 4) {
      const jb = off + ((<usize>j) << 2);
      v128.store(out + jb, f32x4.mul(v128.load(y + jb), f32x4.sub(v128.load(g + jb), ds)));
    }
    for (; j < cols; j++) {
      const jb = off + ((<usize>j) << 2);
      store<f32>(out + jb, load<f32>(y + jb) * (load<f32>(g + jb) - dot));
    }
  }
}
