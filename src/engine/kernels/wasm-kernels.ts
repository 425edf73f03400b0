import { CryptomlError } from "../../core/errors.js";
import type { GemmArgs } from "./gemm-args.js";
import type { WasmInstance, WasmMemory } from "./wasm-api.js";
import { WasmHeap } from "./wasm-heap.js";
import { type RegionOwner, WasmF32 } from "./wasm-region.js";

const PAGE_BYTES = 65_536;

/** The exports of build/kernels.wasm (assembly/index.ts). Booleans cross the boundary as 0/1. */
export interface KernelExports {
  readonly memory: WasmMemory;
  heapBase(): number;
  sgemmScratchBytes(): number;
  sgemmTile(): number;
  sgemm(
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
    scratch: number,
  ): void;
  expf32(x: number): number;
  sigmoidf32(x: number): number;
  tanhf32(x: number): number;
  lstmForwardStep(
    B: number,
    H: number,
    gates: number,
    bias: number,
    cPrev: number,
    cNext: number,
    tanhC: number,
    hNext: number,
    out: number,
    outStride: number,
  ): void;
  lstmBackwardStep(
    B: number,
    H: number,
    gates: number,
    cPrev: number,
    tanhC: number,
    dh: number,
    dc: number,
    dBias: number,
    gOut: number,
    gStride: number,
  ): void;
  gruForwardStep(
    B: number,
    H: number,
    gates: number,
    hidden: number,
    biasRz: number,
    biasIn: number,
    biasHn: number,
    hPrev: number,
    hNext: number,
    out: number,
    outStride: number,
  ): void;
  softmaxRows(p: number, rows: number, cols: number): void;
  softmaxRowsBackward(y: number, g: number, out: number, rows: number, cols: number): void;
  sgemmBatched(
    outer: number,
    inner: number,
    transA: number,
    transB: number,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    lda: number,
    aOuter: number,
    aInner: number,
    b: number,
    ldb: number,
    bOuter: number,
    bInner: number,
    beta: number,
    c: number,
    ldc: number,
    cOuter: number,
    cInner: number,
    scratch: number,
  ): void;
  gruBackwardStep(
    B: number,
    H: number,
    gates: number,
    hidden: number,
    hPrev: number,
    dh: number,
    dbIh: number,
    dbHn: number,
    gOut: number,
    gStride: number,
  ): void;
}

/** The fused-kernel exports that work on byte addresses in the instance's memory (no copies, no growth). */
export type FusedKernelExports = Omit<
  KernelExports,
  "memory" | "heapBase" | "sgemmScratchBytes" | "sgemm" | "sgemmBatched"
>;

/**
 * {@link GemmPointerArgs} over an outer × inner grid of blocks (e.g. batch × head): block (o, i) uses
 * `a + o·aOuter + i·aInner` and likewise for b and c. Strides are in bytes; shapes and leading
 * dimensions are shared.
 */
export interface GemmBatchedArgs extends GemmPointerArgs {
  outer: number;
  inner: number;
  aOuter: number;
  aInner: number;
  bOuter: number;
  bInner: number;
  cOuter: number;
  cInner: number;
}

/**
 * SGEMM on byte addresses in wasm memory with explicit leading dimensions (elements), for fused kernels
 * that keep their operands resident: `C = alpha·op(A)·op(B) + beta·C`. Defaults: lda = transA ? m : k,
 * ldb = transB ? k : n, ldc = n.
 */
export interface GemmPointerArgs {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  a: number;
  lda?: number;
  b: number;
  ldb?: number;
  beta: number;
  c: number;
  ldc?: number;
}

/** Counters for tests and benchmarks. */
export interface WasmKernelStats {
  /** Times the memory grew. */
  grows: number;
  /** Current size of linear memory in bytes. */
  memoryBytes: number;
  /** Bytes held by the staging block that copying `gemm` calls reuse. */
  stagingBytes: number;
  /** Floats copied into and out of wasm memory by `gemm`, since construction. */
  floatsCopied: number;
}

/**
 * One instance of the kernels module and its linear memory. It owns the memory above the module's static
 * data: a fixed scratch block for packing, one staging block reused by every copying call (grown by
 * half again when too small, never shrunk), and the regions callers {@link alloc}. Memory grows only here,
 * in JavaScript, before a kernel runs — never inside a call.
 */
export class WasmKernels implements RegionOwner {
  readonly memory: WasmMemory;
  private readonly exports: KernelExports;
  private readonly heap: WasmHeap;
  private readonly scratch: number;
  private staging: { ptr: number; bytes: number } | undefined;
  private f32: Float32Array;
  private grows = 0;
  private floatsCopied = 0;

  constructor(exports: KernelExports) {
    this.exports = exports;
    this.memory = exports.memory;
    this.f32 = new Float32Array(this.memory.buffer);
    this.heap = new WasmHeap(exports.heapBase());
    this.scratch = this.reserve(exports.sgemmScratchBytes());
  }

