import { CryptomlError } from "../../core/errors.js";
import { gemm } from "../kernels/gemm.js";
import { result, type Tensor } from "../tensor.js";

/**
 * `y = x · Wᵀ + b` over the last dimension (PyTorch's nn.Linear): x is [..., in], W is [out, in],
 * b is [out]; y is [..., out]. Leading dimensions are flattened into rows for one GEMM.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const inFeatures = x.shape[x.shape.length - 1] as number;
  const [outFeatures, weightIn] = weight.shape as [number, number];
  if (weight.shape.length !== 2 || weightIn !== inFeatures) {
    throw new CryptomlError("INTERNAL", `linear: input [${x.shape}] does not fit weight [${weight.shape}]`);
  }
  const rows = x.size / inFeatures;
  const out = new Float32Array(rows * outFeatures);
  if (bias !== undefined) for (let r = 0; r < rows; r++) out.set(bias.data, r * outFeatures);
  gemm({
    transA: false,
    transB: true,
    m: rows,
    n: outFeatures,
    k: inFeatures,
    alpha: 1,
    a: x.data,
    b: weight.data,
    beta: 1,
    c: out,
  });
  const shape = [...x.shape.slice(0, -1), outFeatures];
  return result(out, shape, [x, weight, bias], (gradOut) => {
    if (x.requiresGrad) {
      gemm({
        transA: false,
        transB: false,
        m: rows,
        n: inFeatures,
        k: outFeatures,
        alpha: 1,
        a: gradOut,
        b: weight.data,
        beta: 1,
        c: x.gradBuffer(),
      });
    }
    if (weight.requiresGrad) {
      gemm({
        transA: true,
        transB: false,
        m: outFeatures,
        n: inFeatures,
        k: rows,
        alpha: 1,
        a: gradOut,
        b: x.data,
        beta: 1,
        c: weight.gradBuffer(),
      });
    }
    if (bias?.requiresGrad) {
      const gb = bias.gradBuffer();
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < outFeatures; o++)
          gb[o] = (gb[o] as number) + (gradOut[r * outFeatures + o] as number);
      }
    }
  });
}

/**
 * Batched matrix product `op(a) · op(b)` over a leading batch dimension: a is [B, M, K] (or [B, K, M]
 * with `transA`), b is [B, K, N] (or [B, N, K] with `transB`); the result is [B, M, N].
 */
export function bmm(a: Tensor, b: Tensor, options: { transA?: boolean; transB?: boolean } = {}): Tensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  const [batch, a1, a2] = a.shape as [number, number, number];
  const [batchB, b1, b2] = b.shape as [number, number, number];
  const [m, k] = transA ? [a2, a1] : [a1, a2];
  const [kb, n] = transB ? [b2, b1] : [b1, b2];
  if (a.shape.length !== 3 || b.shape.length !== 3 || batch !== batchB || k !== kb) {
    throw new CryptomlError("INTERNAL", `bmm: shapes [${a.shape}] and [${b.shape}] do not multiply`);
  }
  const out = new Float32Array(batch * m * n);
  for (let s = 0; s < batch; s++) {
    gemm({
      transA,
      transB,
      m,
      n,
      k,
      alpha: 1,
      a: a.data,
      aOffset: s * m * k,
      b: b.data,
      bOffset: s * k * n,
      beta: 0,
      c: out,
      cOffset: s * m * n,
    });
  }
  return result(out, [batch, m, n], [a, b], (gradOut) => {
    for (let s = 0; s < batch; s++) {
      const go = s * m * n;
      if (a.requiresGrad) {
        // dA = dC · op(B)ᵀ, laid out like A (transposed back when A was used transposed).
        if (!transA)
          gemm({
            transA: false,
            transB: !transB,
            m,
            n: k,
            k: n,
            alpha: 1,
            a: gradOut,
            aOffset: go,
            b: b.data,
            bOffset: s * k * n,
            beta: 1,
            c: a.gradBuffer(),
            cOffset: s * m * k,
          });
        else
          gemm({
            transA: transB,
            transB: true,
            m: k,
            n: m,
            k: n,
            alpha: 1,
            a: b.data,
            aOffset: s * k * n,
            b: gradOut,
            bOffset: go,
            beta: 1,
            c: a.gradBuffer(),
            cOffset: s * m * k,
          });
      }
      if (b.requiresGrad) {
        // dB = op(A)ᵀ · dC, laid out like B.
        if (!transB)
          gemm({
            transA: !transA,
            transB: false,
            m: k,
            n,
            k: m,
            alpha: 1,
            a: a.data,
            aOffset: s * m * k,
            b: gradOut,
            bOffset: go,
            beta: 1,
            c: b.gradBuffer(),
            cOffset: s * k * n,
          });
        else
          gemm({
            transA: true,
            transB: transA,
            m: n,
            n: k,
            k: m,
            alpha: 1,
            a: gradOut,
            aOffset: go,
            b: a.data,
            bOffset: s * m * k,
            beta: 1,
            c: b.gradBuffer(),
            cOffset: s * k * n,
          });
      }
    }
  });
}
