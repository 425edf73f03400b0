// The kernels surface: GEMM (dispatching between WebAssembly SIMD and portable TypeScript), the WASM
// instance with its memory model, and kernel selection. See docs/engine-kernels.md.
export { type GemmArgs, gemm, WASM_MIN_WORK } from "./gemm.js";
export { gemmPortable } from "./gemm-portable.js";
export {
  activeKernels,
  KERNELS_ENV,
  type KernelMode,
  type KernelSelection,
  parseKernelMode,
  resetActiveKernels,
  selectKernels,
} from "./kernel-select.js";
export type {
  FusedKernelExports,
  GemmBatchedArgs,
  GemmPointerArgs,
  WasmKernelStats,
} from "./wasm-kernels.js";
export { WasmKernels } from "./wasm-kernels.js";
export { kernelsWasmPath, loadWasmKernels, type WasmLoadResult, wasmSimdSupported } from "./wasm-loader.js";
export { WasmF32 } from "./wasm-region.js";
