import { describe, expect, it } from "vitest";
import { seededFloats } from "./gemm-reference.js";
import type { WasmKernels } from "./wasm-kernels.js";
import { loadWasmKernels } from "./wasm-loader.js";

function fresh(): WasmKernels {
  const loaded = loadWasmKernels();
  if (!loaded.ok) throw new Error(`WASM kernels unavailable: ${loaded.reason}`);
  return loaded.kernels;
}

describe("WASM activations (f32x4, shared by the gate and softmax kernels)", () => {
  const k = fresh().fused;
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

  it("are within 2.5e-7 relative of float64 exp, σ and tanh over a wide range", () => {
    let worst = [0, 0, 0];
    for (let i = 0; i <= 40_000; i++) {
      const v = Math.fround(((i - 20_000) / 20_000) ** 3 * 40);
      const errors = [
        Math.abs(k.expf32(v) - Math.exp(v)) / Math.exp(v),
        Math.abs(k.sigmoidf32(v) - sigmoid(v)) / sigmoid(v),
        v === 0 ? 0 : Math.abs(k.tanhf32(v) - Math.tanh(v)) / Math.abs(Math.tanh(v)),
      ];
      worst = worst.map((w, j) => Math.max(w, errors[j] as number));
    }
    for (const w of worst) expect(w).toBeLessThan(2.5e-7);
  });

  it("keep tiny arguments exact, saturate cleanly and propagate NaN", () => {
    expect(k.tanhf32(1e-30)).toBeCloseTo(1e-30, 36);
    expect(k.tanhf32(-1e-6) / -1e-6).toBeCloseTo(1, 6);
    expect(k.tanhf32(50)).toBe(1);
    expect(k.tanhf32(-Infinity)).toBe(-1);
    expect(k.sigmoidf32(200)).toBe(1);
    expect(k.sigmoidf32(-200)).toBeLessThan(1e-37);
    expect(k.sigmoidf32(-200)).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(k.expf32(1000))).toBe(true);
    for (const f of [k.expf32, k.sigmoidf32, k.tanhf32]) expect(f(Number.NaN)).toBeNaN();
  });
});

describe("softmaxRows and softmaxRowsBackward", () => {
  it("match float64 softmax, give masked entries exactly 0 and an all-masked row NaN", () => {
    const kernels = fresh();
    const cols = 7; // 4 lanes + a tail of 3
    const rows = 3;
    const values = seededFloats(rows * cols, 5).map((v) => v * 10);
    values[cols + 2] = -Infinity;
    values.fill(-Infinity, 2 * cols, 3 * cols);
    const region = kernels.alloc(rows * cols);
    region.view.set(values);
    kernels.fused.softmaxRows(region.ptr, rows, cols);
    const y = region.view.slice();
    for (let r = 0; r < 2; r++) {
      const row = Array.from(values.subarray(r * cols, (r + 1) * cols));
      const max = Math.max(...row);
      const total = row.reduce((s, v) => s + Math.exp(v - max), 0);
      row.forEach((v, j) => {
        expect(Math.abs((y[r * cols + j] as number) - Math.exp(v - max) / total)).toBeLessThan(3e-7);
      });
    }
    expect(y[cols + 2]).toBe(0);
    for (let j = 0; j < cols; j++) expect(y[2 * cols + j]).toBeNaN();

    const g = seededFloats(2 * cols, 6);
    const grad = kernels.alloc(2 * cols);
    grad.view.set(g);
    kernels.fused.softmaxRowsBackward(region.ptr, grad.ptr, grad.ptr, 2, cols);
    const dx = grad.view;
    for (let r = 0; r < 2; r++) {
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += (g[r * cols + j] as number) * (y[r * cols + j] as number);
      for (let j = 0; j < cols; j++) {
        const i = r * cols + j;
        expect(dx[i]).toBeCloseTo((y[i] as number) * ((g[i] as number) - dot), 6);
      }
    }
    expect(dx[cols + 2]).toBe(0);
    region.free();
    grad.free();
  });
});

describe("gemmBatched", () => {
  it("equals one gemmAt per block of the grid, with strided operands", () => {
    const kernels = fresh();
    const [outer, inner, m, n, k] = [3, 2, 5, 6, 7];
    const ld = inner * 8; // each block is 8 columns wide inside a wider row
    const aLen = outer * m * ld;
    const a = kernels.alloc(aLen);
    const b = kernels.alloc(outer * n * ld);
    const c1 = kernels.alloc(outer * inner * m * n);
    const c2 = kernels.alloc(outer * inner * m * n);
    a.view.set(seededFloats(aLen, 1));
    b.view.set(seededFloats(outer * n * ld, 2));
    c1.view.set(seededFloats(outer * inner * m * n, 3));
    c2.view.set(c1.view);
    const common = { transA: false, transB: true, m, n, k, alpha: 0.5, lda: ld, ldb: ld, beta: 1, ldc: n };
    kernels.gemmBatched({
      ...common,
      outer,
      inner,
      a: a.ptr,
      aOuter: m * ld * 4,
      aInner: 32,
      b: b.ptr,
      bOuter: n * ld * 4,
      bInner: 32,
      c: c1.ptr,
      cOuter: inner * m * n * 4,
      cInner: m * n * 4,
    });
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        kernels.gemmAt({
          ...common,
          a: a.ptr + o * m * ld * 4 + i * 32,
          b: b.ptr + o * n * ld * 4 + i * 32,
          c: c2.ptr + (o * inner + i) * m * n * 4,
        });
      }
    }
    expect(Array.from(c1.view)).toEqual(Array.from(c2.view));
    expect(() =>
      kernels.gemmBatched({
        ...common,
        outer: 1e6,
        inner,
        a: a.ptr,
        aOuter: 1e6,
        aInner: 0,
        b: b.ptr,
        bOuter: 0,
        bInner: 0,
        c: c1.ptr,
        cOuter: 0,
        cInner: 0,
      }),
    ).toThrow(/run past wasm memory/);
  });
});
