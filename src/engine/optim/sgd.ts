/**
 * Stochastic gradient descent with momentum, dampening, L2 weight decay and Nesterov momentum, with
 * torch.optim.SGD's exact semantics and float32 rounding (see docs/engine-optimisers.md).
 */
import type { Parameter } from "../parameter.js";
import {
  checkParams,
  decodeParams,
  decodeStep,
  encodeParams,
  OPTIMIZER_STATE_FORMAT,
  type Optimizer,
  type OptimizerState,
  type SgdHyper,
  zeroGrads,
} from "./optimizer.js";
import { BAD_STATE, checkHeader, field } from "./state.js";
import { optimError, requireAbove, requireAtLeast, requireBoolean, requireFinite } from "./validate.js";

const fround = Math.fround;

/** Options of `SGD`; the defaults are torch's. */
export interface SgdOptions {
  /** Learning rate; required, > 0. */
  lr: number;
  /** Momentum factor, >= 0. Default 0 (plain SGD, no momentum buffer). */
  momentum?: number;
  /** Dampening of the momentum: `buf = momentum·buf + (1 − dampening)·grad`. Default 0. */
  dampening?: number;
  /** L2 penalty added to the gradient (`grad + weightDecay·param`), >= 0. Default 0. */
  weightDecay?: number;
  /** Nesterov momentum; needs momentum > 0 and dampening = 0. Default false. */
  nesterov?: boolean;
}

function checkHyper(h: SgdHyper, what: string, lrRule: "> 0" | ">= 0"): void {
  if (lrRule === "> 0") requireAbove(`${what}.lr`, h.lr, 0);
  else requireAtLeast(`${what}.lr`, h.lr, 0);
  requireAtLeast(`${what}.momentum`, h.momentum, 0);
  requireFinite(`${what}.dampening`, h.dampening);
  requireAtLeast(`${what}.weightDecay`, h.weightDecay, 0);
  requireBoolean(`${what}.nesterov`, h.nesterov);
  if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
    throw optimError(
      `${what}.nesterov=true needs momentum > 0 and dampening = 0 (got momentum=${h.momentum}, dampening=${h.dampening})`,
    );
  }
}

/**
 * torch.optim.SGD for one parameter group. Per element, in float32 as torch computes it:
 * `g = grad + wd·p`; with momentum, `buf = g` on the first step, then `buf = momentum·buf + (1 − dampening)·g`,
 * and `g = nesterov ? g + momentum·buf : buf`; finally `p = p − lr·g`.
 */
export class SGD implements Optimizer {
  readonly kind = "sgd";
  readonly params: readonly Parameter[];
  #hyper: SgdHyper;
  #buffers: (Float32Array | null)[];
  #step = 0;

  constructor(params: readonly Parameter[], options: SgdOptions) {
    this.params = checkParams(params, "SGD");
    const hyper: SgdHyper = {
      lr: options.lr,
      momentum: options.momentum ?? 0,
      dampening: options.dampening ?? 0,
      weightDecay: options.weightDecay ?? 0,
      nesterov: options.nesterov ?? false,
    };
    checkHyper(hyper, "SGD", "> 0");
    this.#hyper = hyper;
    this.#buffers = this.params.map(() => null);
  }

  get lr(): number {
    return this.#hyper.lr;
  }

  set lr(value: number) {
    requireAtLeast("SGD.lr", value, 0);
    this.#hyper.lr = value;
  }

  get momentum(): number {
    return this.#hyper.momentum;
  }

  set momentum(value: number) {
    requireAtLeast("SGD.momentum", value, 0);
    this.#hyper.momentum = value;
  }

  get stepCount(): number {
    return this.#step;
  }

  step(): void {
    const { lr, momentum, dampening, weightDecay, nesterov } = this.#hyper;
    // torch converts each Python scalar to float32 where it meets a float32 tensor.
    const k = {
      negLr: fround(-lr),
      wd: fround(weightDecay),
      momentum: fround(momentum),
      keep: fround(1 - dampening),
      useDecay: weightDecay !== 0,
      useMomentum: momentum !== 0,
      nesterov,
    };
    this.params.forEach((p, i) => {
      let buffer = this.#buffers[i] ?? null;
      const first = buffer === null;
      if (k.useMomentum && buffer === null) {
        buffer = new Float32Array(p.data.length);
        this.#buffers[i] = buffer;
      }
      sgdUpdate(p.data, p.grad, k.useMomentum ? buffer : null, first, k);
    });
    this.#step++;
  }

  zeroGrad(): void {
    zeroGrads(this.params);
  }

  stateDict(): OptimizerState {
    return {
      format: OPTIMIZER_STATE_FORMAT,
      kind: "sgd",
      hyper: { ...this.#hyper },
      step: this.#step,
      params: encodeParams(this.params, { momentum_buffer: this.#buffers }),
    };
  }

  loadStateDict(state: OptimizerState): void {
    checkHeader(state, OPTIMIZER_STATE_FORMAT, "sgd", "SGD state");
    const saved = field(state, "hyper", "SGD state") as Partial<SgdHyper>;
    const hyper: SgdHyper = {
      lr: saved.lr as number,
      momentum: saved.momentum as number,
      dampening: saved.dampening as number,
      weightDecay: saved.weightDecay as number,
      nesterov: saved.nesterov as boolean,
    };
    checkHyper(hyper, "SGD state.hyper", ">= 0");
    const step = decodeStep(state, "SGD state");
    const slots = decodeParams(this.params, state, ["momentum_buffer"], "SGD state");
    const buffers = slots.momentum_buffer;
    if (!buffers) throw optimError("SGD state: momentum_buffer slot missing", BAD_STATE);
    this.#hyper = hyper;
    this.#step = step;
    this.#buffers = buffers;
  }
}

interface SgdConstants {
  negLr: number;
  wd: number;
  momentum: number;
  keep: number;
  useDecay: boolean;
  useMomentum: boolean;
  nesterov: boolean;
}

/**
 * One parameter's update. `a + s·b` with float32 operands is computed in float64 and rounded once,
 * which is what torch's vectorised fused multiply-add (`vec::fmadd`) yields; plain products and sums are
 * rounded after each operation as torch's float32 kernels do.
 */
function sgdUpdate(
  data: Float32Array,
  grad: Float32Array,
  buffer: Float32Array | null,
  first: boolean,
  k: SgdConstants,
): void {
  for (let j = 0; j < data.length; j++) {
    const p = data[j] as number;
    let g = grad[j] as number;
    if (k.useDecay) g = fround(g + k.wd * p);
    if (buffer !== null) {
      const b = first ? g : fround(fround((buffer[j] as number) * k.momentum) + k.keep * g);
      buffer[j] = b;
      g = k.nesterov ? fround(g + k.momentum * b) : b;
    }
    data[j] = p + k.negLr * g;
  }
}
