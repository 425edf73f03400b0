import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { kernelsWasmPath, loadWasmKernels, wasmSimdSupported } from "./wasm-loader.js";

// The WASM kernels are part of the build, not an optional extra: a checkout without them must fail here
// rather than silently test (and ship) only the portable fallback.
describe("build/kernels.wasm", () => {
  it("exists (built by `npm run build`)", () => {
    const path = kernelsWasmPath();
    expect(existsSync(path), `${path} is missing: run \`npm run build\` (or \`npm run build:kernels\`)`).toBe(
      true,
    );
  });

  it("loads on this runtime with WebAssembly SIMD", () => {
    expect(wasmSimdSupported(), "Node 20 supports WebAssembly SIMD").toBe(true);
    const loaded = loadWasmKernels();
    expect(loaded.ok ? "loaded" : loaded.reason).toBe("loaded");
  });

  it("reports a missing file instead of throwing", () => {
    const loaded = loadWasmKernels("/nonexistent/kernels.wasm");
    expect(loaded).toEqual({
      ok: false,
      reason: "/nonexistent/kernels.wasm is missing (run `npm run build`)",
    });
  });
});
