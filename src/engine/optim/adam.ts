/**
 * Adam (L2 weight decay added to the gradient) and AdamW (decoupled weight decay), with torch.optim's
 * exact update, defaults and float32 rounding: moment buffers are Float32Array and every operation is
 * rounded where torch's single-tensor CPU path materialises a float32 result (docs/engine-optimisers.md).
 */
import type { Parameter } from "../parameter.js";
import {
  type AdamHyper,
  checkParams,
  decodeParams,
  decodeStep,
  encodeParams,
  OPTIMIZER_STATE_FORMAT,
  type Optimizer,
  type OptimizerState,
  zeroGrads,
} from "./optimizer.js";
import { powInt } from "./scalar-math.js";
import { BAD_STATE, checkHeader, field } from "./state.js";
import { optimError, requireAbove, requireAtLeast, requireBoolean, requireInRange } from "./validate.js";

const fround = Math.fround;

/** Options of `Adam` and `AdamW`; defaults are torch's. */
export interface AdamOptions {
  /** Learning rate, > 0. Default 1e-3. */
  lr?: number;
  /** Decay rates of the first and second moment estimates, each in [0, 1). Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Added to the denominator for stability, >= 0. Default 1e-8. */
  eps?: number;
  /** Weight decay, >= 0. Default 0 for Adam (L2, added to the gradient), 1e-2 for AdamW (decoupled). */
  weightDecay?: number;
  /** Use the running maximum of the second moment (AMSGrad). Default false. */
  amsgrad?: boolean;
}

function checkHyper(h: AdamHyper, what: string, lrRule: "> 0" | ">= 0"): void {
  if (lrRule === "> 0") requireAbove(`${what}.lr`, h.lr, 0);
  else requireAtLeast(`${what}.lr`, h.lr, 0);
  if (!Array.isArray(h.betas) || h.betas.length !== 2) {
    throw optimError(`${what}.betas=${JSON.stringify(h.betas)} must be a pair [beta1, beta2]`);
  }
  requireInRange(`${what}.betas[0]`, h.betas[0], 0, 1);
  requireInRange(`${what}.betas[1]`, h.betas[1], 0, 1);
  requireAtLeast(`${what}.eps`, h.eps, 0);
  requireAtLeast(`${what}.weightDecay`, h.weightDecay, 0);
  requireBoolean(`${what}.amsgrad`, h.amsgrad);
}

const SLOTS = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] as const;

/** Shared implementation; `decoupled` selects AdamW's weight decay. */
abstract class AdamFamily implements Optimizer {
  abstract readonly kind: "adam" | "adamw";
  readonly params: readonly Parameter[];
  #hyper: AdamHyper;
  #expAvg: Float32Array[];
  #expAvgSq: Float32Array[];
  #maxExpAvgSq: (Float32Array | null)[];
  #step = 0;
  readonly #decoupled: boolean;
  readonly #name: string;

  protected constructor(
    name: string,
    params: readonly Parameter[],
    options: AdamOptions,
    decoupled: boolean,
  ) {
    this.#name = name;
    this.#decoupled = decoupled;
    this.params = checkParams(params, name);
    const betas = options.betas ?? [0.9, 0.999];
    const hyper: AdamHyper = {
      lr: options.lr ?? 1e-3,
      betas: Array.isArray(betas) ? ([...betas] as [number, number]) : (betas as [number, number]),
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? (decoupled ? 1e-2 : 0),
      amsgrad: options.amsgrad ?? false,
    };
    checkHyper(hyper, name, "> 0");
    this.#hyper = hyper;
    // torch creates the buffers as zeros on the first step; creating them now is equivalent.
    this.#expAvg = this.params.map((p) => new Float32Array(p.data.length));
    this.#expAvgSq = this.params.map((p) => new Float32Array(p.data.length));
    this.#maxExpAvgSq = this.params.map((p) => (hyper.amsgrad ? new Float32Array(p.data.length) : null));
  }

  get lr(): number {
    return this.#hyper.lr;
  }

  set lr(value: number) {
    requireAtLeast(`${this.#name}.lr`, value, 0);
    this.#hyper.lr = value;
  }

  /** `betas[0]`, the coefficient torch's OneCycleLR cycles. */
  get momentum(): number {
    return this.#hyper.betas[0];
  }

  set momentum(value: number) {
    requireInRange(`${this.#name}.betas[0]`, value, 0, 1);
    this.#hyper.betas = [value, this.#hyper.betas[1]];
  }