  /** Wraps an instance of build/kernels.wasm (the module imports nothing). */
  static fromInstance(instance: WasmInstance): WasmKernels {
    return new WasmKernels(instance.exports as unknown as KernelExports);
  }

  /**
   * The fused kernels (gate loops, activations) on byte addresses of resident regions. They never grow
   * the memory and never copy; the caller owns the layout (docs/engine-recurrent.md).
   */
  get fused(): FusedKernelExports {
    return this.exports;
  }

  /** The micro-kernel's register tile, e.g. `{ rows: 4, cols: 8 }`. */
  get tile(): { rows: number; cols: number } {
    const packed = this.exports.sgemmTile();
    return { rows: packed >> 8, cols: packed & 0xff };
  }

  get stats(): WasmKernelStats {
    return {
      grows: this.grows,
      memoryBytes: this.memory.buffer.byteLength,
      stagingBytes: this.staging?.bytes ?? 0,
      floatsCopied: this.floatsCopied,
    };
  }

  /**
   * A resident block of `length` floats (uninitialised). May grow the memory, which detaches every view
   * taken earlier — see {@link WasmF32} for the rule.
   */
  alloc(length: number): WasmF32 {
    if (!Number.isInteger(length) || length < 0) {
      throw new CryptomlError("INTERNAL", `WasmKernels.alloc: length=${length} must be an integer >= 0`);
    }
    return new WasmF32(this, this.reserve(length * 4), length);
  }

  /** Called by {@link WasmF32.free}. */
  release(region: WasmF32): void {
    this.heap.release(region.ptr);
  }

  /** Whether `array` is a view of this instance's memory (so `gemm` can use it in place). */
  isResident(array: Float32Array): boolean {
    return array.buffer === this.memory.buffer;
  }

  /**
   * The {@link GemmArgs} contract on JavaScript arrays. Operands that are views of this memory (from
   * {@link alloc}) are used in place; the others are copied into the staging block — C only when
   * beta ≠ 0 — and C is copied back. With all three resident nothing is copied and memory never grows.
   */
  gemm(args: GemmArgs): void {
    const { m, n, k } = args;
    const aLen = m * k;
    const bLen = k * n;
    const cLen = m * n;
    const ao = checkRange("a", args.a, args.aOffset ?? 0, aLen);
    const bo = checkRange("b", args.b, args.bOffset ?? 0, bLen);
    const co = checkRange("c", args.c, args.cOffset ?? 0, cLen);
    if (cLen === 0) return;
    // Addresses of resident operands are read before any growth detaches their views.
    const aRes = this.isResident(args.a) ? args.a.byteOffset + ao * 4 : -1;
    const bRes = this.isResident(args.b) ? args.b.byteOffset + bo * 4 : -1;
    const cRes = this.isResident(args.c) ? args.c.byteOffset + co * 4 : -1;
    const aStage = aRes < 0 ? aLen : 0;
    const bStage = bRes < 0 ? bLen : 0;
    const cStage = cRes < 0 ? cLen : 0;
    const base = this.stage((aStage + bStage + cStage) * 4 + 3 * 64);
    const aPtr = aRes >= 0 ? aRes : base;
    const bPtr = bRes >= 0 ? bRes : alignLine(base + aStage * 4);
    const cPtr = cRes >= 0 ? cRes : alignLine(alignLine(base + aStage * 4) + bStage * 4);
    const f32 = this.floats();
    if (aRes < 0) f32.set(args.a.subarray(ao, ao + aLen), aPtr >> 2);
    if (bRes < 0) f32.set(args.b.subarray(bo, bo + bLen), bPtr >> 2);
    if (cRes < 0 && args.beta !== 0) f32.set(args.c.subarray(co, co + cLen), cPtr >> 2);
    this.floatsCopied += aStage + bStage + (args.beta !== 0 ? 2 : 1) * cStage;
    this.run(args.transA, args.transB, m, n, k, args.alpha, aPtr, bPtr, args.beta, cPtr);
    if (cRes < 0) args.c.set(f32.subarray(cPtr >> 2, (cPtr >> 2) + cLen), co);
  }

  /** SGEMM on addresses already in wasm memory; nothing is copied and memory never grows. */
  gemmAt(args: GemmPointerArgs): void {
    const { m, n, k } = args;
    if (m <= 0 || n <= 0) return;
    const lda = args.lda ?? (args.transA ? m : k);
    const ldb = args.ldb ?? (args.transB ? k : n);
    const ldc = args.ldc ?? n;
    const top = this.memory.buffer.byteLength;
    const aEnd = args.a + ((args.transA ? k - 1 : m - 1) * lda + (args.transA ? m : k)) * 4;
    const bEnd = args.b + ((args.transB ? n - 1 : k - 1) * ldb + (args.transB ? k : n)) * 4;
    const cEnd = args.c + ((m - 1) * ldc + n) * 4;
    if (args.a < 0 || args.b < 0 || args.c < 0 || (k > 0 && (aEnd > top || bEnd > top)) || cEnd > top) {
      throw new CryptomlError("INTERNAL", `WasmKernels.gemmAt: operands run past wasm memory (${top} bytes)`);
    }
    this.exports.sgemm(
      args.transA ? 1 : 0,
      args.transB ? 1 : 0,
      m,
      n,
      k,
      args.alpha,
      args.a,
      lda,
      args.b,
      ldb,
      args.beta,
      args.c,
      ldc,
      this.scratch,
    );
  }

