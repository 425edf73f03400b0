import { gemm } from "../../kernels/gemm.js";
import { needsGrad, type Tensor } from "../../tensor.js";
import { projectForward, projectInputGrad } from "../projection.js";
import { sigmoidOfSum, tanhOf } from "./activations.js";
import {
  fusedOutputs,
  hiddenProjection,
  projectInputs,
  type RecurrentParameters,
  recurrentDims,
  stateOffset,
  type WindowOperands,
  weightGradients,
} from "./common.js";
import { gruResident } from "./gru-wasm.js";
import { addInto, addStep, toTimeMajor } from "./layout.js";
import { residentKernels } from "./resident.js";

export interface GruOptions {
  /** Initial hidden state [B, H] (default zeros). */
  h0?: Tensor;
}

export interface GruResult {
  /** Hidden state at every step, [B, T, H]. */
  output: Tensor;
  /** Hidden state after the last step, [B, H]. */
  h: Tensor;
}

/** What one forward pass keeps, time-major; without a graph the per-step arrays hold one or two slots. */
interface GruWindow extends WindowOperands {
  save: boolean;
  /** b_ir + b_hr, b_iz + b_hz [2H]: r and z see the two biases only as a sum. */
  biasRz: Float32Array;
  /** b_in [H] and b_hn [H], which stay apart: r multiplies only the hidden side. */
  biasIn: Float32Array;
  biasHn: Float32Array;
  /** [T, B, 3H]: x·W_ihᵀ, then the activations r, z, n; BPTT turns them into input-side gradients. */
  gates: Float32Array;
  /** [T, B, 3H]: h_{t−1}·W_hhᵀ, the n block completed with b_hn; BPTT: hidden-side gradients. */
  hidden: Float32Array;
  /** The output sequence [B, T, H], written as the steps go. */
  output: Float32Array;
}

/**
 * One GRU layer over a whole window, as PyTorch's `nn.GRU(batch_first=True)` (gate order r, z, n):
 * `r, z = σ(W_i· x_t + b_i· + W_h· h_{t−1} + b_h·)`, `n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t−1} + b_hn))`,
 * `h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}`. x is [B, T, F]; weights are [3H, F], [3H, H], [3H], [3H].
 *
 * One graph node for the whole window, like {@link lstm}: one GEMM for all input projections, one
 * GEMM plus a fused gate loop per step forward and backward, one GEMM each for dW_ih, dW_hh and dx.
 * Layout and costs: docs/engine-recurrent.md.
 */
export function gru(x: Tensor, p: RecurrentParameters, options: GruOptions = {}): GruResult {
  const { h0 } = options;
  const dims = recurrentDims("gru", 3, x, p, { h0 });
  const { batch: B, steps: T, features: F, hidden: H, gateRows: G } = dims;
  const inputs = [x, p.weightIh, p.weightHh, p.biasIh, p.biasHh, h0];
  const save = needsGrad(...inputs);
  const kernels = residentKernels();
  if (kernels !== undefined) return gruResident(kernels, x, p, options, dims, inputs, save);
  const BH = B * H;
  const xt = toTimeMajor(x.data, B, T, F);
  const w: GruWindow = {
    dims,
    save,
    xt,
    biasRz: p.biasIh.data.slice(0, 2 * H).map((v, k) => v + (p.biasHh.data[k] as number)),
    biasIn: p.biasIh.data.subarray(2 * H),
    biasHn: p.biasHh.data.subarray(2 * H),
    gates: projectInputs(xt, p.weightIh.data, dims),
    hidden: new Float32Array(save ? T * B * G : B * G),
    hs: new Float32Array((save ? T + 1 : 2) * BH),
    output: new Float32Array(B * T * H),
  };
  if (h0 !== undefined) w.hs.set(h0.data);
  for (let t = 0; t < T; t++) forwardStep(w, p.weightHh.data, t);
  const last = stateOffset(save, T, BH);
  const outputs = [
    { data: w.output, shape: [B, T, H] },
    { data: w.hs.slice(last, last + BH), shape: [B, H] },
  ];
  const [output, h] = fusedOutputs("gru", inputs, outputs, (grads) => backwardWindow(w, p, x, grads, h0));
  return { output: output as Tensor, h: h as Tensor };
}

