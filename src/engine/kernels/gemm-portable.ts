import type { GemmArgs } from "./gemm-args.js";

/**
 * The portable TypeScript GEMM (see {@link GemmArgs} for the contract). It is the reference the WebAssembly
 * kernel is tested against and the fallback where WebAssembly SIMD or build/kernels.wasm is missing, and it
 * wins on tiny products where copying into wasm memory costs more than the arithmetic.
 * Loop orders keep the innermost loop on contiguous memory for each transpose case.
 */
export function gemmPortable(args: GemmArgs): void {
  const { m, n, k, alpha, a, b, beta, c } = args;
  const ao = args.aOffset ?? 0;
  const bo = args.bOffset ?? 0;
  const co = args.cOffset ?? 0;
  if (beta !== 1) {
    for (let i = co; i < co + m * n; i++) c[i] = beta === 0 ? 0 : (c[i] as number) * beta;
  }
  if (!args.transA && !args.transB) {
    for (let i = 0; i < m; i++) {
      const cRow = co + i * n;
      for (let p = 0; p < k; p++) {
        const av = alpha * (a[ao + i * k + p] as number);
        if (av === 0) continue;
        const bRow = bo + p * n;
        for (let j = 0; j < n; j++) c[cRow + j] = (c[cRow + j] as number) + av * (b[bRow + j] as number);
      }
    }
  } else if (!args.transA && args.transB) {
    for (let i = 0; i < m; i++) {
      const aRow = ao + i * k;
      for (let j = 0; j < n; j++) {
        const bRow = bo + j * k;
        let sum = 0;
        for (let p = 0; p < k; p++) sum += (a[aRow + p] as number) * (b[bRow + p] as number);
        c[co + i * n + j] = (c[co + i * n + j] as number) + alpha * sum;
      }
    }
  } else if (args.transA && !args.transB) {
    for (let p = 0; p < k; p++) {
      const aRow = ao + p * m;
      const bRow = bo + p * n;
      for (let i = 0; i < m; i++) {
        const av = alpha * (a[aRow + i] as number);
        if (av === 0) continue;
        const cRow = co + i * n;
        for (let j = 0; j < n; j++) c[cRow + j] = (c[cRow + j] as number) + av * (b[bRow + j] as number);
      }
    }
  } else {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += (a[ao + p * m + i] as number) * (b[bo + j * k + p] as number);
        c[co + i * n + j] = (c[co + i * n + j] as number) + alpha * sum;
      }
    }
  }
}
