/**
 * How a batch and the gradients are cut up: contiguous batch shards (sizes differ by at most one) and
 * the flat gradient layout in SharedArrayBuffer (one slot per replica plus the reduced vector, each
 * padded to whole cache lines so replicas writing neighbouring regions do not share a line).
 */
import type { Parameter } from "../parameter.js";

/** Floats per 64-byte cache line: slots and reduce chunks start on line boundaries. */
const LINE = 16;

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** A contiguous range [start, start + size) of batch rows (or of flat gradient elements). */
export interface Span {
  start: number;
  size: number;
}

/** Splits `total` rows into `parts` contiguous shards; the first `total % parts` get one more row. */
export function shardBatch(total: number, parts: number): Span[] {
  const base = Math.floor(total / parts);
  const extra = total % parts;
  const spans: Span[] = [];
  let start = 0;
  for (let r = 0; r < parts; r++) {
    const size = base + (r < extra ? 1 : 0);
    spans.push({ start, size });
    start += size;
  }
  return spans;
}

/**
 * Where parameter i's gradient lives in a flat vector (`offsets[i]`, `sizes[i]`, in `parameters()`
 * order), the vector's length `total`, and the `stride` between replica slots.
 */
export interface FlatLayout {
  names: string[];
  sizes: number[];
  offsets: number[];
  total: number;
  stride: number;
}

export function flatLayout(params: readonly Parameter[]): FlatLayout {
  const offsets: number[] = [];
  let total = 0;
  for (const p of params) {
    offsets.push(total);
    total += p.data.length;
  }
  return {
    names: params.map((p) => p.name),
    sizes: params.map((p) => p.data.length),
    offsets,
    total,
    stride: roundUp(Math.max(total, 1), LINE),
  };
}

/** The part of the flat vector replica `rank` reduces: contiguous, line-aligned, disjoint, covering all. */
export function reduceChunk(total: number, world: number, rank: number): Span {
  const lines = Math.ceil(total / LINE);
  const perRank = Math.ceil(lines / world);
  const start = Math.min(total, rank * perRank * LINE);
  const end = Math.min(total, (rank + 1) * perRank * LINE);
  return { start, size: end - start };
}

/** Copies every parameter's `pick` (data or grad) into `flat` at the layout's offsets, and back. */
export function gather(
  params: readonly Parameter[],
  flat: Float32Array,
  base: number,
  pick: "data" | "grad",
): void {
  let at = base;
  for (const p of params) {
    flat.set(p[pick], at);
    at += p.data.length;
  }
}

export function scatter(
  flat: Float32Array,
  base: number,
  params: readonly Parameter[],
  pick: "data" | "grad",
): void {
  let at = base;
  for (const p of params) {
    p[pick].set(flat.subarray(at, at + p.data.length));
    at += p.data.length;
  }
}