  get betas(): readonly [number, number] {
    return [...this.#hyper.betas];
  }

  get stepCount(): number {
    return this.#step;
  }

  step(): void {
    this.#step++;
    const k = adamConstants(this.#hyper, this.#step, this.#decoupled);
    this.params.forEach((p, i) => {
      const m = this.#expAvg[i] as Float32Array;
      const v = this.#expAvgSq[i] as Float32Array;
      adamUpdate(p.data, p.grad, m, v, this.#maxExpAvgSq[i] ?? null, k);
    });
  }

  zeroGrad(): void {
    zeroGrads(this.params);
  }

  stateDict(): OptimizerState {
    const h = this.#hyper;
    return {
      format: OPTIMIZER_STATE_FORMAT,
      kind: this.kind,
      hyper: { ...h, betas: [h.betas[0], h.betas[1]] },
      step: this.#step,
      params: encodeParams(this.params, {
        exp_avg: this.#expAvg,
        exp_avg_sq: this.#expAvgSq,
        max_exp_avg_sq: this.#maxExpAvgSq,
      }),
    };
  }

  loadStateDict(state: OptimizerState): void {
    const what = `${this.#name} state`;
    checkHeader(state, OPTIMIZER_STATE_FORMAT, this.kind, what);
    const saved = field(state, "hyper", what) as Partial<AdamHyper>;
    const betas = saved.betas;
    const hyper: AdamHyper = {
      lr: saved.lr as number,
      betas: Array.isArray(betas) ? ([...betas] as [number, number]) : (betas as unknown as [number, number]),
      eps: saved.eps as number,
      weightDecay: saved.weightDecay as number,
      amsgrad: saved.amsgrad as boolean,
    };
    checkHyper(hyper, `${what}.hyper`, ">= 0");
    const step = decodeStep(state, what);
    const slots = decodeParams(this.params, state, SLOTS, what);
    const sizes = this.params.map((p) => p.data.length);
    // A buffer absent from the state (saved before the first step) is all zeros, as torch starts it.
    const full = (list: (Float32Array | null)[] | undefined): Float32Array[] =>
      sizes.map((n, i) => list?.[i] ?? new Float32Array(n));
    const maxes = slots.max_exp_avg_sq ?? [];
    if (hyper.amsgrad && step > 0 && maxes.some((b) => b === null)) {
      throw optimError(`${what} has amsgrad=true but no max_exp_avg_sq buffer`, BAD_STATE);
    }
    this.#hyper = hyper;
    this.#step = step;
    this.#expAvg = full(slots.exp_avg);
    this.#expAvgSq = full(slots.exp_avg_sq);
    this.#maxExpAvgSq = hyper.amsgrad ? full(maxes) : sizes.map(() => null);
  }
}

/**
 * torch.optim.Adam for one parameter group. Per element, for step t:
 * `g = grad + wd·p`; `m = lerp(m, g, 1 − β1)`; `v = β2·v + (1 − β2)·g²`;
 * `p = p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)` (√max(v) with amsgrad).
 */
export class Adam extends AdamFamily {
  readonly kind = "adam";

  constructor(params: readonly Parameter[], options: AdamOptions = {}) {
    super("Adam", params, options, false);
  }
}

/**
 * torch.optim.AdamW: Adam whose weight decay is decoupled, `p = p · (1 − lr·wd)` before the Adam update
 * (which then runs without the L2 term). Default weightDecay 1e-2.
 */
export class AdamW extends AdamFamily {
  readonly kind = "adamw";

  constructor(params: readonly Parameter[], options: AdamOptions = {}) {
    super("AdamW", params, options, true);
  }
}

interface AdamConstants {
  /** float32 weight of lerp(m, g, w) = 1 − β1. */
  w: number;
  /** float32 w − 1, used when w >= 0.5 as torch's lerp does. */
  wMinus1: number;
  beta2: number;
  oneMinusBeta2: number;
  /** L2 decay coefficient (Adam) or 0. */
  l2: number;
  /** Decoupled decay factor 1 − lr·wd (AdamW) or 1. */
  shrink: number;
  biasCorrection2Sqrt: number;
  eps: number;
  negStepSize: number;
}

/** The step's scalars, computed in float64 as torch computes them in Python, then cast to float32. */
function adamConstants(h: AdamHyper, step: number, decoupled: boolean): AdamConstants {
  const [beta1, beta2] = h.betas;
  const biasCorrection1 = 1 - powInt(beta1, step);
  const biasCorrection2 = 1 - powInt(beta2, step);
  const w = fround(1 - beta1);
  return {
    w,
    wMinus1: fround(w - 1),
    beta2: fround(beta2),
    oneMinusBeta2: fround(1 - beta2),
    l2: !decoupled && h.weightDecay !== 0 ? fround(h.weightDecay) : 0,
    shrink: decoupled && h.weightDecay !== 0 ? fround(1 - h.lr * h.weightDecay) : 1,
    biasCorrection2Sqrt: fround(Math.sqrt(biasCorrection2)),
    eps: fround(h.eps),
    negStepSize: fround(-(h.lr / biasCorrection1)),
  };
}

/**
 * One parameter's update, rounding to float32 after every tensor operation torch performs. Where torch's
 * vectorised kernel fuses a multiply-add (`add` with alpha, `lerp`), the float64 `a + s·b` of float32
 * operands is exact before its single rounding, as an FMA is.
 */
function adamUpdate(
  data: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vMax: Float32Array | null,
  k: AdamConstants,
): void {
  const smallWeight = Math.abs(k.w) < 0.5;
  for (let j = 0; j < data.length; j++) {
    let p = data[j] as number;
    let g = grad[j] as number;
    if (k.shrink !== 1) p = fround(p * k.shrink);
    if (k.l2 !== 0) g = fround(g + k.l2 * p);
    const mPrev = m[j] as number;
    const diff = fround(g - mPrev);
    const mj = smallWeight ? fround(mPrev + k.w * diff) : fround(g + k.wMinus1 * diff);
    m[j] = mj;
    let vj = fround((v[j] as number) * k.beta2);
    // torch's addcmul kernel compiles to fma((1 − β2)·g, g, v): one rounding after the add.
    vj = fround(vj + fround(k.oneMinusBeta2 * g) * g);
    v[j] = vj;
    if (vMax !== null) {
      vj = Math.max(vMax[j] as number, vj);
      vMax[j] = vj;
    }
    const denom = fround(fround(fround(Math.sqrt(vj)) / k.biasCorrection2Sqrt) + k.eps);
    data[j] = p + fround(fround(k.negStepSize * mj) / denom);
  }
}
