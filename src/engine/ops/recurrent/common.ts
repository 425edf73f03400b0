import { CryptomlError } from "../../../core/errors.js";
import { gemm } from "../../kernels/gemm.js";
import { needsGrad, Tensor } from "../../tensor.js";
import { addInto, addToBatchMajor } from "./layout.js";

/**
 * The weights of one recurrent layer, in PyTorch's layout (`weight_ih_l0` and friends): the gate
 * blocks are stacked along the first dimension, `G = gates · H` rows.
 */
export interface RecurrentParameters {
  /** [G, F]: input-to-gates weights. */
  weightIh: Tensor;
  /** [G, H]: hidden-to-gates weights. */
  weightHh: Tensor;
  /** [G]: input-side bias. */
  biasIh: Tensor;
  /** [G]: hidden-side bias. */
  biasHh: Tensor;
}

/** The sizes of one call: batch B, steps T, features F, hidden H and G = gates · H. */
export interface RecurrentDims {
  batch: number;
  steps: number;
  features: number;
  hidden: number;
  gateRows: number;
}

const shapeText = (t: Tensor) => `[${t.shape.join(", ")}]`;

function expectShape(op: string, name: string, t: Tensor, want: readonly number[], rule: string): void {
  if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new CryptomlError(
      "INTERNAL",
      `${op}: ${name} has shape ${shapeText(t)} but must be [${want.join(", ")}] (${rule})`,
    );
  }
}

/**
 * Checks every shape of a call once, up front, and returns the sizes. H is read from weightHh's
 * second dimension; everything else must agree with it and with x.
 */
export function recurrentDims(
  op: string,
  gates: number,
  x: Tensor,
  p: RecurrentParameters,
  states: Readonly<Record<string, Tensor | undefined>>,
): RecurrentDims {
  const [batch, steps, features] = x.shape as [number, number, number];
  if (x.shape.length !== 3 || batch < 1 || steps < 1 || features < 1) {
    throw new CryptomlError("INTERNAL", `${op}: x has shape ${shapeText(x)} but must be [B, T, F], all ≥ 1`);
  }
  const hidden = p.weightHh.shape[1] ?? 0;
  if (p.weightHh.shape.length !== 2 || hidden < 1) {
    throw new CryptomlError(
      "INTERNAL",
      `${op}: weightHh has shape ${shapeText(p.weightHh)} but must be [G, H]`,
    );
  }
  const gateRows = gates * hidden;
  const g = `${gates}·H with H = ${hidden} from weightHh`;
  expectShape(op, "weightHh", p.weightHh, [gateRows, hidden], `[${gates}·H, H]`);
  expectShape(
    op,
    "weightIh",
    p.weightIh,
    [gateRows, features],
    `[${gates}·H, F] with F = ${features} from x`,
  );
  expectShape(op, "biasIh", p.biasIh, [gateRows], g);
  expectShape(op, "biasHh", p.biasHh, [gateRows], g);
  for (const [name, state] of Object.entries(states)) {
    if (state !== undefined) expectShape(op, name, state, [batch, hidden], "[B, H]");
  }
  return { batch, steps, features, hidden, gateRows };
}

/** One output of a fused node: its values and shape. */
export interface FusedOutput {
  data: Float32Array;
  shape: readonly number[];
}

/**
 * Makes several outputs that share ONE graph node (a whole recurrent window). The node itself holds
 * no values; each output is a child of it, and the node's backward reads the outputs' gradients
 * (null for an output nothing used) once every consumer has added into them — reverse topological
 * order guarantees that. The backward consumes the forward caches, so it may run once: a second
 * run throws rather than return silently wrong gradients.
 */
export function fusedOutputs(
  op: string,
  inputs: readonly (Tensor | undefined)[],
  outputs: readonly FusedOutput[],
  backward: (grads: readonly (Float32Array | null)[]) => void,
): Tensor[] {
  const parents = inputs.filter((t): t is Tensor => t !== undefined);
  if (!needsGrad(...parents)) return outputs.map((o) => new Tensor(o.data, o.shape));
  let done = false;
  const node = new Tensor(new Float32Array(0), [0], {
    requiresGrad: true,
    parents,
    backwardFn: () => {
      if (done) {
        throw new CryptomlError("INTERNAL", `${op}: backward ran twice through the same forward pass`, {
          hint: "its caches are consumed by the first backward; run the forward pass again",
        });
      }
      done = true;
      backward(tensors.map((t) => t.grad));
    },
  });
  const tensors = outputs.map((o) => new Tensor(o.data, o.shape, { requiresGrad: true, parents: [node] }));
  return tensors;
}

/** The sizes and time-major operands the weight gradients need. */
export interface WindowOperands {
  dims: RecurrentDims;
  /** x as [T·B, F]. */
  xt: Float32Array;
  /** h_0 … h_T as [T+1, B, H]; the first T·B rows pair with the steps. */
  hs: Float32Array;
}

/**
 * The gradients that need every step at once, each one GEMM over all T·B rows: dW_ih = dIᵀ·x,
 * dW_hh = dHᵀ·h_{t−1}, dx = dI·W_ih (time-major, added back into x's layout); plus the bias gradients
 * summed during BPTT. dI and dH are the gate pre-activation gradients [T·B, G] on the input and on the
 * hidden side (the same array for LSTM; GRU's n gate differs by the factor r).
 */
export function weightGradients(
  p: RecurrentParameters,
  x: Tensor,
  w: WindowOperands,
  dI: Float32Array,
  dH: Float32Array,
  dbIh: Float64Array,
  dbHh: Float64Array,
): void {
  const { batch: B, steps: T, features: F, hidden: H, gateRows: G } = w.dims;
  const rows = T * B;
  if (p.weightHh.requiresGrad) {
    const c = p.weightHh.gradBuffer();
    gemm({ transA: true, transB: false, m: G, n: H, k: rows, alpha: 1, a: dH, b: w.hs, beta: 1, c });
  }
  if (p.weightIh.requiresGrad) {
    const c = p.weightIh.gradBuffer();
    gemm({ transA: true, transB: false, m: G, n: F, k: rows, alpha: 1, a: dI, b: w.xt, beta: 1, c });
  }
  if (p.biasIh.requiresGrad) addInto(p.biasIh.gradBuffer(), dbIh);
  if (p.biasHh.requiresGrad) addInto(p.biasHh.gradBuffer(), dbHh);
  if (x.requiresGrad) {
    const dxt = new Float32Array(rows * F);
    gemm({
      transA: false,
      transB: false,
      m: rows,
      n: F,
      k: G,
      alpha: 1,
      a: dI,
      b: p.weightIh.data,
      beta: 0,
      c: dxt,
    });
    addToBatchMajor(dxt, B, T, F, x.gradBuffer());
  }
}
