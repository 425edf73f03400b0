/**
 * Scalar arithmetic that must agree with CPython's to the last bit, because the result is cast to float32
 * and a one-ulp difference in float64 can flip that rounding.
 */

/** Error-free product: `a·b = p + e` exactly (Dekker's algorithm with Veltkamp splitting). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const SPLIT = 134217729; // 2^27 + 1
  let c = SPLIT * a;
  const aHi = c - (c - a);
  const aLo = a - aHi;
  c = SPLIT * b;
  const bHi = c - (c - b);
  const bLo = b - bHi;
  return [p, aHi * bHi - p + aHi * bLo + aLo * bHi + aLo * bLo];
}

/** (aHi + aLo)·(bHi + bLo) in double-double. */
function ddMul(aHi: number, aLo: number, bHi: number, bLo: number): [number, number] {
  const [p, e0] = twoProduct(aHi, bHi);
  const e = e0 + (aHi * bLo + aLo * bHi);
  const s = p + e;
  return [s, e - (s - p)];
}

/**
 * `x ** n` for an integer `n >= 0`, correctly rounded in all but pathological cases. Adam's bias
 * corrections need `β^t` as CPython computes it (glibc's `pow`, accurate to ~0.52 ulp); V8's `**` is off
 * by one ulp for about 10% of (β, t), and `1 − β2^t` magnifies that for small t. Binary exponentiation in
 * double-double agrees with glibc on more than 99% of the cases where V8 does not.
 */
export function powInt(x: number, n: number): number {
  let hi = 1;
  let lo = 0;
  let baseHi = x;
  let baseLo = 0;
  let rest = n;
  while (rest > 0) {
    if (rest % 2 === 1) [hi, lo] = ddMul(hi, lo, baseHi, baseLo);
    rest = Math.floor(rest / 2);
    if (rest > 0) [baseHi, baseLo] = ddMul(baseHi, baseLo, baseHi, baseLo);
  }
  return hi + lo;
}
