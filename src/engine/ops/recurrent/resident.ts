import { activeKernels } from "../../kernels/kernel-select.js";
import type { WasmKernels } from "../../kernels/wasm-kernels.js";
import type { WasmF32 } from "../../kernels/wasm-region.js";
import type { Tensor } from "../../tensor.js";
import { projectForward, projectInputGrad, projectWeightGrad } from "../projection.js";
import { hiddenProjection, inputProjection, type RecurrentDims, type RecurrentParameters } from "./common.js";
import { addInto, addToBatchMajor } from "./layout.js";

/**
 * The WASM instance the fused recurrent kernels run on, or undefined when the portable TypeScript path
 * must run (`CRYPTOML_KERNELS=portable`, no SIMD, or no module).
 */
export function residentKernels(): WasmKernels | undefined {
  return activeKernels().wasm;
}

/** Frees the region of a window that was dropped without running its backward pass. */
const orphans = new FinalizationRegistry<WasmF32>((region) => region.free());

/**
 * One block of wasm memory carved into named float32 parts, each 64-byte aligned. Addresses are
 * stable; views are taken afresh on every read (an allocation elsewhere may grow the memory). An arena
 * that becomes garbage before {@link free} (a graph dropped without its backward pass) gives its block
 * back then, through a FinalizationRegistry.
 */
export class Arena<K extends string> {
  private readonly region: WasmF32;
  private readonly offsets: Record<K, number>;
  private readonly lengths: Record<K, number>;

  constructor(
    readonly kernels: WasmKernels,
    parts: Readonly<Record<K, number>>,
  ) {
    const offsets = {} as Record<K, number>;
    let at = 0;
    for (const name of Object.keys(parts) as K[]) {
      offsets[name] = at;
      at += Math.ceil(parts[name] / 16) * 16;
    }
    this.offsets = offsets;
    this.lengths = { ...parts };
    this.region = kernels.alloc(at);
    orphans.register(this, this.region, this);
  }

  /** Byte address of a part. */
  ptr(name: K): number {
    return this.region.ptr + this.offsets[name] * 4;
  }

  /** A float32 view of a part (valid until the memory next grows). */
  f32(name: K, from = 0, length = this.lengths[name] - from): Float32Array {
    return this.region.view.subarray(this.offsets[name] + from, this.offsets[name] + from + length);
  }

  /** A float64 view of a part sized in float32 units (2 per double). */
  f64(name: K): Float64Array {
    return new Float64Array(this.kernels.memory.buffer, this.ptr(name), this.lengths[name] >> 1);
  }

  free(): void {
    orphans.unregister(this);
    this.region.free();
  }
}

/** Writes [B, T, W] batch-major data into a time-major [T, B, W] view. */
export function writeTimeMajor(
  src: Float32Array,
  batch: number,
  steps: number,
  width: number,
  out: Float32Array,
): void {
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const from = (b * steps + t) * width;
      out.set(src.subarray(from, from + width), (t * batch + b) * width);
    }
  }
}

/** x·W_ihᵀ for every step at once, from the resident time-major x into the gates part (beta 0). */
export function projectInputsResident(
  kernels: WasmKernels,
  a: Arena<"xt" | "wih" | "gates">,
  dims: RecurrentDims,
): void {
  kernels.gemmAt(projectForward(inputProjection(dims), a.ptr("xt"), a.ptr("wih"), 0, a.ptr("gates")));
}

/**
 * The resident counterpart of `weightGradients`: dW_hh = dHᵀ·h_{t−1}, dW_ih = dIᵀ·x and dx = dI·W_ih,
 * each one `gemmAt` over all T·B rows into its part of `d`, then added into the gradients; the bias
 * gradients come from `biasGrads`, read after the GEMMs.
 */
export function weightGradientsResident(
  kernels: WasmKernels,
  a: Arena<"xt" | "wih" | "hs">,
  d: Arena<"dWhh" | "dWih" | "dxt">,
  p: RecurrentParameters,
  x: Tensor,
  dims: RecurrentDims,
  dI: number,
  dH: number,
  biasGrads: () => readonly [Float64Array, Float64Array],
): void {
  const { batch: B, steps: T, features: F } = dims;
  const inputs = inputProjection(dims);
  if (p.weightHh.requiresGrad) {
    kernels.gemmAt(projectWeightGrad(hiddenProjection(dims, T * B), dH, a.ptr("hs"), 0, d.ptr("dWhh")));
    addInto(p.weightHh.gradBuffer(), d.f32("dWhh"));
  }
  if (p.weightIh.requiresGrad) {
    kernels.gemmAt(projectWeightGrad(inputs, dI, a.ptr("xt"), 0, d.ptr("dWih")));
    addInto(p.weightIh.gradBuffer(), d.f32("dWih"));
  }
  const [dbIh, dbHh] = biasGrads();
  if (p.biasIh.requiresGrad) addInto(p.biasIh.gradBuffer(), dbIh);
  if (p.biasHh.requiresGrad) addInto(p.biasHh.gradBuffer(), dbHh);
  if (x.requiresGrad) {
    kernels.gemmAt(projectInputGrad(inputs, dI, a.ptr("wih"), 0, d.ptr("dxt")));
    addToBatchMajor(d.f32("dxt"), B, T, F, x.gradBuffer());
  }
}
