/**
 * Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ computes it, with one deliberate
 * difference: a non-finite total norm leaves the gradients untouched (torch would scale them by NaN or 0),
 * so the caller (a NaN guard, a skip-step policy) decides what to do with the step.
 */
import { CryptomlError } from "../../core/errors.js";
import type { Parameter } from "../parameter.js";
import { optimError, requireAbove } from "./validate.js";

const fround = Math.fround;
/** torch's guard against division by zero, cast to float32 as the tensor add does. */
const NORM_EPS = fround(1e-6);

/** Options of `clipGradNorm`. */
export interface ClipGradNormOptions {
  /**
   * Throw `NonFiniteGradNormError` when the total norm is NaN or ±Infinity instead of returning it.
   * Default false.
   */
  errorIfNonfinite?: boolean;
}

/** The total gradient norm was NaN or infinite and `errorIfNonfinite` was set. */
export class NonFiniteGradNormError extends CryptomlError {
  readonly totalNorm: number;

  constructor(totalNorm: number, normType: number) {
    super(
      "INTERNAL",
      `the total gradient norm of order ${normType} is ${totalNorm}, so it cannot be clipped`,
      {
        hint: "the loss diverged or the data holds NaN/Infinity; lower the learning rate or check the inputs",
      },
    );
    this.totalNorm = totalNorm;
  }
}

/**
 * p-norm of one gradient, rounded to float32 as torch's per-tensor norm is. The 1-norm is summed in
 * float32 in index order, which is exactly torch's sequential CPU reduction (single-threaded, the case
 * for tensors below its 32768-element grain). Other norms accumulate in float64: torch's 2-norm kernel
 * keeps 8 float32 SIMD partial sums plus a scalar tail, an order tied to its CPU build that we do not
 * imitate; float64 is within an ulp of the true norm and differs from torch's by a few float32 ulps.
 */
function tensorNorm(values: ArrayLike<number>, normType: number): number {
  let acc = 0;
  if (normType === Infinity) {
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i] as number);
      if (Number.isNaN(a)) return NaN; // torch's max reduction propagates NaN
      if (a > acc) acc = a;
    }
    return fround(acc);
  }
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i] as number);
    acc = normType === 1 ? fround(acc + a) : acc + (normType === 2 ? a * a : a ** normType);
  }
  return fround(normType === 2 ? Math.sqrt(acc) : normType === 1 ? acc : acc ** (1 / normType));
}

/**
 * Scales every gradient in place so that their global `normType`-norm is at most `maxNorm`, as
 * torch.nn.utils.clip_grad_norm_: the total norm is the norm of the per-parameter norms; the gradients
 * are multiplied by `min(1, maxNorm / (total + 1e-6))` (float32), so only when that is below 1.
 *
 * @param maxNorm largest allowed total norm, > 0 (Infinity: measure only).
 * @param normType the p of the p-norm, > 0 or Infinity. Default 2.
 * @returns the total norm before clipping (float32 value). When it is NaN or ±Infinity the gradients
 *   are NOT scaled (torch would multiply them by NaN or 0) and the norm is returned for the caller to act
 *   on, unless `errorIfNonfinite` asks for a `NonFiniteGradNormError`. With no parameters: 0.
 */
export function clipGradNorm(
  params: readonly Parameter[],
  maxNorm: number,
  normType = 2,
  options: ClipGradNormOptions = {},
): number {
  requireAbove("clipGradNorm.maxNorm", maxNorm, 0, true);
  if (!(normType > 0)) throw optimError(`clipGradNorm.normType=${normType} must be > 0 or Infinity`);
  if (params.length === 0) return 0;
  const norms = params.map((p) => tensorNorm(p.grad, normType));
  const total = tensorNorm(norms, normType);
  if (!Number.isFinite(total)) {
    if (options.errorIfNonfinite === true) throw new NonFiniteGradNormError(total, normType);
    return total;
  }
  // torch evaluates `max_norm / (total + 1e-6)` as `reciprocal(total + 1e-6) * max_norm` in float32.
  const coef = fround(fround(1 / fround(total + NORM_EPS)) * fround(maxNorm));
  if (coef < 1) {
    for (const p of params) {
      const grad = p.grad;
      for (let i = 0; i < grad.length; i++) grad[i] = (grad[i] as number) * coef;
    }
  }
  return total;
}
