import { KC, MC, MR, NC, NR } from "./layout";
import { micro4x8, STORE_ADD, STORE_BETA, STORE_SET } from "./micro";
import { packA, packB } from "./pack";

/** C = beta·C on an m×n region with row stride ldc; beta = 0 writes zeros (NaN in C does not survive). */
function scaleC(m: i32, n: i32, beta: f32, c: usize, ldc: i32): void {
  if (beta === 1) return;
  for (let i = 0; i < m; i++) {
    const row = c + ((<usize>i * ldc) << 2);
    if (beta === 0) memory.fill(row, 0, (<usize>n) << 2);
    else
      for (let j = 0; j < n; j++)
        store<f32>(row + ((<usize>j) << 2), beta * load<f32>(row + ((<usize>j) << 2)));
  }
}

/** Writes the valid mr×nr corner of an MR×NR tile computed with STORE_SET into C. */
function mergeTile(mr: i32, nr: i32, tile: usize, c: usize, ldc: i32, mode: i32, beta: f32): void {
  for (let i = 0; i < mr; i++) {
    const t = tile + ((<usize>(i * NR)) << 2);
    const row = c + ((<usize>i * ldc) << 2);
    for (let j = 0; j < nr; j++) {
      const at = row + ((<usize>j) << 2);
      const v = load<f32>(t + ((<usize>j) << 2));
      if (mode === STORE_SET) store<f32>(at, v);
      else if (mode === STORE_ADD) store<f32>(at, load<f32>(at) + v);
      else store<f32>(at, beta * load<f32>(at) + v);
    }
  }
}

/** Runs the micro-kernel over one packed MC×KC block of A against one packed KC×NC panel of B. */
function macro(
  mc: i32,
  nc: i32,
  kc: i32,
  pa: usize,
  pb: usize,
  c: usize,
  ldc: i32,
  mode: i32,
  beta: f32,
  tile: usize,
): void {
  const ldcB = (<usize>ldc) << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const b = pb + ((<usize>(jr * kc)) << 2);
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = min(MR, mc - ir);
      const a = pa + ((<usize>(ir * kc)) << 2);
      const cp = c + ((<usize>ir * ldc + jr) << 2);
      if (mr === MR && nr === NR) {
        micro4x8(kc, a, b, cp, ldcB, mode, beta);
      } else {
        micro4x8(kc, a, b, tile, NR << 2, STORE_SET, 0);
        mergeTile(mr, nr, tile, cp, ldc, mode, beta);
      }
    }
  }
}

/**
 * Single-precision GEMM on row-major matrices in linear memory (byte addresses, element strides):
 * C[m×n] = alpha·op(A)·op(B) + beta·C. op(A) is A[m×k] (lda ≥ k) or, with transA, A stored [k×m]
 * (lda ≥ m); likewise op(B). `scratch` must hold SCRATCH_BYTES (see `sgemmScratchBytes`). C must not
 * overlap A, B or scratch. Never grows memory.
 */
export function sgemm(
  transA: bool,
  transB: bool,
  m: i32,
  n: i32,
  k: i32,
  alpha: f32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  beta: f32,
  c: usize,
  ldc: i32,
  scratch: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha === 0) {
    scaleC(m, n, beta, c, ldc);
    return;
  }
  const pa = scratch;
  const pb = pa + ((<usize>(MC * KC)) << 2);
  const tile = pb + ((<usize>(KC * NC)) << 2);
  // Even K-blocks (rounded up to 4 for the packing transposes) avoid a thin last block.
  const kBlocks = (k + KC - 1) / KC;
  const kcEven = min(KC, (((k + kBlocks - 1) / kBlocks + 3) >> 2) << 2);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += kcEven) {
      const kc = min(kcEven, k - pc);
      const mode = pc > 0 || beta === 1 ? STORE_ADD : beta === 0 ? STORE_SET : STORE_BETA;
      packB(transB, b, ldb, pc, jc, kc, nc, pb);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packA(transA, a, lda, ic, pc, mc, kc, alpha, pa);
        macro(mc, nc, kc, pa, pb, c + ((<usize>ic * ldc + jc) << 2), ldc, mode, beta, tile);
      }
    }
  }
}
