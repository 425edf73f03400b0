import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { wasmApi } from "./wasm-api.js";
import { WasmKernels } from "./wasm-kernels.js";

/**
 * Where `npm run build:kernels` writes the module: build/kernels.wasm at the repository root. This file
 * sits three levels below the root both as src/engine/kernels/*.ts (vitest, tsx) and as
 * dist/engine/kernels/*.js (the compiled CLI), so one relative URL serves both.
 */
export function kernelsWasmPath(): string {
  return fileURLToPath(new URL("../../../build/kernels.wasm", import.meta.url));
}

// (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt drop ...)): the smallest body using
// SIMD opcodes, as in wasm-feature-detect.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01,
  0x00, 0x0a, 0x0a, 0x01, 0x08, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0xfd, 0x62, 0x0b,
]);

/** Whether this runtime compiles WebAssembly SIMD (fixed-width, 128-bit). */
export function wasmSimdSupported(): boolean {
  return wasmApi()?.validate(SIMD_PROBE) ?? false;
}

/** A loaded kernels instance, or why there is none. */
export type WasmLoadResult = { ok: true; kernels: WasmKernels } | { ok: false; reason: string };

const REQUIRED_EXPORTS = [
  "memory",
  "heapBase",
  "sgemmScratchBytes",
  "sgemmTile",
  "sgemm",
  "expf32",
  "sigmoidf32",
  "tanhf32",
  "lstmForwardStep",
  "lstmBackwardStep",
  "gruForwardStep",
  "gruBackwardStep",
  "sgemmBatched",
  "softmaxRows",
  "softmaxRowsBackward",
] as const;

/**
 * Loads the kernels synchronously (`readFileSync` + `new WebAssembly.Module`), so `gemm` can stay
 * synchronous. Never throws: a missing file, a runtime without SIMD or a stale build yields a reason.
 */
export function loadWasmKernels(path: string = kernelsWasmPath()): WasmLoadResult {
  const api = wasmApi();
  if (api === undefined || !api.validate(SIMD_PROBE)) {
    return { ok: false, reason: "this runtime does not support WebAssembly SIMD" };
  }
  if (!existsSync(path)) return { ok: false, reason: `${path} is missing (run \`npm run build\`)` };
  try {
    const module = new api.Module(readFileSync(path));
    const names = new Set(api.Module.exports(module).map((entry) => entry.name));
    const missing = REQUIRED_EXPORTS.filter((name) => !names.has(name));
    if (missing.length > 0) {
      return {
        ok: false,
        reason: `${path} lacks exports ${missing.join(", ")} (stale build: run \`npm run build\`)`,
      };
    }
    return { ok: true, kernels: WasmKernels.fromInstance(new api.Instance(module, {})) };
  } catch (error) {
    return { ok: false, reason: `${path} does not load: ${(error as Error).message}` };
  }
}
