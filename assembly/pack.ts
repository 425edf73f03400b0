import { MR, NR } from "./layout";

// 4×4 transpose of rows r0..r3 held in registers; lane i of output q is element q of row i.
// Binaryen -O3 inlines these (no @inline: Biome cannot parse decorators on functions).
function tr0(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return f32x4.shuffle(f32x4.shuffle(r0, r1, 0, 4, 1, 5), f32x4.shuffle(r2, r3, 0, 4, 1, 5), 0, 1, 4, 5);
}
function tr1(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return f32x4.shuffle(f32x4.shuffle(r0, r1, 0, 4, 1, 5), f32x4.shuffle(r2, r3, 0, 4, 1, 5), 2, 3, 6, 7);
}
function tr2(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return f32x4.shuffle(f32x4.shuffle(r0, r1, 2, 6, 3, 7), f32x4.shuffle(r2, r3, 2, 6, 3, 7), 0, 1, 4, 5);
}
function tr3(r0: v128, r1: v128, r2: v128, r3: v128): v128 {
  return f32x4.shuffle(f32x4.shuffle(r0, r1, 2, 6, 3, 7), f32x4.shuffle(r2, r3, 2, 6, 3, 7), 2, 3, 6, 7);
}

/**
 * Packs op(A)[ic..ic+mc, pc..pc+kc] into MR-row slivers, each stored p-major (`dst[s][p][i]`) and
 * scaled by alpha, zero-padded to a multiple of MR rows so the micro-kernel never branches.
 * op(A)(i, p) is A[i·lda + p], or A[p·lda + i] when transposed.
 */
export function packA(
  trans: bool,
  a: usize,
  lda: i32,
  ic: i32,
  pc: i32,
  mc: i32,
  kc: i32,
  alpha: f32,
  dst: usize,
): void {
  const av = f32x4.splat(alpha);
  const ldaB = (<usize>lda) << 2;
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    let d = dst + ((<usize>(ir * kc)) << 2);
    if (mr === MR && trans) {
      let s = a + ((<usize>pc * lda + ic + ir) << 2);
      for (let p = 0; p < kc; p++) {
        v128.store(d, f32x4.mul(v128.load(s), av));
        s += ldaB;
        d += 16;
      }
    } else if (mr === MR) {
      let s = a + ((<usize>(ic + ir) * lda + pc) << 2);
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const r0 = v128.load(s);
        const r1 = v128.load(s + ldaB);
        const r2 = v128.load(s + 2 * ldaB);
        const r3 = v128.load(s + 3 * ldaB);
        v128.store(d, f32x4.mul(tr0(r0, r1, r2, r3), av));
        v128.store(d, f32x4.mul(tr1(r0, r1, r2, r3), av), 16);
        v128.store(d, f32x4.mul(tr2(r0, r1, r2, r3), av), 32);
        v128.store(d, f32x4.mul(tr3(r0, r1, r2, r3), av), 48);
        s += 16;
        d += 64;
      }
      for (; p < kc; p++) {
        for (let i = 0; i < MR; i++)
          store<f32>(d + ((<usize>i) << 2), alpha * load<f32>(s + <usize>i * ldaB));
        s += 4;
        d += 16;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let i = 0; i < MR; i++) {
          let v: f32 = 0;
          if (i < mr) {
            const row = <usize>(ic + ir + i);
            const col = <usize>(pc + p);
            v = alpha * load<f32>(a + ((trans ? col * lda + row : row * lda + col) << 2));
          }
          store<f32>(d + ((<usize>i) << 2), v);
        }
        d += 16;
      }
    }
  }
}

/**
 * Packs op(B)[pc..pc+kc, jc..jc+nc] into NR-column slivers stored p-major (`dst[s][p][j]`),
 * zero-padded to a multiple of NR columns. op(B)(p, j) is B[p·ldb + j], or B[j·ldb + p] when transposed.
 */
export function packB(trans: bool, b: usize, ldb: i32, pc: i32, jc: i32, kc: i32, nc: i32, dst: usize): void {
  const ldbB = (<usize>ldb) << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    let d = dst + ((<usize>(jr * kc)) << 2);
    if (nr === NR && !trans) {
      let s = b + ((<usize>pc * ldb + jc + jr) << 2);
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
        s += ldbB;
        d += 32;
      }
    } else if (nr === NR) {
      let s = b + ((<usize>(jc + jr) * ldb + pc) << 2);
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const r0 = v128.load(s);
        const r1 = v128.load(s + ldbB);
        const r2 = v128.load(s + 2 * ldbB);
        const r3 = v128.load(s + 3 * ldbB);
        const r4 = v128.load(s + 4 * ldbB);
        const r5 = v128.load(s + 5 * ldbB);
        const r6 = v128.load(s + 6 * ldbB);
        const r7 = v128.load(s + 7 * ldbB);
        v128.store(d, tr0(r0, r1, r2, r3));
        v128.store(d, tr0(r4, r5, r6, r7), 16);
        v128.store(d, tr1(r0, r1, r2, r3), 32);
        v128.store(d, tr1(r4, r5, r6, r7), 48);
        v128.store(d, tr2(r0, r1, r2, r3), 64);
        v128.store(d, tr2(r4, r5, r6, r7), 80);
        v128.store(d, tr3(r0, r1, r2, r3), 96);
        v128.store(d, tr3(r4, r5, r6, r7), 112);
        s += 16;
        d += 128;
      }
      for (; p < kc; p++) {
        for (let j = 0; j < NR; j++) store<f32>(d + ((<usize>j) << 2), load<f32>(s + <usize>j * ldbB));
        s += 4;
        d += 32;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let j = 0; j < NR; j++) {
          let v: f32 = 0;
          if (j < nr) {
            const row = <usize>(pc + p);
            const col = <usize>(jc + jr + j);
            v = load<f32>(b + ((trans ? col * ldb + row : row * ldb + col) << 2));
          }
          store<f32>(d + ((<usize>j) << 2), v);
        }
        d += 32;
      }
    }
  }
}
