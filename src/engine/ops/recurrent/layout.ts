/**
 * Moves between x's batch-major layout [B, T, W] and the kernels' time-major one [T, B, W], where each
 * step's [B, W] block is contiguous (a GEMM operand) and all steps together are one [T·B, W] matrix.
 */

/** [B, T, W] → a new [T, B, W]. */
export function toTimeMajor(src: Float32Array, batch: number, steps: number, width: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const from = (b * steps + t) * width;
      const to = (t * batch + b) * width;
      for (let k = 0; k < width; k++) out[to + k] = src[from + k] as number;
    }
  }
  return out;
}

/** `into[B, T, W] += src[T, B, W]`. */
export function addToBatchMajor(
  src: Float32Array,
  batch: number,
  steps: number,
  width: number,
  into: Float32Array,
): void {
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const to = (b * steps + t) * width;
      const from = (t * batch + b) * width;
      for (let k = 0; k < width; k++) into[to + k] = (into[to + k] as number) + (src[from + k] as number);
    }
  }
}

/** `into[B, H] += seq[:, t, :]` for a [B, T, H] sequence: a step's share of the output gradient. */
export function addStep(
  seq: Float32Array,
  t: number,
  batch: number,
  steps: number,
  hidden: number,
  into: Float32Array,
): void {
  for (let b = 0; b < batch; b++) {
    const from = (b * steps + t) * hidden;
    const to = b * hidden;
    for (let j = 0; j < hidden; j++) into[to + j] = (into[to + j] as number) + (seq[from + j] as number);
  }
}

export function addInto(into: Float32Array, values: Float32Array | Float64Array): void {
  for (let i = 0; i < values.length; i++) into[i] = (into[i] as number) + (values[i] as number);
}
