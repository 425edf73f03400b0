import { CryptomlError } from "../../core/errors.js";
import { result, type Tensor } from "../tensor.js";
import { tanhOf } from "./recurrent/activations.js";

/**
 * How `b` broadcasts onto `a`: `b`'s shape must equal a suffix of `a`'s (a bias [D] onto [B, T, D],
 * position embeddings [T, D] onto [B, T, D]). Returns the length of that suffix block.
 */
function suffixBlock(a: Tensor, b: Tensor, op: string): number {
  const offset = a.shape.length - b.shape.length;
  const fits = offset >= 0 && b.shape.every((dim, i) => dim === a.shape[offset + i]);
  if (!fits) throw new CryptomlError("INTERNAL", `${op}: [${b.shape}] does not broadcast onto [${a.shape}]`);
  return b.size;
}

/** `a + b`, with `b` broadcast over `a`'s leading dimensions. */
export function add(a: Tensor, b: Tensor): Tensor {
  const block = suffixBlock(a, b, "add");
  const out = new Float32Array(a.size);
  const ad = a.data;
  const bd = b.data;
  // Block by block rather than `i % block` per element: the modulo dominated this loop.
  for (let start = 0; start < out.length; start += block) {
    for (let j = 0; j < block; j++) out[start + j] = (ad[start + j] as number) + (bd[j] as number);
  }
  return result(out, a.shape, [a, b], (g) => {
    if (a.requiresGrad) accumulate(a.gradBuffer(), g);
    if (b.requiresGrad) {
      const gb = b.gradBuffer();
      for (let start = 0; start < g.length; start += block) {
        for (let j = 0; j < block; j++) gb[j] = (gb[j] as number) + (g[start + j] as number);
      }
    }
  });
}

/** `a · b` elementwise, with `b` broadcast over `a`'s leading dimensions. */
export function mul(a: Tensor, b: Tensor): Tensor {
  const block = suffixBlock(a, b, "mul");
  const out = new Float32Array(a.size);
  const ad = a.data;
  const bd = b.data;
  for (let start = 0; start < out.length; start += block) {
    for (let j = 0; j < block; j++) out[start + j] = (ad[start + j] as number) * (bd[j] as number);
  }
  return result(out, a.shape, [a, b], (g) => {
    if (a.requiresGrad) {
      const ga = a.gradBuffer();
      for (let start = 0; start < g.length; start += block) {
        for (let j = 0; j < block; j++)
          ga[start + j] = (ga[start + j] as number) + (g[start + j] as number) * (bd[j] as number);
      }
    }
    if (b.requiresGrad) {
      const gb = b.gradBuffer();
      for (let start = 0; start < g.length; start += block) {
        for (let j = 0; j < block; j++)
          gb[j] = (gb[j] as number) + (g[start + j] as number) * (ad[start + j] as number);
      }
    }
  });
}

/** `a · factor`. */
export function scale(a: Tensor, factor: number): Tensor {
  const out = a.data.map((v) => v * factor);
  return result(out, a.shape, [a], (g) => {
    const ga = a.gradBuffer();
    for (let i = 0; i < g.length; i++) ga[i] = (ga[i] as number) + (g[i] as number) * factor;
  });
}

export function accumulate(into: Float32Array, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) into[i] = (into[i] as number) + (values[i] as number);
}

/**
 * An elementwise function with its derivative written in terms of the input x and output y
 * (tanh' = 1 − y², sigmoid' = y(1 − y)), so backward needs no recomputation.
 */
function unary(f: (x: number) => number, df: (x: number, y: number) => number) {
  return (a: Tensor): Tensor => {
    const out = new Float32Array(a.size);
    for (let i = 0; i < out.length; i++) out[i] = f(a.data[i] as number);
    return result(out, a.shape, [a], (g) => {
      const ga = a.gradBuffer();
      for (let i = 0; i < g.length; i++) {
        ga[i] = (ga[i] as number) + (g[i] as number) * df(a.data[i] as number, out[i] as number);
      }
    });
  };
}

export const sigmoidValue = (x: number): number =>
  x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));

/** erf by Abramowitz–Stegun 7.1.26 is too coarse for parity; this uses a high-precision series/continued fraction. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // Maclaurin series: converges fast for |x| < 2.5 in double precision.
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc at larger |x| (Lentz), accurate far below float32 resolution.
  const x2 = ax * ax;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 100; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-x2) / (f * Math.sqrt(Math.PI));
  return Math.sign(x) * (1 - erfc);
}

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

// relu and tanh sit on hot paths of the reference models (cnn_lstm, lstm_attention, transformer): they
// get their own loops, because a loop shared through `unary` calls f and df through a call site that
// sees several functions and stops being inlined.
export function relu(a: Tensor): Tensor {
  const x = a.data;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    // Math.max keeps NaN as NaN, as torch.relu does.
    out[i] = Math.max(x[i] as number, 0);
  }
  return result(out, a.shape, [a], (g) => {
    const ga = a.gradBuffer();
    for (let i = 0; i < g.length; i++) if ((x[i] as number) > 0) ga[i] = (ga[i] as number) + (g[i] as number);
  });
}

export function tanh(a: Tensor): Tensor {
  const x = a.data;
  const out = new Float32Array(x.length);
  // tanhOf is the recurrent kernels' arithmetic tanh (~1e-10 relative), several times faster than Math.tanh.
  for (let i = 0; i < x.length; i++) out[i] = tanhOf(x[i] as number);
  return result(out, a.shape, [a], (g) => {
    const ga = a.gradBuffer();
    for (let i = 0; i < g.length; i++) {
      const y = out[i] as number;
      ga[i] = (ga[i] as number) + (g[i] as number) * (1 - y * y);
    }
  });
}
export const sigmoid = unary(sigmoidValue, (_x, y) => y * (1 - y));
/** GELU with the exact erf form (PyTorch's default `approximate="none"`). */
export const gelu = unary(
  (x) => 0.5 * x * (1 + erf(x * INV_SQRT2)),
  (x) => 0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
);

/** The same values under another shape (no copy); gradients flow through unchanged. */
export function reshape(a: Tensor, shape: readonly number[]): Tensor {
  const size = shape.reduce((n, d) => n * d, 1);
  if (size !== a.size) throw new CryptomlError("INTERNAL", `reshape: [${a.shape}] cannot become [${shape}]`);
  return result(a.data, shape, [a], (g) => accumulate(a.gradBuffer(), g));
}
