import { CryptomlError } from "../../core/errors.js";
import { result, type Tensor } from "../tensor.js";

/** A shape seen around one axis: `outer` blocks of `dim` rows of `inner` contiguous values. */
function around(shape: readonly number[], axis: number) {
  const a = axis < 0 ? shape.length + axis : axis;
  if (a < 0 || a >= shape.length)
    throw new CryptomlError("INTERNAL", `axis ${axis} is out of range for [${shape}]`);
  const outer = shape.slice(0, a).reduce((n, d) => n * d, 1);
  const inner = shape.slice(a + 1).reduce((n, d) => n * d, 1);
  return { axis: a, outer, dim: shape[a] as number, inner };
}

/** Sum over one axis (the axis is removed from the shape). */
export function sum(x: Tensor, axis: number): Tensor {
  return reduce(x, axis, 1);
}

/** Mean over one axis (for example mean over time of [B, T, D] → [B, D]). */
export function mean(x: Tensor, axis: number): Tensor {
  return reduce(x, axis, 1 / (x.shape[axis < 0 ? x.shape.length + axis : axis] as number));
}

function reduce(x: Tensor, axisIn: number, factor: number): Tensor {
  const { axis, outer, dim, inner } = around(x.shape, axisIn);
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let d = 0; d < dim; d++) {
      const base = (o * dim + d) * inner;
      for (let i = 0; i < inner; i++)
        out[o * inner + i] = (out[o * inner + i] as number) + (x.data[base + i] as number);
    }
  }
  if (factor !== 1) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) * factor;
  const shape = x.shape.filter((_, i) => i !== axis);
  return result(out, shape, [x], (g) => {
    const gx = x.gradBuffer();
    for (let o = 0; o < outer; o++) {
      for (let d = 0; d < dim; d++) {
        const base = (o * dim + d) * inner;
        for (let i = 0; i < inner; i++)
          gx[base + i] = (gx[base + i] as number) + (g[o * inner + i] as number) * factor;
      }
    }
  });
}

/** Elements `[start, end)` along an axis (for example the last time step: slice(x, 1, T − 1, T)). */
export function slice(x: Tensor, axisIn: number, start: number, end: number): Tensor {
  const { axis, outer, dim, inner } = around(x.shape, axisIn);
  if (start < 0 || end > dim || start >= end) {
    throw new CryptomlError(
      "INTERNAL",
      `slice [${start}, ${end}) is out of range for axis ${axis} of [${x.shape}]`,
    );
  }
  const width = end - start;
  const out = new Float32Array(outer * width * inner);
  for (let o = 0; o < outer; o++)
    out.set(x.data.subarray((o * dim + start) * inner, (o * dim + end) * inner), o * width * inner);
  const shape = x.shape.map((d, i) => (i === axis ? width : d));
  return result(out, shape, [x], (g) => {
    const gx = x.gradBuffer();
    for (let o = 0; o < outer; o++) {
      const from = o * width * inner;
      const to = (o * dim + start) * inner;
      for (let i = 0; i < width * inner; i++) gx[to + i] = (gx[to + i] as number) + (g[from + i] as number);
    }
  });
}

/** Joins tensors along an axis; all other dimensions must agree. */
export function concat(parts: readonly Tensor[], axisIn: number): Tensor {
  const first = parts[0];
  if (first === undefined) throw new CryptomlError("INTERNAL", "concat of nothing");
  const { axis, outer, inner } = around(first.shape, axisIn);
  const dims = parts.map((p) => p.shape[axis] as number);
  const total = dims.reduce((n, d) => n + d, 0);
  for (const p of parts) {
    if (p.shape.length !== first.shape.length || p.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
      throw new CryptomlError(
        "INTERNAL",
        `concat: [${p.shape}] does not match [${first.shape}] off axis ${axis}`,
      );
    }
  }
  const out = new Float32Array(outer * total * inner);
  let offset = 0;
  parts.forEach((p, k) => {
    const width = (dims[k] as number) * inner;
    for (let o = 0; o < outer; o++)
      out.set(p.data.subarray(o * width, (o + 1) * width), o * total * inner + offset);
    offset += width;
  });
  const shape = first.shape.map((d, i) => (i === axis ? total : d));
  return result(out, shape, parts, (g) => {
    let at = 0;
    parts.forEach((p, k) => {
      const width = (dims[k] as number) * inner;
      if (p.requiresGrad) {
        const gp = p.gradBuffer();
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < width; i++)
            gp[o * width + i] = (gp[o * width + i] as number) + (g[o * total * inner + at + i] as number);
        }
      }
      at += width;
    });
  });
}
