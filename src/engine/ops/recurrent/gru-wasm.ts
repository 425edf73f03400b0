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
import type { GruOptions, GruResult } from "./gru.js";
import { addInto } from "./layout.js";
import { Arena, projectInputsResident, weightGradientsResident, writeTimeMajor } from "./resident.js";

type ForwardPart =
  | "xt"
  | "wih"
  | "whh"
  | "biasRz"
  | "biasIn"
  | "biasHn"
  | "gates"
  | "hidden"
  | "hs"
  | "output";
type BackwardPart = "gOut" | "dh" | "dbIh" | "dbHn" | "dWhh" | "dWih" | "dxt";

/**
 * {@link gru} on the WASM SIMD kernels, with the whole window resident in wasm memory as in
 * {@link lstmResident}: per step one `gemmAt` (h_{t−1}·W_hhᵀ into the step's `hidden` block) and one
 * `gruForwardStep`; BPTT one `gruBackwardStep` and one `gemmAt` per step, then one each for dW_hh,
 * dW_ih and dx.
 */
export function gruResident(
  kernels: WasmKernels,
  x: Tensor,
  p: RecurrentParameters,
  options: GruOptions,
  dims: RecurrentDims,
  inputs: readonly (Tensor | undefined)[],
  save: boolean,
): GruResult {
  const { h0 } = options;
  const { batch: B, steps: T, features: F, hidden: H, gateRows: G } = dims;
  const BH = B * H;
  const a = new Arena<ForwardPart>(kernels, {
    xt: T * B * F,
    wih: G * F,
    whh: G * H,
    biasRz: 2 * H,
    biasIn: H,
    biasHn: H,
    gates: T * B * G,
    hidden: save ? T * B * G : B * G,
    hs: (save ? T + 1 : 2) * BH,
    output: B * T * H,
  });
  writeTimeMajor(x.data, B, T, F, a.f32("xt"));
  a.f32("wih").set(p.weightIh.data);
  a.f32("whh").set(p.weightHh.data);
  const biasRz = a.f32("biasRz");
  for (let k = 0; k < 2 * H; k++) biasRz[k] = (p.biasIh.data[k] as number) + (p.biasHh.data[k] as number);
  a.f32("biasIn").set(p.biasIh.data.subarray(2 * H));
  a.f32("biasHn").set(p.biasHh.data.subarray(2 * H));
  if (h0 !== undefined) a.f32("hs").set(h0.data);
  else a.f32("hs", 0, BH).fill(0);
  const gates = a.ptr("gates");
  projectInputsResident(kernels, a, dims);
  const f = kernels.fused;
  const hs = a.ptr("hs");
  const hidden = a.ptr("hidden");
  const whh = a.ptr("whh");
  const out = a.ptr("output");
  const stepBytes = BH * 4;
  const step = hiddenProjection(dims, B);
  for (let t = 0; t < T; t++) {
    const prev = stateOffset(save, t, stepBytes);
    const next = stateOffset(save, t + 1, stepBytes);
    const hid = hidden + (save ? t * B * G * 4 : 0);
    const g = gates + t * B * G * 4;
    kernels.gemmAt(projectForward(step, hs + prev, whh, 0, hid));
    f.gruForwardStep(
      B,
      H,
      g,
      hid,
      a.ptr("biasRz"),
      a.ptr("biasIn"),
      a.ptr("biasHn"),
      hs + prev,
      hs + next,
      out + t * H * 4,
      T * H,
    );
  }
  const last = stateOffset(save, T, BH);
  const outputs = [
    { data: a.f32("output").slice(), shape: [B, T, H] },
    { data: a.f32("hs", last, BH).slice(), shape: [B, H] },
  ];
  if (!save) a.free();
  const [output, h] = fusedOutputs("gru", inputs, outputs, (grads) => {
    try {
      backwardResident(kernels, a, p, x, dims, grads, h0);
    } finally {
      a.free();
    }
  });
  return { output: output as Tensor, h: h as Tensor };
}

function backwardResident(
  kernels: WasmKernels,
  a: Arena<ForwardPart>,
  p: RecurrentParameters,
  x: Tensor,
  dims: RecurrentDims,
  [gOut, gH]: readonly (Float32Array | null)[],
  h0: Tensor | undefined,
): void {
  const { batch: B, steps: T, features: F, hidden: H, gateRows: G } = dims;
  const BH = B * H;
  const d = new Arena<BackwardPart>(kernels, {
    gOut: gOut ? B * T * H : 0,
    dh: BH,
    dbIh: 2 * G,
    dbHn: 2 * H,
    dWhh: p.weightHh.requiresGrad ? G * H : 0,
    dWih: p.weightIh.requiresGrad ? G * F : 0,
    dxt: x.requiresGrad ? T * B * F : 0,
  });
  try {
    if (gOut) d.f32("gOut").set(gOut);
    if (gH) d.f32("dh").set(gH);
    else d.f32("dh").fill(0);
    d.f64("dbIh").fill(0);
    d.f64("dbHn").fill(0);
    const f = kernels.fused;
    const gates = a.ptr("gates");
    const hidden = a.ptr("hidden");
    const stepBytes = BH * 4;
    const dh = d.ptr("dh");
    for (let t = T - 1; t >= 0; t--) {
      const off = t * B * G * 4;
      const go = gOut ? d.ptr("gOut") + t * H * 4 : 0;
      f.gruBackwardStep(
        B,
        H,
        gates + off,
        hidden + off,
        a.ptr("hs") + t * stepBytes,
        dh,
        d.ptr("dbIh"),
        d.ptr("dbHn"),
        go,
        T * H,
      );
      if (t === 0 && h0?.requiresGrad !== true) break;
      kernels.gemmAt(projectInputGrad(hiddenProjection(dims, B), hidden + off, a.ptr("whh"), 1, dh));
    }
    if (h0?.requiresGrad) addInto(h0.gradBuffer(), d.f32("dh"));
    weightGradientsResident(kernels, a, d, p, x, dims, gates, hidden, () => {
      const dbIh = d.f64("dbIh");
      const dbHh = Float64Array.from(dbIh);
      dbHh.set(d.f64("dbHn"), 2 * H);
      return [dbIh, dbHh];
    });
  } finally {
    d.free();
  }
}
