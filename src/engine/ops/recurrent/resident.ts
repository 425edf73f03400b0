import { activeKernels } from "../../kernels/kernel-select.js";
import type { WasmKernels } from "../../kernels/wasm-kernels.js";
import type { WasmF32 } from "../../kernels/wasm-region.js";

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
