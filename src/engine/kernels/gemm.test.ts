import { afterEach, describe, expect, it } from "vitest";
import { gemm, WASM_MIN_WORK } from "./gemm.js";
import { gemmErrorRatio, seededFloats } from "./gemm-reference.js";
import {
  activeKernels,
  KERNELS_ENV,
  parseKernelMode,
  resetActiveKernels,
  selectKernels,
} from "./kernel-select.js";

function withEnv(value: string | undefined): void {
  if (value === undefined) delete process.env[KERNELS_ENV];
  else process.env[KERNELS_ENV] = value;
  resetActiveKernels();
}

const saved = process.env[KERNELS_ENV];
afterEach(() => withEnv(saved));

function checkGemm(m: number, n: number, k: number, transA: boolean, transB: boolean, seed: number): void {
  const args = {
    transA,
    transB,
    m,
    n,
    k,
    alpha: 1.5,
    a: seededFloats(2 + m * k, seed),
    aOffset: 2,
    b: seededFloats(1 + k * n, seed + 1),
    bOffset: 1,
    beta: -0.5,
    c: seededFloats(m * n + 5, seed + 2),
    cOffset: 5,
  };
  const out = { ...args, c: args.c.slice() };
  gemm(out);
  expect(gemmErrorRatio(out.c, args), `m=${m} n=${n} k=${k} ${transA} ${transB}`).toBeLessThanOrEqual(1);
}

describe("gemm dispatch", () => {
  for (const mode of ["auto", "portable", "wasm"]) {
    it(`${KERNELS_ENV}=${mode}: small and large products match the reference`, () => {
      withEnv(mode);
      let seed = 100;
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const [m, n, k] of [
            [1, 1, 1],
            [3, 5, 7],
            [33, 17, 65],
            [70, 260, 40],
          ] as const) {
            checkGemm(m, n, k, transA, transB, seed++);
          }
        }
      }
      expect(activeKernels().mode).toBe(mode);
    });
  }

  it("auto loads the WASM kernels; portable never loads them", () => {
    withEnv(undefined);
    expect(activeKernels().wasm).toBeDefined();
    expect(activeKernels().reason).toBe("wasm-simd (auto)");
    withEnv("portable");
    expect(activeKernels().wasm).toBeUndefined();
    expect(activeKernels().reason).toMatch(/^portable/);
    checkGemm(40, 40, 40, false, true, 7);
  });

  it("auto sends products below the threshold to the portable kernel", () => {
    withEnv("auto");
    const wasm = activeKernels().wasm;
    if (wasm === undefined) throw new Error("WASM kernels did not load");
    const copied = wasm.stats.floatsCopied;
    checkGemm(2, 2, 2, false, false, 9);
    expect(2 * 2 * 2).toBeLessThan(WASM_MIN_WORK);
    expect(wasm.stats.floatsCopied).toBe(copied);
    checkGemm(16, 16, 16, false, false, 10);
    expect(wasm.stats.floatsCopied).toBeGreaterThan(copied);
  });

  it("falls back to portable in auto when WASM does not load, and fails loudly when forced", () => {
    const missing = () => ({
      ok: false as const,
      reason: "build/kernels.wasm is missing (run `npm run build`)",
    });
    expect(selectKernels("auto", missing)).toEqual({
      mode: "auto",
      wasm: undefined,
      reason: "portable (build/kernels.wasm is missing (run `npm run build`))",
    });
    expect(() => selectKernels("wasm", missing)).toThrow(
      /CRYPTOML_KERNELS=wasm but the WASM kernels do not load/,
    );
  });

  it("parses the environment variable", () => {
    expect(parseKernelMode(undefined)).toBe("auto");
    expect(parseKernelMode(" WASM ")).toBe("wasm");
    expect(() => parseKernelMode("gpu")).toThrow("CRYPTOML_KERNELS=gpu must be one of auto, portable, wasm");
  });
});
