/**
 * The GEMM arguments of a projection y[rows, out] = x[rows, in]·W[out, in]ᵀ and of its two gradients,
 * for either GEMM entry point: `gemm` on arrays (A = Float32Array) or `WasmKernels.gemmAt` on wasm
 * byte addresses (A = number). Callers may spread the result and add offsets or leading dimensions.
 */

/** The sizes of a projection: `rows` rows of `inputs` values in, `outputs` values out. */
export interface ProjectionShape {
  rows: number;
  inputs: number;
  outputs: number;
}

/** A GEMM call's arguments without offsets or leading dimensions. */
export interface ProjectionGemm<A> {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  a: A;
  b: A;
  beta: number;
  c: A;
}

/** `y = x·Wᵀ + beta·y`: y [rows, out], x [rows, in], W [out, in]. */
export function projectForward<A>(s: ProjectionShape, x: A, w: A, beta: number, y: A): ProjectionGemm<A> {
  return {
    transA: false,
    transB: true,
    m: s.rows,
    n: s.outputs,
    k: s.inputs,
    alpha: 1,
    a: x,
    b: w,
    beta,
    c: y,
  };
}

/** `dW = dyᵀ·x + beta·dW`: dW [out, in], summed over all rows. */
export function projectWeightGrad<A>(
  s: ProjectionShape,
  dy: A,
  x: A,
  beta: number,
  dW: A,
): ProjectionGemm<A> {
  return {
    transA: true,
    transB: false,
    m: s.outputs,
    n: s.inputs,
    k: s.rows,
    alpha: 1,
    a: dy,
    b: x,
    beta,
    c: dW,
  };
}

/** `dx = dy·W + beta·dx`: dx [rows, in]. */
export function projectInputGrad<A>(s: ProjectionShape, dy: A, w: A, beta: number, dx: A): ProjectionGemm<A> {
  return {
    transA: false,
    transB: false,
    m: s.rows,
    n: s.inputs,
    k: s.outputs,
    alpha: 1,
    a: dy,
    b: w,
    beta,
    c: dx,
  };
}

/** Writes `row` into each of the first `rows` rows of `out` (a bias broadcast before a beta = 1 GEMM). */
export function fillRows(out: Float32Array, row: Float32Array, rows: number): void {
  for (let r = 0; r < rows; r++) out.set(row, r * row.length);
}