  /** {@link gemmAt} over a grid of blocks in one call into wasm; nothing is copied, memory never grows. */
  gemmBatched(args: GemmBatchedArgs): void {
    const { m, n, k, outer, inner } = args;
    if (m <= 0 || n <= 0 || outer <= 0 || inner <= 0) return;
    const lda = args.lda ?? (args.transA ? m : k);
    const ldb = args.ldb ?? (args.transB ? k : n);
    const ldc = args.ldc ?? n;
    const top = this.memory.buffer.byteLength;
    const last = (base: number, o: number, i: number) => base + (outer - 1) * o + (inner - 1) * i;
    const aEnd =
      last(args.a, args.aOuter, args.aInner) +
      ((args.transA ? k - 1 : m - 1) * lda + (args.transA ? m : k)) * 4;
    const bEnd =
      last(args.b, args.bOuter, args.bInner) +
      ((args.transB ? n - 1 : k - 1) * ldb + (args.transB ? k : n)) * 4;
    const cEnd = last(args.c, args.cOuter, args.cInner) + ((m - 1) * ldc + n) * 4;
    const negative = [
      args.a,
      args.b,
      args.c,
      args.aOuter,
      args.aInner,
      args.bOuter,
      args.bInner,
      args.cOuter,
      args.cInner,
    ].some((v) => v < 0);
    if (negative || (k > 0 && (aEnd > top || bEnd > top)) || cEnd > top) {
      throw new CryptomlError(
        "INTERNAL",
        `WasmKernels.gemmBatched: operands run past wasm memory (${top} bytes)`,
      );
    }
    this.exports.sgemmBatched(
      outer,
      inner,
      args.transA ? 1 : 0,
      args.transB ? 1 : 0,
      m,
      n,
      k,
      args.alpha,
      args.a,
      lda,
      args.aOuter,
      args.aInner,
      args.b,
      ldb,
      args.bOuter,
      args.bInner,
      args.beta,
      args.c,
      ldc,
      args.cOuter,
      args.cInner,
      this.scratch,
    );
  }

  private run(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: number,
    b: number,
    beta: number,
    c: number,
  ): void {
    const lda = transA ? m : k;
    const ldb = transB ? k : n;
    this.exports.sgemm(
      transA ? 1 : 0,
      transB ? 1 : 0,
      m,
      n,
      k,
      alpha,
      a,
      lda,
      b,
      ldb,
      beta,
      c,
      n,
      this.scratch,
    );
  }

  /** Returns the staging block's address, replacing it with one at least `bytes` large when needed. */
  private stage(bytes: number): number {
    if (this.staging !== undefined && this.staging.bytes >= bytes) return this.staging.ptr;
    const size = Math.max(bytes, Math.ceil((this.staging?.bytes ?? 0) * 1.5));
    if (this.staging !== undefined) this.heap.release(this.staging.ptr);
    this.staging = { ptr: this.reserve(size), bytes: size };
    return this.staging.ptr;
  }

  /** A Float32Array over the whole memory, rebuilt if anything grew it. */
  private floats(): Float32Array {
    if (this.f32.buffer !== this.memory.buffer) this.f32 = new Float32Array(this.memory.buffer);
    return this.f32;
  }

  private reserve(bytes: number): number {
    const ptr = this.heap.alloc(bytes);
    const need = this.heap.top - this.memory.buffer.byteLength;
    if (need > 0) {
      // A quarter of headroom keeps a slowly growing workload from growing on every call.
      const pages = Math.ceil((need + this.memory.buffer.byteLength / 4) / PAGE_BYTES);
      this.memory.grow(pages);
      this.grows++;
    }
    return ptr;
  }
}

function checkRange(name: string, array: Float32Array, offset: number, length: number): number {
  if (!Number.isInteger(offset) || offset < 0 || offset + length > array.length) {
    // A detached buffer reads as length 0: typically a wasm-memory view kept across a growth.
    const detached = array.buffer.byteLength === 0 && length > 0;
    throw new CryptomlError(
      "INTERNAL",
      `gemm: ${name}Offset=${offset} + ${length} elements runs past ${name}.length=${array.length}`,
      detached
        ? { hint: `${name} is a detached view of wasm memory: read region.view again after growth` }
        : {},
    );
  }
  return offset;
}

function alignLine(ptr: number): number {
  return Math.ceil(ptr / 64) * 64;
}
