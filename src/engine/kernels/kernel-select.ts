import { CryptomlError } from "../../core/errors.js";
import type { WasmKernels } from "./wasm-kernels.js";
import { loadWasmKernels, type WasmLoadResult } from "./wasm-loader.js";

/** Environment variable that forces a kernel family: `portable`, `wasm`, or `auto` (the default). */
export const KERNELS_ENV = "CRYPTOML_KERNELS";

/**
 * - `auto`: WebAssembly SIMD when it loads, above the size threshold; the portable kernel otherwise.
 * - `portable`: the TypeScript kernels only (the .wasm file is not even read).
 * - `wasm`: the WebAssembly kernels for every size; the first call throws if they cannot load.
 */
export type KernelMode = "auto" | "portable" | "wasm";

const MODES: readonly KernelMode[] = ["auto", "portable", "wasm"];

/** The kernels in use and why. */
export interface KernelSelection {
  readonly mode: KernelMode;
  /** The loaded instance, or undefined when the portable kernels run. */
  readonly wasm: WasmKernels | undefined;
  /** Human-readable account: what runs, and why WASM does not when it does not. */
  readonly reason: string;
}

/** Reads {@link KERNELS_ENV}; unset or empty means `auto`, anything else unknown throws. */
export function parseKernelMode(value: string | undefined): KernelMode {
  if (value === undefined || value.trim() === "") return "auto";
  const mode = value.trim().toLowerCase();
  if ((MODES as readonly string[]).includes(mode)) return mode as KernelMode;
  throw new CryptomlError("CONFIG_INVALID", `${KERNELS_ENV}=${value} must be one of ${MODES.join(", ")}`);
}

/** Resolves a mode to kernels, loading the WASM module unless the mode is `portable`. */
export function selectKernels(
  mode: KernelMode,
  load: () => WasmLoadResult = () => loadWasmKernels(),
): KernelSelection {
  if (mode === "portable") return { mode, wasm: undefined, reason: `portable (${KERNELS_ENV}=portable)` };
  const loaded = load();
  if (loaded.ok) return { mode, wasm: loaded.kernels, reason: `wasm-simd (${mode})` };
  if (mode === "wasm") {
    throw new CryptomlError(
      "CONFIG_INVALID",
      `${KERNELS_ENV}=wasm but the WASM kernels do not load: ${loaded.reason}`,
      {
        hint: `run \`npm run build\`, or unset ${KERNELS_ENV} to fall back to the portable kernels`,
      },
    );
  }
  return { mode, wasm: undefined, reason: `portable (${loaded.reason})` };
}

let active: KernelSelection | undefined;

/**
 * The process-wide selection behind `gemm`, made at first use from `process.env` and kept: one module
 * instance and one linear memory per thread (each worker thread loads its own).
 */
export function activeKernels(): KernelSelection {
  active ??= selectKernels(parseKernelMode(process.env[KERNELS_ENV]));
  return active;
}

/** Forgets the selection so the next `gemm` re-reads the environment (tests and benchmarks). */
export function resetActiveKernels(): void {
  active = undefined;
}
