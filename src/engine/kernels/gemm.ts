import type { GemmArgs } from "./gemm-args.js";
import { gemmPortable } from "./gemm-portable.js";
import { activeKernels } from "./kernel-select.js";
import type { WasmKernels } from "./wasm-kernels.js";

export type { GemmArgs } from "./gemm-args.js";

/**
 * Below this many multiply-adds (m·n·k) the portable kernel wins in `auto` mode: copying the operands into
 * wasm memory and back costs more than the arithmetic saved. Measured crossover, see docs/engine-kernels.md.
 */
export const WASM_MIN_WORK = 512;

/**
 * General matrix multiply `C = alpha · op(A) · op(B) + beta · C` on row-major float32 matrices (see
 * {@link GemmArgs}). Dispatches to the WebAssembly SIMD kernel when it is loaded and the product is large
 * enough (or every operand already lives in wasm memory), to the portable TypeScript kernel otherwise;
 * `CRYPTOML_KERNELS=portable|wasm` forces one. Synchronous: the module loads at first use.
 */
export function gemm(args: GemmArgs): void {
  const { mode, wasm } = activeKernels();
  if (wasm !== undefined && (mode === "wasm" || worthWasm(args, wasm))) wasm.gemm(args);
  else gemmPortable(args);
}

function worthWasm(args: GemmArgs, wasm: WasmKernels): boolean {
  if (args.m * args.n * args.k >= WASM_MIN_WORK) return true;
  return wasm.isResident(args.a) && wasm.isResident(args.b) && wasm.isResident(args.c);
}
