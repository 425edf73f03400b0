import { gemm } from "../../kernels/gemm.js";
import { needsGrad, type Tensor } from "../../tensor.js";
import { projectForward, projectInputGrad } from "../projection.js";
import { sigmoidBiased, tanhBiased, tanhOf } from "./activations.js";
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
import { addInto, addStep, toTimeMajor } from "./layout.js";
import { lstmResident } from "./lstm-wasm.js";
import { residentKernels } from "./resident.js";

export interface LstmOptions {
  /** Initial hidden state [B, H] (default zeros). */
  h0?: Tensor;
  /** Initial cell state [B, H] (default zeros). */
  c0?: Tensor;
}

export interface LstmResult {
  /** Hidden state at every step, [B, T, H]. */
  output: Tensor;
  /** Hidden state after the last step, [B, H]. */
  h: Tensor;
  /** Cell state after the last step, [B, H]. */
  c: Tensor;
}

/**
 * What one forward pass keeps, time-major (each step's [B, ·] block contiguous). Without a graph
 * (`save` false) the state arrays hold two alternating slots and tanhC one, so nothing grows with T.
 */
interface LstmWindow extends WindowOperands {
  save: boolean;
  /** b_ih + b_hh [4H], added in the gate loop. */
  bias: Float32Array;
  /** [T, B, 4H]: x·W_ihᵀ, + h_{t−1}·W_hhᵀ, then the activations i, f, g, o; BPTT turns them into gradients. */
  gates: Float32Array;
  /** c_0 … c_T, [T+1, B, H]. */
  cs: Float32Array;
  /** tanh(c_1) … tanh(c_T), [T, B, H]. */
  tanhC: Float32Array;
  /** The output sequence [B, T, H], written as the steps go. */
  output: Float32Array;
}

/**
 * One LSTM layer over a whole window, as PyTorch's `nn.LSTM(batch_first=True)` (gate order i, f, g, o):
 * `i, f, o = σ(·)`, `g = tanh(·)` of `W_ih x_t + b_ih + W_hh h_{t−1} + b_hh`; `c_t = f ⊙ c_{t−1} + i ⊙ g`;
 * `h_t = o ⊙ tanh(c_t)`. x is [B, T, F]; weights are [4H, F], [4H, H], [4H], [4H].
 *
 * The whole window is one graph node: the forward is one GEMM for every step's input projection plus
 * one GEMM and one fused gate loop per step; the backward (BPTT) is one GEMM and one fused loop per
 * step plus one GEMM each for dW_ih, dW_hh and dx over all steps. Gradients may enter through
 * `output`, `h` and `c` together. Stack layers by calling again on `output`. Layout and costs:
 * docs/engine-recurrent.md.
 */
export function lstm(x: Tensor, p: RecurrentParameters, options: LstmOptions = {}): LstmResult {
  const { h0, c0 } = options;
  const dims = recurrentDims("lstm", 4, x, p, { h0, c0 });
  const { batch: B, steps: T, features: F, hidden: H } = dims;
  const inputs = [x, p.weightIh, p.weightHh, p.biasIh, p.biasHh, h0, c0];
  const save = needsGrad(...inputs);
  const kernels = residentKernels();
  if (kernels !== undefined) return lstmResident(kernels, x, p, options, dims, inputs, save);
  const BH = B * H;
  const slots = save ? T + 1 : 2;
  const xt = toTimeMajor(x.data, B, T, F);
  const w: LstmWindow = {
    dims,
    save,
    xt,
    bias: p.biasIh.data.map((v, k) => v + (p.biasHh.data[k] as number)),
    gates: projectInputs(xt, p.weightIh.data, dims),
    hs: new Float32Array(slots * BH),
    cs: new Float32Array(slots * BH),
    tanhC: new Float32Array(save ? T * BH : BH),
    output: new Float32Array(B * T * H),
  };
  if (h0 !== undefined) w.hs.set(h0.data);
  if (c0 !== undefined) w.cs.set(c0.data);
  for (let t = 0; t < T; t++) forwardStep(w, p.weightHh.data, t);
  const last = stateOffset(save, T, BH);
  const outputs = [
    { data: w.output, shape: [B, T, H] },
    { data: w.hs.slice(last, last + BH), shape: [B, H] },
    { data: w.cs.slice(last, last + BH), shape: [B, H] },
  ];
  const [output, h, c] = fusedOutputs("lstm", inputs, outputs, (grads) =>
    backwardWindow(w, p, x, grads, options),
  );
  return { output: output as Tensor, h: h as Tensor, c: c as Tensor };
}

