/**
 * General matrix multiply on row-major float32 matrices:
 * `C[M×N] = alpha · op(A) · op(B) + beta · C`, where op(A) is A[M×K] or, transposed, A stored as [K×M];
 * op(B) is B[K×N] or, transposed, B stored as [N×K]. Offsets let callers address one matrix of a batch.
 *
 * Matrices are contiguous (leading dimension = row length); C must not overlap A or B.
 * `beta = 0` overwrites C (NaN in C does not survive); `alpha = 0` leaves `beta · C`.
 */
export interface GemmArgs {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  a: Float32Array;
  aOffset?: number;
  b: Float32Array;
  bOffset?: number;
  beta: number;
  c: Float32Array;
  cOffset?: number;
}
