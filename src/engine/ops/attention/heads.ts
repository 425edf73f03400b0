import type { Dims } from "./shapes.js";

/** q, k, v as [B, heads, T, dh] blocks; q already multiplied by 1/√dh. */
export interface HeadBuffers {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

/** Row (b, t) of [B·T, 3E] → q, k, v blocks [b, h, t, :]. */
export function splitHeads(qkv: Float32Array, d: Dims): HeadBuffers {
  const { batch, steps, embed, heads, headDim } = d;
  const scale = 1 / Math.sqrt(headDim);
  const size = batch * steps * embed;
  const q = new Float32Array(size);
  const k = new Float32Array(size);
  const v = new Float32Array(size);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const src = (b * steps + t) * 3 * embed;
      for (let h = 0; h < heads; h++) {
        const dst = ((b * heads + h) * steps + t) * headDim;
        const col = src + h * headDim;
        // Plain loops: heads are a few values wide, too short for subarray().set() to pay off.
        for (let j = 0; j < headDim; j++) {
          q[dst + j] = (qkv[col + j] as number) * scale;
          k[dst + j] = qkv[col + embed + j] as number;
          v[dst + j] = qkv[col + 2 * embed + j] as number;
        }
      }
    }
  }
  return { q, k, v };
}

/**
 * Copies between the [B·T, E] rows (head h in columns h·dh … (h+1)·dh − 1) and [B, heads, T, dh]
 * blocks: rows → blocks when `toBlocks`, else blocks → rows.
 */
function permuteHeads(src: Float32Array, d: Dims, toBlocks: boolean): Float32Array {
  const { batch, steps, embed, heads, headDim } = d;
  const out = new Float32Array(batch * steps * embed);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < steps; t++) {
        const row = (b * steps + t) * embed + h * headDim;
        const block = ((b * heads + h) * steps + t) * headDim;
        const from = toBlocks ? row : block;
        const to = toBlocks ? block : row;
        for (let j = 0; j < headDim; j++) out[to + j] = src[from + j] as number;
      }
    }
  }
  return out;
}

/** [B, heads, T, dh] → [B·T, E] with head h in columns h·dh … (h+1)·dh − 1. */
export function joinHeads(o: Float32Array, d: Dims): Float32Array {
  return permuteHeads(o, d, false);
}

/** [B·T, E] → [B, heads, T, dh] (the inverse of joinHeads). */
export function splitContext(c: Float32Array, d: Dims): Float32Array {
  return permuteHeads(c, d, true);
}

/** dq, dk, dv blocks [B, heads, T, dh] → d(qkv) rows [B·T, 3E] (the inverse of splitHeads' layout). */
export function mergeHeads(dq: Float32Array, dk: Float32Array, dv: Float32Array, d: Dims): Float32Array {
  const { batch, steps, embed, heads, headDim } = d;
  const out = new Float32Array(batch * steps * 3 * embed);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < steps; t++) {
        const src = ((b * heads + h) * steps + t) * headDim;
        const dst = (b * steps + t) * 3 * embed + h * headDim;
        for (let j = 0; j < headDim; j++) {
          out[dst + j] = dq[src + j] as number;
          out[dst + embed + j] = dk[src + j] as number;
          out[dst + 2 * embed + j] = dv[src + j] as number;
        }
      }
    }
  }
  return out;
}

/** `into[c] += Σ_r g[r, c]`: a bias gradient. */
export function addColumnSums(g: Float32Array, rows: number, cols: number, into: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) into[c] = (into[c] as number) + (g[base + c] as number);
  }
}
