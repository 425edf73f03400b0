import { MR, NR } from "./layout";

// How the micro-kernel writes its tile: C = acc, C += acc, or C = beta·C + acc. Only the first
// K-block applies beta; later K-blocks accumulate.
export const STORE_SET: i32 = 0;
export const STORE_ADD: i32 = 1;
export const STORE_BETA: i32 = 2;

function put(c: usize, acc: v128, mode: i32, bv: v128): void {
  if (mode === STORE_SET) v128.store(c, acc);
  else if (mode === STORE_ADD) v128.store(c, f32x4.add(v128.load(c), acc));
  else v128.store(c, f32x4.add(f32x4.mul(v128.load(c), bv), acc));
}

/**
 * The 4×8 register tile: `C[4×8] (mode) Σ_p pa[p][0..4] ⊗ pb[p][0..8]` over kc steps, where pa and pb are
 * packed slivers (see pack.ts) and C rows are `ldcB` bytes apart. Every step is 2 loads of B, 4 broadcast
 * loads of A, 8 multiplies and 8 adds (no FMA: relaxed SIMD needs a flag in Node 20).
 */
export function micro4x8(kc: i32, pa: usize, pb: usize, c: usize, ldcB: usize, mode: i32, beta: f32): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = f32x4.add(c00, f32x4.mul(a, b0));
    c01 = f32x4.add(c01, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 4);
    c10 = f32x4.add(c10, f32x4.mul(a, b0));
    c11 = f32x4.add(c11, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 8);
    c20 = f32x4.add(c20, f32x4.mul(a, b0));
    c21 = f32x4.add(c21, f32x4.mul(a, b1));
    a = v128.load32_splat(pa, 12);
    c30 = f32x4.add(c30, f32x4.mul(a, b0));
    c31 = f32x4.add(c31, f32x4.mul(a, b1));
    pa += MR << 2;
    pb += NR << 2;
  }
  const bv = f32x4.splat(beta);
  put(c, c00, mode, bv);
  put(c + 16, c01, mode, bv);
  c += ldcB;
  put(c, c10, mode, bv);
  put(c + 16, c11, mode, bv);
  c += ldcB;
  put(c, c20, mode, bv);
  put(c + 16, c21, mode, bv);
  c += ldcB;
  put(c, c30, mode, bv);
  put(c + 16, c31, mode, bv);
}
