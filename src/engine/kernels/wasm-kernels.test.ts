import { beforeAll, describe, expect, it } from "vitest";
import type { GemmArgs } from "./gemm-args.js";
import { gemmPortable } from "./gemm-portable.js";
import { gemmErrorRatio, gemmReference, seededFloats } from "./gemm-reference.js";
import type { WasmKernels } from "./wasm-kernels.js";
import { loadWasmKernels } from "./wasm-loader.js";

function fresh(): WasmKernels {
  const loaded = loadWasmKernels();
  if (!loaded.ok) throw new Error(`WASM kernels unavailable: ${loaded.reason}`);
  return loaded.kernels;
}

/** Random operands with `pad` extra elements before each matrix, so offsets are exercised. */
function makeArgs(
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  alpha: number,
  beta: number,
  seed: number,
  pad = 0,
): GemmArgs {
  return {
    transA,
    transB,
    m,
    n,
    k,
    alpha,
    beta,
    a: seededFloats(pad + m * k + pad, seed),
    aOffset: pad,
    b: seededFloats(pad + k * n + pad, seed + 1),
    bOffset: pad,
    c: seededFloats(pad + m * n + pad, seed + 2),
    cOffset: pad,
  };
}

const TRANSPOSES = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

describe("WasmKernels.gemm", () => {
  let wasm: WasmKernels;
  beforeAll(() => {
    wasm = fresh();
  });

  it("matches the naive reference and the portable kernel on edge sizes, every transpose case", () => {
    const sizes = [1, 3, 5, 7, 17, 33];
    let seed = 1;
    for (const [transA, transB] of TRANSPOSES) {
      for (const m of sizes) {
        for (const n of sizes) {
          for (const k of sizes) {
            const args = makeArgs(m, n, k, transA, transB, 0.75, 0.5, seed++, 3);
            const ref = gemmReference(args);
            const viaWasm = { ...args, c: args.c.slice() };
            const viaTs = { ...args, c: args.c.slice() };
            wasm.gemm(viaWasm);
            gemmPortable(viaTs);
            const where = `m=${m} n=${n} k=${k} transA=${transA} transB=${transB}`;
            expect(gemmErrorRatio(viaWasm.c, args, ref), where).toBeLessThanOrEqual(1);
            expect(gemmErrorRatio(viaTs.c, args, ref), where).toBeLessThanOrEqual(1);
            // Padding around C is untouched.
            expect(Array.from(viaWasm.c.subarray(0, 3)), where).toEqual(Array.from(args.c.subarray(0, 3)));
            expect(Array.from(viaWasm.c.subarray(3 + m * n)), where).toEqual(
              Array.from(args.c.subarray(3 + m * n)),
            );
          }
        }
      }
    }
  });

  it("crosses every blocking boundary (M > 128, N > 1024, K > 256, none a multiple of the tile)", () => {
    for (const [transA, transB] of TRANSPOSES) {
      const args = makeArgs(131, 1029, 517, transA, transB, -1.25, 1, 7, 1);
      const out = { ...args, c: args.c.slice() };
      wasm.gemm(out);
      expect(gemmErrorRatio(out.c, args), `transA=${transA} transB=${transB}`).toBeLessThanOrEqual(1);
    }
  });

  it("honours alpha and beta: beta = 0 overwrites NaN, alpha = 0 or k = 0 leaves beta·C", () => {
    for (const beta of [0, 1, -0.5]) {
      for (const alpha of [1, 0, 2.5]) {
        const args = makeArgs(9, 13, 11, false, true, alpha, beta, 40);
        if (beta === 0) args.c.fill(Number.NaN);
        const out = { ...args, c: args.c.slice() };
        wasm.gemm(out);
        expect(gemmErrorRatio(out.c, args), `alpha=${alpha} beta=${beta}`).toBeLessThanOrEqual(1);
      }
    }
    const empty = makeArgs(4, 5, 0, false, false, 1, 3, 50);
    const out = { ...empty, c: empty.c.slice() };
    wasm.gemm(out);
    expect(Array.from(out.c)).toEqual(Array.from(empty.c, (v) => Math.fround(v * 3)));
  });

  it("rejects operands shorter than their offset plus size", () => {
    const args = makeArgs(4, 4, 4, false, false, 1, 0, 60);
    expect(() => wasm.gemm({ ...args, aOffset: 1 })).toThrow(
      /aOffset=1 \+ 16 elements runs past a\.length=16/,
    );
  });

  it("grows memory between calls and keeps results and resident regions intact", () => {
    const own = fresh();
    const region = own.alloc(1000);
    region.view.set(seededFloats(1000, 70));
    const before = region.view;
    const small = makeArgs(8, 8, 8, false, false, 1, 0, 71);
    own.gemm(small);
    const grows = own.stats.grows;
    const big = makeArgs(300, 700, 300, true, false, 1, 0.25, 72);
    const out = { ...big, c: big.c.slice() };
    own.gemm(out);
    expect(own.stats.grows).toBeGreaterThan(grows);
    expect(gemmErrorRatio(out.c, big)).toBeLessThanOrEqual(1);
    // The old view is detached by growth; region.view is rebuilt on the new buffer with the same data.
    expect(before.length).toBe(0);
    expect(region.view === before).toBe(false);
    expect(Array.from(region.view)).toEqual(Array.from(seededFloats(1000, 70)));
    const again = { ...small, c: small.c.slice() };
    own.gemm(again);
    expect(gemmErrorRatio(again.c, small)).toBeLessThanOrEqual(1);
  });

  it("uses resident operands in place: no copies, no growth", () => {
    const own = fresh();
    const args = makeArgs(20, 30, 40, false, true, 1, 1, 80);
    const [ra, rb, rc] = [own.alloc(20 * 40), own.alloc(40 * 30), own.alloc(20 * 30)] as const;
    ra.view.set(args.a.subarray(0, 800));
    rb.view.set(args.b.subarray(0, 1200));
    rc.view.set(args.c.subarray(0, 600));
    const expected = { ...args, aOffset: 0, bOffset: 0, cOffset: 0 };
    const before = own.stats;
    own.gemm({ ...expected, a: ra.view, b: rb.view, c: rc.view });
    expect(own.stats.floatsCopied).toBe(before.floatsCopied);
    expect(own.stats.grows).toBe(before.grows);
    expect(gemmErrorRatio(rc.view, expected)).toBeLessThanOrEqual(1);
  });

  it("names a view detached by growth", () => {
    const own = fresh();
    const region = own.alloc(16);
    const stale = region.view;
    own.alloc(4_000_000);
    const call = () =>
      own.gemm({
        transA: false,
        transB: false,
        m: 4,
        n: 4,
        k: 4,
        alpha: 1,
        a: stale,
        b: stale,
        beta: 0,
        c: stale,
      });
    expect(call).toThrow(expect.objectContaining({ hint: expect.stringMatching(/read region\.view again/) }));
  });

  it("gemmAt multiplies sub-matrices addressed by leading dimensions", () => {
    const own = fresh();
    // A is the 5×6 top-left block of a 7×9 matrix, B the 6×4 block at (1, 2) of an 8×10 matrix.
    const bigA = own.alloc(7 * 9);
    const bigB = own.alloc(8 * 10);
    const c = own.alloc(5 * 4);
    bigA.view.set(seededFloats(63, 90));
    bigB.view.set(seededFloats(80, 91));
    own.gemmAt({
      transA: false,
      transB: false,
      m: 5,
      n: 4,
      k: 6,
      alpha: 1,
      a: bigA.ptr,
      lda: 9,
      b: bigB.ptr + (1 * 10 + 2) * 4,
      ldb: 10,
      beta: 0,
      c: c.ptr,
    });
    const a = new Float32Array(30);
    const b = new Float32Array(24);
    for (let i = 0; i < 5; i++) for (let p = 0; p < 6; p++) a[i * 6 + p] = bigA.view[i * 9 + p] as number;
    for (let p = 0; p < 6; p++)
      for (let j = 0; j < 4; j++) b[p * 4 + j] = bigB.view[(p + 1) * 10 + 2 + j] as number;
    const args: GemmArgs = {
      transA: false,
      transB: false,
      m: 5,
      n: 4,
      k: 6,
      alpha: 1,
      a,
      b,
      beta: 0,
      c: c.view,
    };
    expect(gemmErrorRatio(c.view, args)).toBeLessThanOrEqual(1);
    expect(() => own.gemmAt({ ...args, a: own.stats.memoryBytes - 8, b: bigB.ptr, c: c.ptr })).toThrow(
      /run past wasm memory/,
    );
  });

  it("frees regions for reuse and refuses a freed region's view", () => {
    const own = fresh();
    const first = own.alloc(256);
    first.free();
    const second = own.alloc(256);
    expect(second.ptr).toBe(first.ptr);
    expect(() => first.view).toThrow(/was freed/);
    first.free();
    expect(own.tile).toEqual({ rows: 4, cols: 8 });
  });
});