/** Step t forward: one GEMM h_{t−1}·W_hhᵀ onto the step's input projection, then the fused gate loop. */
function forwardStep(w: LstmWindow, weightHh: Float32Array, t: number): void {
  const { batch: B, steps: T, hidden: H, gateRows: G } = w.dims;
  const { gates: g, bias, hs, cs, tanhC, output } = w;
  const BH = B * H;
  const prev = stateOffset(w.save, t, BH);
  const next = stateOffset(w.save, t + 1, BH);
  const tcOff = w.save ? t * BH : 0;
  gemm({
    ...projectForward(hiddenProjection(w.dims, B), hs, weightHh, 1, g),
    aOffset: prev,
    cOffset: t * B * G,
  });
  for (let b = 0; b < B; b++) {
    const row = (t * B + b) * G;
    sigmoidBiased(g, row, 2 * H, bias, 0);
    tanhBiased(g, row + 2 * H, H, bias, 2 * H);
    sigmoidBiased(g, row + 3 * H, H, bias, 3 * H);
    const s = b * H;
    const out = (b * T + t) * H;
    for (let j = 0; j < H; j++) {
      const c =
        (g[row + H + j] as number) * (cs[prev + s + j] as number) +
        (g[row + j] as number) * (g[row + 2 * H + j] as number);
      cs[next + s + j] = c;
      const tc = tanhOf(c);
      tanhC[tcOff + s + j] = tc;
      const h = (g[row + 3 * H + j] as number) * tc;
      hs[next + s + j] = h;
      output[out + j] = h;
    }
  }
}

/**
 * BPTT over the window. dh and dc carry dL/dh_t and dL/dc_t back through time (seeded from the
 * gradients of h and c, with the output's step t added as the loop reaches it); each step turns its
 * gate activations into pre-activation gradients in place and sums them into the bias gradient;
 * the GEMMs over all steps then take dW_ih, dW_hh and dx from them.
 */
function backwardWindow(
  w: LstmWindow,
  p: RecurrentParameters,
  x: Tensor,
  [gOut, gH, gC]: readonly (Float32Array | null)[],
  { h0, c0 }: LstmOptions,
): void {
  const { batch: B, steps: T, hidden: H, gateRows: G } = w.dims;
  const dh = new Float32Array(B * H);
  const dc = new Float32Array(B * H);
  const dBias = new Float64Array(G);
  if (gH) dh.set(gH);
  if (gC) dc.set(gC);
  const wantState = h0?.requiresGrad === true || c0?.requiresGrad === true;
  for (let t = T - 1; t >= 0; t--) {
    if (gOut) addStep(gOut, t, B, T, H, dh);
    backwardStep(w, t, dh, dc, dBias);
    if (t === 0 && !wantState) break;
    // dL/dh_{t−1} = dA_t · W_hh; the direct path of c was left in dc by the step.
    const step = hiddenProjection(w.dims, B);
    gemm({ ...projectInputGrad(step, w.gates, p.weightHh.data, 0, dh), aOffset: t * B * G });
  }
  if (h0?.requiresGrad) addInto(h0.gradBuffer(), dh);
  if (c0?.requiresGrad) addInto(c0.gradBuffer(), dc);
  weightGradients(p, x, w, w.gates, w.gates, dBias, dBias);
}

/**
 * Step t back: with dh = dL/dh_t and dc = dL/dc_t, overwrites the activations i, f, g, o with the
 * pre-activation gradients, adds them into dBias, and leaves dL/dc_{t−1} = dc·f in dc.
 */
function backwardStep(
  w: LstmWindow,
  t: number,
  dh: Float32Array,
  dc: Float32Array,
  dBias: Float64Array,
): void {
  const { batch: B, hidden: H, gateRows: G } = w.dims;
  const { gates: g, cs, tanhC } = w;
  const BH = B * H;
  for (let b = 0; b < B; b++) {
    const row = (t * B + b) * G;
    const s = b * H;
    const cPrev = t * BH + s;
    const tcOff = t * BH + s;
    for (let j = 0; j < H; j++) {
      const ri = row + j;
      const i = g[ri] as number;
      const f = g[ri + H] as number;
      const gg = g[ri + 2 * H] as number;
      const o = g[ri + 3 * H] as number;
      const tc = tanhC[tcOff + j] as number;
      const dhv = dh[s + j] as number;
      const dcv = (dc[s + j] as number) + dhv * o * (1 - tc * tc);
      const di = dcv * gg * i * (1 - i);
      const df = dcv * (cs[cPrev + j] as number) * f * (1 - f);
      const dg = dcv * i * (1 - gg * gg);
      const dO = dhv * tc * o * (1 - o);
      g[ri] = di;
      g[ri + H] = df;
      g[ri + 2 * H] = dg;
      g[ri + 3 * H] = dO;
      dBias[j] = (dBias[j] as number) + di;
      dBias[j + H] = (dBias[j + H] as number) + df;
      dBias[j + 2 * H] = (dBias[j + 2 * H] as number) + dg;
      dBias[j + 3 * H] = (dBias[j + 3 * H] as number) + dO;
      dc[s + j] = dcv * f;
    }
  }
}
