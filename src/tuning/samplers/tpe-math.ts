/**
 * Scalar numerics of the truncated normal that TPE's Parzen estimators are made of: the normal CDF and
 * its logarithm (accurate far into the tails, where the below/above ratio of two tiny densities is still
 * meaningful), the log probability mass of an interval, and the inverse CDF of a truncated normal for
 * sampling. Optuna's `_truncnorm.py` is the reference for the case splits; the code is our own.
 */

const SQRT1_2 = Math.SQRT1_2;
/** log(√(2π)): the normal density's log normaliser. */
export const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
/** √3/π: slope of the logistic approximation of the normal CDF (the Newton start of `ndtriExp`). */
const LOGISTIC_C = Math.sqrt(3) / Math.PI;

/**
 * Chebyshev coefficients of erfc on z ≥ 0 after the change t = 2/(2+z) (Numerical Recipes, 3rd ed.,
 * §6.2.2): relative error about 1.2e-16 everywhere, and the result comes out as t·exp(·), so its
 * logarithm is available without underflow for arbitrarily large z.
 */
const ERFC_COF = new Float64Array([
  -1.3026537197817094, 6.419697923564902e-1, 1.9476473204185836e-2, -9.561514786808631e-3,
  -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6,
  1.30365583558e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10,
  -2.27365122e-10, 9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13,
  3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
]);

/** log(erfc(z)) for z ≥ 0, finite for every finite z. */
function logErfcNonNeg(z: number): number {
  if (z === Number.POSITIVE_INFINITY) return Number.NEGATIVE_INFINITY;
  const t = 2 / (2 + z);
  const ty = 4 * t - 2;
  let d = 0;
  let dd = 0;
  for (let j = ERFC_COF.length - 1; j > 0; j--) {
    const tmp = d;
    d = ty * d - dd + (ERFC_COF[j] as number);
    dd = tmp;
  }
  return Math.log(t) - z * z + 0.5 * ((ERFC_COF[0] as number) + ty * d) - dd;
}

/** erfc(z) for any real z. */
export function erfc(z: number): number {
  return z >= 0 ? Math.exp(logErfcNonNeg(z)) : 2 - Math.exp(logErfcNonNeg(-z));
}

/** Φ(a), the standard normal CDF. */
export function ndtr(a: number): number {
  return 0.5 * erfc(-a * SQRT1_2);
}

/** log Φ(a), accurate for very negative a (no underflow) and for large a (where Φ rounds to 1). */
export function logNdtr(a: number): number {
  if (a < 0) return logErfcNonNeg(-a * SQRT1_2) - Math.LN2;
  return Math.log1p(-0.5 * Math.exp(logErfcNonNeg(a * SQRT1_2)));
}

/** log(e^x − e^y) for x ≥ y. */
function logDiff(x: number, y: number): number {
  if (y === Number.NEGATIVE_INFINITY) return x;
  return x + Math.log1p(-Math.exp(y - x));
}

/** log(e^x + e^y). */
function logSum(x: number, y: number): number {
  const hi = Math.max(x, y);
  if (hi === Number.NEGATIVE_INFINITY) return hi;
  return hi + Math.log1p(Math.exp(Math.min(x, y) - hi));
}

/**
 * log(Φ(b) − Φ(a)) for a ≤ b: the log probability of the interval [a, b] under N(0, 1). Each side of
 * zero is computed on the tail where it does not cancel catastrophically.
 */
export function logGaussMass(a: number, b: number): number {
  if (b <= 0) return logDiff(logNdtr(b), logNdtr(a));
  if (a > 0) return logDiff(logNdtr(-a), logNdtr(-b));
  return Math.log1p(-ndtr(a) - ndtr(-b));
}

/** x such that log Φ(x) = y (y ≤ 0), by Newton's method from a tail or logistic first guess. */
export function ndtriExp(y: number): number {
  // Near y = 0 the root is large and positive; solve for −x on the other tail where precision is kept.
  const flipped = y > -1e-2;
  const z = flipped ? Math.log(-Math.expm1(y)) : y;
  let x = z < -5 ? -Math.sqrt(-2 * (z + LOG_SQRT_2PI)) : -LOGISTIC_C * Math.log(Math.expm1(-z));
  for (let i = 0; i < 100; i++) {
    const l = logNdtr(x);
    const dx = (l - z) * Math.exp(l + 0.5 * x * x + LOG_SQRT_2PI);
    x -= dx;
    if (!(Math.abs(dx) >= 1e-8 * Math.abs(x))) break;
  }
  return flipped ? -x : x;
}

/**
 * The q-quantile (q in [0, 1]) of N(0, 1) truncated to [a, b], with `logMass` = logGaussMass(a, b)
 * precomputed by the caller (it is per kernel, shared by every draw from that kernel).
 */
export function truncnormPpf(q: number, a: number, b: number, logMass: number): number {
  if (q <= 0) return a;
  if (q >= 1) return b;
  if (a < 0) return ndtriExp(logSum(logNdtr(a), Math.log(q) + logMass));
  return -ndtriExp(logSum(logNdtr(-b), Math.log1p(-q) + logMass));
}
