import { CryptomlError } from "../../core/errors.js";
import { gemm } from "../kernels/gemm.js";
import { result, type Tensor } from "../tensor.js";

/** Options of {@link conv1d}. */
export interface Conv1dOptions {
  /** Zeros added at both ends of the time axis, as PyTorch's integer `padding` (default 0). */
  padding?: number;
}

/**
 * 1-D convolution over time in the engine's [B, T, C] layout: x [B, T, Cin], weight [Cout, Cin, K]
 * (PyTorch's Conv1d layout, so weights exchange unchanged), bias [Cout]; the result is
 * [B, Tout, Cout] with Tout = T + 2·padding − K + 1 (stride 1, dilation 1, groups 1):
 *
 *   `y[b, t, o] = bias[o] + Σ_{c,k} weight[o, c, k] · x[b, t + k − padding, c]`
 *
 * which is PyTorch's `conv1d(x.transpose(1, 2), weight, bias, padding=padding).transpose(1, 2)`
 * (a cross-correlation, like every deep-learning "convolution").
 *
 * One GEMM does the work. im2col copies, for each output row (b, t), the K input rows
 * x[b, t − padding … t − padding + K − 1, :] side by side (zeros outside the sequence) into a
 * [B·Tout, K·Cin] matrix — K contiguous copies of Cin values per row — and the weight is permuted to
 * [Cout, K·Cin] to match, so `y = cols · W'ᵀ + bias`. Backward: `dW' = dyᵀ · cols` (permuted back
 * into weight's layout), `dcols = dy · W'` scattered back onto x (col2im), `dbias = Σ dy`.
 */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor, options: Conv1dOptions = {}): Tensor {
  const padding = options.padding ?? 0;
  const [batch, steps, cin] = x.shape as [number, number, number];
  const [cout, wCin, kernel] = weight.shape as [number, number, number];
  const tout = steps + 2 * padding - kernel + 1;
  if (!Number.isInteger(padding) || padding < 0) {
    throw new CryptomlError("USAGE", `conv1d.padding=${padding} must be an integer >= 0`);
  }
  if (x.shape.length !== 3 || weight.shape.length !== 3 || wCin !== cin || tout < 1) {
    throw new CryptomlError(
      "INTERNAL",
      `conv1d: input [${x.shape}] (B, T, Cin) does not fit weight [${weight.shape}] (Cout, Cin, K) with padding ${padding}`,
    );
  }
  if (bias !== undefined && (bias.shape.length !== 1 || bias.shape[0] !== cout)) {
    throw new CryptomlError("INTERNAL", `conv1d: bias [${bias.shape}] must be [${cout}]`);
  }
  const rows = batch * tout;
  const width = kernel * cin;
  const cols = im2col(x.data, batch, steps, cin, kernel, padding, tout);
  const wPerm = permuteWeight(weight.data, cout, cin, kernel);
  const out = new Float32Array(rows * cout);
  if (bias !== undefined) for (let r = 0; r < rows; r++) out.set(bias.data, r * cout);
  gemm({
    transA: false,
    transB: true,
    m: rows,
    n: cout,
    k: width,
    alpha: 1,
    a: cols,
    b: wPerm,
    beta: 1,
    c: out,
  });

  return result(out, [batch, tout, cout], [x, weight, bias], (g) => {
    if (weight.requiresGrad) {
      const dwPerm = new Float32Array(cout * width);
      gemm({
        transA: true,
        transB: false,
        m: cout,
        n: width,
        k: rows,
        alpha: 1,
        a: g,
        b: cols,
        beta: 0,
        c: dwPerm,
      });
      const gw = weight.gradBuffer();
      for (let o = 0; o < cout; o++) {
        for (let k = 0; k < kernel; k++) {
          for (let c = 0; c < cin; c++) {
            const i = (o * cin + c) * kernel + k;
            gw[i] = (gw[i] as number) + (dwPerm[o * width + k * cin + c] as number);
          }
        }
      }
    }
    if (bias?.requiresGrad) {
      const gb = bias.gradBuffer();
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < cout; o++) gb[o] = (gb[o] as number) + (g[r * cout + o] as number);
      }
    }
    if (x.requiresGrad) {
      const dcols = new Float32Array(rows * width);
      gemm({
        transA: false,
        transB: false,
        m: rows,
        n: width,
        k: cout,
        alpha: 1,
        a: g,
        b: wPerm,
        beta: 0,
        c: dcols,
      });
      col2imAdd(dcols, x.gradBuffer(), batch, steps, cin, kernel, padding, tout);
    }
  });
}

/** [B·Tout, K·Cin]: row (b, t) holds x[b, t − padding + k, :] for k = 0 … K − 1, zeros off the ends. */
function im2col(
  xs: Float32Array,
  batch: number,
  steps: number,
  cin: number,
  kernel: number,
  padding: number,
  tout: number,
): Float32Array {
  const width = kernel * cin;
  const cols = new Float32Array(batch * tout * width);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < tout; t++) {
      // The in-range taps form one contiguous run of x: copy it in one go.
      const first = Math.max(0, padding - t);
      const last = Math.min(kernel, steps + padding - t);
      if (last <= first) continue;
      const src = (b * steps + t - padding + first) * cin;
      cols.set(xs.subarray(src, src + (last - first) * cin), (b * tout + t) * width + first * cin);
    }
  }
  return cols;
}

/** Adds dcols back onto the input positions each im2col entry was copied from. */
function col2imAdd(
  dcols: Float32Array,
  gx: Float32Array,
  batch: number,
  steps: number,
  cin: number,
  kernel: number,
  padding: number,
  tout: number,
): void {
  const width = kernel * cin;
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < tout; t++) {
      const first = Math.max(0, padding - t);
      const last = Math.min(kernel, steps + padding - t);
      const dst = (b * steps + t - padding + first) * cin;
      const src = (b * tout + t) * width + first * cin;
      const n = Math.max(0, last - first) * cin;
      for (let i = 0; i < n; i++) gx[dst + i] = (gx[dst + i] as number) + (dcols[src + i] as number);
    }
  }
}

/** weight [Cout, Cin, K] → [Cout, K·Cin], matching im2col's column order. */
function permuteWeight(w: Float32Array, cout: number, cin: number, kernel: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let o = 0; o < cout; o++) {
    for (let c = 0; c < cin; c++) {
      for (let k = 0; k < kernel; k++)
        out[o * kernel * cin + k * cin + c] = w[(o * cin + c) * kernel + k] as number;
    }
  }
  return out;
}
