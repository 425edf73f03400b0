import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { GemmArgs } from "./gemm-args.js";
import { gemmPortable } from "./gemm-portable.js";
import { seededFloats } from "./gemm-reference.js";
import { loadWasmKernels } from "./wasm-loader.js";

/** One GEMM shape to measure: C[m×n] = op(A)·op(B) with K = k. */
export interface BenchShape {
  label: string;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  /** 0 for a fresh output, 1 for accumulating gradients (C is then copied in as well). */
  beta: number;
}

/** GFLOP/s (2·m·n·k per call) of each path on one shape. */
export interface BenchRow {
  shape: BenchShape;
  /** The portable TypeScript kernel. */
  portable: number;
  /** WasmKernels.gemm on JavaScript arrays: copies in and out included. */
  wasmCopy: number;
  /** The same product on operands resident in wasm memory (no copies). */
  wasmResident: number;
  /** Share of the copying call spent copying: 1 − resident time / copying time. */
  copyShare: number;
}

/** LSTM-sized products (batch 64, window 64, 16 features, hidden 64, gates 4·64). */
export const LSTM_SHAPES: readonly BenchShape[] = [
  { label: "x·Wihᵀ [4096×16]·[16×256]", m: 4096, n: 256, k: 16, transA: false, transB: true, beta: 0 },
  { label: "h·Whhᵀ [64×64]·[64×256]", m: 64, n: 256, k: 64, transA: false, transB: true, beta: 0 },
  { label: "dG·Whh [64×256]·[256×64]", m: 64, n: 64, k: 256, transA: false, transB: false, beta: 1 },
  { label: "dGᵀ·X [256×4096]·[4096×64]", m: 256, n: 64, k: 4096, transA: true, transB: false, beta: 1 },
  { label: "issue #3 [64×80]·[80×256]", m: 64, n: 256, k: 80, transA: false, transB: false, beta: 0 },
];

/**
 * Best seconds per call of each function. The functions are timed in interleaved slices after a warm-up
 * long enough for V8 to tier the wasm up, so a noisy neighbour hurts all of them alike.
 */
function timeCalls(fns: readonly (() => void)[], minSeconds: number): number[] {
  for (const fn of fns) {
    const warmEnd = performance.now() + 100;
    while (performance.now() < warmEnd) fn();
  }
  const best = fns.map(() => Number.POSITIVE_INFINITY);
  const rounds = 10;
  const sliceMs = (minSeconds * 1000) / rounds;
  for (let round = 0; round < rounds; round++) {
    fns.forEach((fn, index) => {
      let calls = 0;
      const start = performance.now();
      let now = start;
      while (now - start < sliceMs) {
        fn();
        calls++;
        now = performance.now();
      }
      best[index] = Math.min(best[index] as number, (now - start) / 1000 / calls);
    });
  }
  return best;
}

/** Measures the portable kernel, the copying WASM path and the resident WASM path on each shape. */
export function benchGemm(shapes: readonly BenchShape[] = LSTM_SHAPES, minSeconds = 0.5): BenchRow[] {
  const loaded = loadWasmKernels();
  if (!loaded.ok) throw new Error(`WASM kernels unavailable: ${loaded.reason}`);
  const wasm = loaded.kernels;
  return shapes.map((shape) => {
    const { m, n, k } = shape;
    const flops = 2 * m * n * k;
    const args: GemmArgs = {
      ...shape,
      alpha: 1,
      a: seededFloats(m * k, 1),
      b: seededFloats(k * n, 2),
      c: new Float32Array(m * n),
    };
    const ra = wasm.alloc(m * k);
    const rb = wasm.alloc(k * n);
    const rc = wasm.alloc(m * n);
    wasm.gemm(args); // sizes the staging block now, so no growth detaches the views below
    ra.view.set(args.a);
    rb.view.set(args.b);
    const resident = { ...args, a: ra.view, b: rb.view, c: rc.view };
    const [portable, copy, inPlace] = timeCalls(
      [() => gemmPortable(args), () => wasm.gemm(args), () => wasm.gemm(resident)],
      minSeconds,
    ) as [number, number, number];
    for (const region of [ra, rb, rc]) region.free();
    return {
      shape,
      portable: flops / portable / 1e9,
      wasmCopy: flops / copy / 1e9,
      wasmResident: flops / inPlace / 1e9,
      copyShare: 1 - inPlace / copy,
    };
  });
}

/** Markdown table of {@link benchGemm} rows. */
export function formatBench(rows: readonly BenchRow[]): string {
  const lines = [
    "| product | op | beta | portable TS | WASM (copying) | WASM (resident) | copy share | speed-up |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const row of rows) {
    const t = `${row.shape.transA ? "T" : "N"}${row.shape.transB ? "T" : "N"}`;
    lines.push(
      `| ${row.shape.label} | ${t} | ${row.shape.beta} | ${row.portable.toFixed(2)} | ${row.wasmCopy.toFixed(2)} | ` +
        `${row.wasmResident.toFixed(2)} | ${(row.copyShare * 100).toFixed(0)}% | ` +
        `${(row.wasmCopy / row.portable).toFixed(1)}× |`,
    );
  }
  return lines.join("\n");
}

/** Small products around the crossover where copying into wasm memory starts to pay (m, n, k). */
export const CROSSOVER_SHAPES: readonly [number, number, number][] = [
  [2, 2, 2],
  [4, 4, 4],
  [6, 6, 6],
  [8, 8, 8],
  [16, 16, 16],
  [64, 4, 1],
  [1, 64, 4],
  [1, 256, 64],
  [64, 64, 1],
];

/** Microseconds per call of the portable kernel and of the copying WASM path (NN, beta = 1). */
export function benchCrossover(minSeconds = 0.2): string {
  const loaded = loadWasmKernels();
  if (!loaded.ok) throw new Error(`WASM kernels unavailable: ${loaded.reason}`);
  const wasm = loaded.kernels;
  const lines = ["| m×n×k | m·n·k | portable µs | WASM µs | WASM / portable |", "|---|---:|---:|---:|---:|"];
  for (const [m, n, k] of CROSSOVER_SHAPES) {
    const args: GemmArgs = {
      transA: false,
      transB: false,
      m,
      n,
      k,
      alpha: 1,
      a: seededFloats(m * k, 3),
      b: seededFloats(k * n, 4),
      beta: 1,
      c: new Float32Array(m * n),
    };
    const [portable, copy] = timeCalls([() => gemmPortable(args), () => wasm.gemm(args)], minSeconds) as [
      number,
      number,
    ];
    lines.push(
      `| ${m}×${n}×${k} | ${m * n * k} | ${(portable * 1e6).toFixed(2)} | ${(copy * 1e6).toFixed(2)} | ` +
        `${(copy / portable).toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

// `node dist/engine/kernels/gemm-bench.js` prints both tables (one core).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(formatBench(benchGemm()));
  console.log();
  console.log(benchCrossover());
}
