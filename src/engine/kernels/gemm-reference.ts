import type { GemmArgs } from "./gemm-args.js";

/**
 * Test support: the naive triple loop of the GEMM contract in float64, and for each element of C the
 * magnitude `|alpha|·Σ|a·b| + |beta·c|` that bounds float32 rounding error. Does not modify `args.c`.
 */
export function gemmReference(args: GemmArgs): { value: Float64Array; magnitude: Float64Array } {
  const { m, n, k, alpha, beta, a, b, c } = args;
  const ao = args.aOffset ?? 0;
  const bo = args.bOffset ?? 0;
  const co = args.cOffset ?? 0;
  const value = new Float64Array(m * n);
  const magnitude = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let abs = 0;
      for (let p = 0; p < k; p++) {
        const av = a[ao + (args.transA ? p * m + i : i * k + p)] as number;
        const bv = b[bo + (args.transB ? j * k + p : p * n + j)] as number;
        sum += av * bv;
        abs += Math.abs(av * bv);
      }
      const cv = beta === 0 ? 0 : beta * (c[co + i * n + j] as number);
      value[i * n + j] = alpha * sum + cv;
      magnitude[i * n + j] = Math.abs(alpha) * abs + Math.abs(cv);
    }
  }
  return { value, magnitude };
}

/**
 * The worst ratio of |actual − reference| to the float32 error bound `(k + 2)·2⁻²³·magnitude + 1e-30`
 * over C[co .. co + m·n]; ≤ 1 means within bound.
 */
export function gemmErrorRatio(actual: Float32Array, args: GemmArgs, ref = gemmReference(args)): number {
  const co = args.cOffset ?? 0;
  const unit = (args.k + 2) * 2 ** -23;
  let worst = 0;
  for (let i = 0; i < args.m * args.n; i++) {
    const diff = Math.abs((actual[co + i] as number) - (ref.value[i] as number));
    const bound = unit * (ref.magnitude[i] as number) + 1e-30;
    worst = Math.max(worst, Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff / bound);
  }
  return worst;
}

/** Deterministic floats in [-1, 1) from a 32-bit LCG, so failures reproduce. */
export function seededFloats(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}