/** Step t forward: one GEMM h_{t−1}·W_hhᵀ into its own block, then the fused gate loop. */
function forwardStep(w: GruWindow, weightHh: Float32Array, t: number): void {
  const { batch: B, steps: T, hidden: H, gateRows: G } = w.dims;
  const { gates: g, hidden: hid, hs, output, biasIn, biasHn } = w;
  const BH = B * H;
  const prev = stateOffset(w.save, t, BH);
  const next = stateOffset(w.save, t + 1, BH);
  const hOff = w.save ? t * B * G : 0;
  gemm({
    ...projectForward(hiddenProjection(w.dims, B), hs, weightHh, 0, hid),
    aOffset: prev,
    cOffset: hOff,
  });
  for (let b = 0; b < B; b++) {
    const row = (t * B + b) * G;
    const hrow = hOff + b * G;
    sigmoidOfSum(g, row, hid, hrow, 2 * H, w.biasRz);
    const s = b * H;
    const out = (b * T + t) * H;
    for (let j = 0; j < H; j++) {
      const z = g[row + H + j] as number;
      const hn = (hid[hrow + 2 * H + j] as number) + (biasHn[j] as number);
      const n = tanhOf((g[row + 2 * H + j] as number) + (biasIn[j] as number) + (g[row + j] as number) * hn);
      g[row + 2 * H + j] = n;
      hid[hrow + 2 * H + j] = hn;
      const h = (1 - z) * n + z * (hs[prev + s + j] as number);
      hs[next + s + j] = h;
      output[out + j] = h;
    }
  }
}

/**
 * BPTT as in lstm(): dh carries dL/dh_t back through time; each step turns `gates` into the input
 * side's pre-activation gradients and `hidden` into the hidden side's (they differ in the n block by
 * the factor r), summing the bias gradients as it goes; then the GEMMs over all steps.
 */
function backwardWindow(
  w: GruWindow,
  p: RecurrentParameters,
  x: Tensor,
  [gOut, gH]: readonly (Float32Array | null)[],
  h0: Tensor | undefined,
): void {
  const { batch: B, steps: T, hidden: H, gateRows: G } = w.dims;
  const dh = new Float32Array(B * H);
  const dbIh = new Float64Array(G);
  const dbHn = new Float64Array(H);
  if (gH) dh.set(gH);
  for (let t = T - 1; t >= 0; t--) {
    if (gOut) addStep(gOut, t, B, T, H, dh);
    backwardStep(w, t, dh, dbIh, dbHn);
    if (t === 0 && h0?.requiresGrad !== true) break;
    // dL/dh_{t−1} += dA_h,t · W_hh, onto the direct path dh·z the step left in dh.
    const step = hiddenProjection(w.dims, B);
    gemm({ ...projectInputGrad(step, w.hidden, p.weightHh.data, 1, dh), aOffset: t * B * G });
  }
  if (h0?.requiresGrad) addInto(h0.gradBuffer(), dh);
  const dbHh = Float64Array.from(dbIh);
  dbHh.set(dbHn, 2 * H);
  weightGradients(p, x, w, w.gates, w.hidden, dbIh, dbHh);
}

/**
 * Step t back, in place: with dh = dL/dh_t, r, z, n in `gates` become [dr, dz, dn] (pre-activation
 * gradients), `hidden` becomes [dr, dz, r·dn], the bias sums grow, and dh keeps only dh·z.
 */
function backwardStep(
  w: GruWindow,
  t: number,
  dh: Float32Array,
  dbIh: Float64Array,
  dbHn: Float64Array,
): void {
  const { batch: B, hidden: H, gateRows: G } = w.dims;
  const { gates: g, hidden: hid, hs } = w;
  for (let b = 0; b < B; b++) {
    const row = (t * B + b) * G;
    const s = b * H;
    const prev = t * B * H + s;
    for (let j = 0; j < H; j++) {
      const ri = row + j;
      const r = g[ri] as number;
      const z = g[ri + H] as number;
      const n = g[ri + 2 * H] as number;
      const dhv = dh[s + j] as number;
      const dn = dhv * (1 - z) * (1 - n * n);
      const dr = dn * (hid[ri + 2 * H] as number) * r * (1 - r);
      const dz = dhv * ((hs[prev + j] as number) - n) * z * (1 - z);
      g[ri] = dr;
      g[ri + H] = dz;
      g[ri + 2 * H] = dn;
      hid[ri] = dr;
      hid[ri + H] = dz;
      hid[ri + 2 * H] = dn * r;
      dbIh[j] = (dbIh[j] as number) + dr;
      dbIh[j + H] = (dbIh[j + H] as number) + dz;
      dbIh[j + 2 * H] = (dbIh[j + 2 * H] as number) + dn;
      dbHn[j] = (dbHn[j] as number) + dn * r;
      dh[s + j] = dhv * z;
    }
  }
}
