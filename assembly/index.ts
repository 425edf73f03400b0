// Entry point of build/kernels.wasm (see docs/engine-kernels.md). The module owns no allocator: the host
// (src/engine/kernels/wasm-kernels.ts) manages linear memory above `heapBase()` and passes addresses in.
import { MR, NR, SCRATCH_BYTES } from "./layout";

export { sgemm } from "./gemm";

/** First byte the host may use; everything below belongs to the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

/** Scratch bytes one `sgemm` call needs (packed A block, packed B panel, edge tile). */
export function sgemmScratchBytes(): i32 {
  return SCRATCH_BYTES;
}

/** Register tile of the SGEMM micro-kernel, rows × columns, packed as (MR << 8) | NR. */
export function sgemmTile(): i32 {
  return (MR << 8) | NR;
}

export { expf32, sigmoidf32, tanhf32 } from "./activations";
export { sgemmBatched, softmaxRows, softmaxRowsBackward } from "./attention";
export { gruBackwardStep, gruForwardStep, lstmBackwardStep, lstmForwardStep } from "./recurrent";
