import { CryptomlError } from "../../../core/errors.js";
import { gemm } from "../../kernels/gemm.js";
import { needsGrad, Tensor } from "../../tensor.js";
import { type ProjectionShape, projectForward, projectInputGrad, projectWeightGrad } from "../projection.js";
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

/** x·W_ihᵀ over the whole window: T·B rows of F features onto G gate rows. */
export function inputProjection(d: RecurrentDims): ProjectionShape {
  return { rows: d.steps * d.batch, inputs: d.features, outputs: d.gateRows };
}

/** h·W_hhᵀ: `rows` rows of H hidden values onto G gate rows (B for one step, T·B for all). */
export function hiddenProjection(d: RecurrentDims, rows: number): ProjectionShape {
  return { rows, inputs: d.hidden, outputs: d.gateRows };
}

/**
 * Where step t's state starts in a state array of `size`-long slots: slot t when the forward pass saves
 * every step, else one of two alternating slots.
 */
export function stateOffset(save: boolean, t: number, size: number): number {
  return (save ? t : t & 1) * size;
}

/** The input side of every step's gates at once, x·W_ihᵀ as [T·B, G], from time-major x [T·B, F]. */
export function projectInputs(xt: Float32Array, weightIh: Float32Array, d: RecurrentDims): Float32Array {
  const gates = new Float32Array(d.steps * d.batch * d.gateRows);
  gemm(projectForward(inputProjection(d), xt, weightIh, 0, gates));
  return gates;
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
  const { batch: B, steps: T, features: F } = w.dims;
  const inputs = inputProjection(w.dims);
  if (p.weightHh.requiresGrad) {
    gemm(projectWeightGrad(hiddenProjection(w.dims, T * B), dH, w.hs, 1, p.weightHh.gradBuffer()));
  }
  if (p.weightIh.requiresGrad) gemm(projectWeightGrad(inputs, dI, w.xt, 1, p.weightIh.gradBuffer()));
  if (p.biasIh.requiresGrad) addInto(p.biasIh.gradBuffer(), dbIh);
  if (p.biasHh.requiresGrad) addInto(p.biasHh.gradBuffer(), dbHh);
  if (x.requiresGrad) {
    const dxt = new Float32Array(T * B * F);
    gemm(projectInputGrad(inputs, dI, p.weightIh.data, 0, dxt));
    addToBatchMajor(dxt, B, T, F, x.gradBuffer());
  }
}
