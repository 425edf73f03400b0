import type { WasmKernels } from "../../kernels/wasm-kernels.js";
import type { Tensor } from "../../tensor.js";
import { projectForward, projectInputGrad } from "../projection.js";
import {
  fusedOutputs,
  hiddenProjection,
  type RecurrentDims,
  type RecurrentParameters,
  stateOffset,
} from "./common.js";
import { addInto } from "./layout.js";
import type { LstmOptions, LstmResult } from "./lstm.js";
import { Arena, projectInputsResident, weightGradientsResident, writeTimeMajor } from "./resident.js";

type ForwardPart = "xt" | "wih" | "whh" | "bias" | "gates" | "hs" | "cs" | "tanhC" | "output";
type BackwardPart = "gOut" | "dh" | "dc" | "dBias" | "dWhh" | "dWih" | "dxt";

/**
 * {@link lstm} on the WASM SIMD kernels: the whole window's working set lives in one block of wasm
 * memory, time-major as in the portable path (docs/engine-recurrent.md). Each step is one `gemmAt`
 * (h_{t−1}·W_hhᵀ onto the step's gates) and one `lstmForwardStep`; BPTT is one `lstmBackwardStep` and
 * one `gemmAt` per step, then one `gemmAt` each for dW_hh, dW_ih and dx. Nothing is copied per step.
 * The block is freed after backward, at once under no-grad, or when the graph is dropped unused.
 */
export function lstmResident(
  kernels: WasmKernels,
  x: Tensor,
  p: RecurrentParameters,
  options: LstmOptions,
  dims: RecurrentDims,
  inputs: readonly (Tensor | undefined)[],
  save: boolean,
): LstmResult {
  const { h0, c0 } = options;
  const { batch: B, steps: T, features: F, hidden: H, gateRows: G } = dims;
  const BH = B * H;
  const slots = save ? T + 1 : 2;
  const a = new Arena<ForwardPart>(kernels, {
    xt: T * B * F,
    wih: G * F,
    whh: G * H,
    bias: G,
    gates: T * B * G,
    hs: slots * BH,
    cs: slots * BH,
    tanhC: save ? T * BH : BH,
    output: B * T * H,
  });
  writeTimeMajor(x.data, B, T, F, a.f32("xt"));
  a.f32("wih").set(p.weightIh.data);
  a.f32("whh").set(p.weightHh.data);
  const bias = a.f32("bias");
  for (let k = 0; k < G; k++) bias[k] = (p.biasIh.data[k] as number) + (p.biasHh.data[k] as number);
  if (h0 !== undefined) a.f32("hs").set(h0.data);
  else a.f32("hs", 0, BH).fill(0);
  if (c0 !== undefined) a.f32("cs").set(c0.data);
  else a.f32("cs", 0, BH).fill(0);
  const gates = a.ptr("gates");
  projectInputsResident(kernels, a, dims);
  const f = kernels.fused;
  const hs = a.ptr("hs");
  const cs = a.ptr("cs");
  const tanhC = a.ptr("tanhC");
  const whh = a.ptr("whh");
  const out = a.ptr("output");
  const stepBytes = BH * 4;
  const step = hiddenProjection(dims, B);
  for (let t = 0; t < T; t++) {
    const prev = stateOffset(save, t, stepBytes);
    const next = stateOffset(save, t + 1, stepBytes);
    const g = gates + t * B * G * 4;
    kernels.gemmAt(projectForward(step, hs + prev, whh, 1, g));
    f.lstmForwardStep(
      B,
      H,
      g,
      a.ptr("bias"),
      cs + prev,
      cs + next,
      tanhC + (save ? t * stepBytes : 0),
      hs + next,
      out + t * H * 4,
      T * H,
    );
  }
  const last = stateOffset(save, T, BH);
  const outputs = [
    { data: a.f32("output").slice(), shape: [B, T, H] },
    { data: a.f32("hs", last, BH).slice(), shape: [B, H] },
    { data: a.f32("cs", last, BH).slice(), shape: [B, H] },
  ];
  if (!save) a.free();
  const [output, h, c] = fusedOutputs("lstm", inputs, outputs, (grads) => {
    try {
      backwardResident(kernels, a, p, x, dims, grads, options);
    } finally {
      a.free();
    }
  });
  return { output: output as Tensor, h: h as Tensor, c: c as Tensor };
}

function backwardResident(
  kernels: WasmKernels,
  a: Arena<ForwardPart>,
  p: RecurrentParameters,
  x: Tensor,
  dims: RecurrentDims,
  [gOut, gH, gC]: readonly (Float32Array | null)[],
  { h0, c0 }: LstmOptions,
): void {
  const { batch: B, steps: T, features: F, hidden: H, gateRows: G } = dims;
  const BH = B * H;
  const d = new Arena<BackwardPart>(kernels, {
    gOut: gOut ? B * T * H : 0,
    dh: BH,
    dc: BH,
    dBias: 2 * G,
    dWhh: p.weightHh.requiresGrad ? G * H : 0,
    dWih: p.weightIh.requiresGrad ? G * F : 0,
    dxt: x.requiresGrad ? T * B * F : 0,
  });
  try {
    if (gOut) d.f32("gOut").set(gOut);
    if (gH) d.f32("dh").set(gH);
    else d.f32("dh").fill(0);
    if (gC) d.f32("dc").set(gC);
    else d.f32("dc").fill(0);
    d.f64("dBias").fill(0);
    const f = kernels.fused;
    const wantState = h0?.requiresGrad === true || c0?.requiresGrad === true;
    const gates = a.ptr("gates");
    const stepBytes = BH * 4;
    const dh = d.ptr("dh");
    for (let t = T - 1; t >= 0; t--) {
      const g = gates + t * B * G * 4;
      const go = gOut ? d.ptr("gOut") + t * H * 4 : 0;
      f.lstmBackwardStep(
        B,
        H,
        g,
        a.ptr("cs") + t * stepBytes,
        a.ptr("tanhC") + t * stepBytes,
        dh,
        d.ptr("dc"),
        d.ptr("dBias"),
        go,
        T * H,
      );
      if (t === 0 && !wantState) break;
      kernels.gemmAt(projectInputGrad(hiddenProjection(dims, B), g, a.ptr("whh"), 0, dh));
    }
    if (h0?.requiresGrad) addInto(h0.gradBuffer(), d.f32("dh"));
    if (c0?.requiresGrad) addInto(c0.gradBuffer(), d.f32("dc"));
    weightGradientsResident(kernels, a, d, p, x, dims, gates, gates, () => {
      const dBias = d.f64("dBias");
      return [dBias, dBias];
    });
  } finally {
    d.free();
  }
}
