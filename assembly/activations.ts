// Vectorised exp, σ and tanh on f32x4 for the fused recurrent kernels (Cephes single-precision
// polynomials, about 1–2 ulp without FMA). NaN propagates: f32x4.min/max return NaN for a NaN lane.

const EXP_HI: f32 = 88.0; // e^88 ≈ 1.65e38 stays finite
const EXP_LO: f32 = -87.0; // e^−87 ≈ 1.6e−38 stays a normal number
const LOG2E: f32 = Mathf.LOG2E;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.1219444e-4;
const ROUND_MAGIC: f32 = 12582912.0; // 1.5·2²³
const TANH_POLY_BELOW: f32 = 0.625;

/**
 * e^x per lane: x = n·ln2 + r, |r| ≤ ln2/2, a degree-6 polynomial for e^r, 2^n from the exponent bits.
 * n is rounded to nearest by adding 1.5·2²³ (its integer then sits in the low mantissa bits), which
 * replaces floor and a float-to-int conversion that V8 expands into a long sequence.
 */
export function expv(x: v128): v128 {
  const v = f32x4.min(f32x4.max(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  const magic = f32x4.splat(ROUND_MAGIC);
  const kf = f32x4.add(f32x4.mul(v, f32x4.splat(LOG2E)), magic);
  const fx = f32x4.sub(kf, magic);
  const r = f32x4.sub(f32x4.sub(v, f32x4.mul(fx, f32x4.splat(LN2_HI))), f32x4.mul(fx, f32x4.splat(LN2_LO)));
  let y = f32x4.splat(1.98756915e-4);
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(y, r), r), r), f32x4.splat(1.0));
  // The bits of kf are those of the magic number plus n; n + 127 shifted into the exponent is 2^n.
  const pow2n = i32x4.shl(i32x4.add(i32x4.sub(kf, magic), i32x4.splat(127)), 23);
  return f32x4.mul(y, pow2n);
}

/** σ(x) = 1 / (1 + e^−x) per lane. */
export function sigmoidv(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
}

/**
 * tanh per lane: below |x| = 0.625 an odd polynomial (no cancellation near 0), above it
 * 1 − 2/(e^2|x| + 1) with the sign restored. |x| is clamped to 10, where tanh rounds to ±1 in float32.
 */
export function tanhv(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  const e = expv(f32x4.add(f32x4.min(a, f32x4.splat(10.0)), f32x4.min(a, f32x4.splat(10.0))));
  const one = f32x4.splat(1.0);
  const big = f32x4.sub(one, f32x4.div(f32x4.splat(2.0), f32x4.add(e, one)));
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  // NaN compares false, so it takes the polynomial, which keeps it NaN.
  return v128.bitselect(signed, small, f32x4.gt(a, f32x4.splat(TANH_POLY_BELOW)));
}

/** Scalar entry points over the same code (tests and tails). */
export function expf32(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}

export function sigmoidf32(x: f32): f32 {
  return f32x4.extract_lane(sigmoidv(f32x4.splat(x)), 0);
}

export function tanhf32(x: f32): f32 {
  return f32x4.extract_lane(tanhv(f32x4.splat(x)), 0);
}
