import { CryptomlError } from "../../core/errors.js";
import { result, type Tensor } from "../tensor.js";

/**
 * Layer normalisation over the last dimension, like nn.LayerNorm(D, eps) with its affine parameters:
 * for each row x of D values, `y = (x − μ) / √(σ² + eps) · γ + β` with μ the mean and σ² the biased
 * variance (divided by D, not D − 1). x is [..., D]; gamma and beta are [D].
 *
 * Row statistics are computed in float64 with two passes (mean, then squared deviations), so rows with
 * a large common offset lose no precision. Backward, with x̂ = (x − μ)·rstd saved from the forward:
 * `dγ = Σ dy·x̂`, `dβ = Σ dy`, and with `g = dy·γ`,
 * `dx = rstd · (g − mean(g) − x̂ · mean(g·x̂))` per row.
 *
 * @param eps added to the variance (default 1e-5, PyTorch's default).
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const d = x.shape[x.shape.length - 1] as number;
  if (x.shape.length === 0 || gamma.shape.length !== 1 || gamma.shape[0] !== d || beta.size !== d) {
    throw new CryptomlError(
      "INTERNAL",
      `layerNorm: input [${x.shape}] needs gamma and beta of shape [${d}], got [${gamma.shape}] and [${beta.shape}]`,
    );
  }
  const rows = d === 0 ? 0 : x.size / d;
  const xhat = new Float32Array(x.size);
  const rstd = new Float64Array(rows);
  const out = new Float32Array(x.size);
  const xs = x.data;
  const gs = gamma.data;
  const bs = beta.data;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    let total = 0;
    for (let j = 0; j < d; j++) total += xs[base + j] as number;
    const mu = total / d;
    let squares = 0;
    for (let j = 0; j < d; j++) {
      const c = (xs[base + j] as number) - mu;
      squares += c * c;
    }
    const s = 1 / Math.sqrt(squares / d + eps);
    rstd[r] = s;
    for (let j = 0; j < d; j++) {
      const h = ((xs[base + j] as number) - mu) * s;
      xhat[base + j] = h;
      out[base + j] = h * (gs[j] as number) + (bs[j] as number);
    }
  }
  return result(out, x.shape, [x, gamma, beta], (g) => {
    if (gamma.requiresGrad || beta.requiresGrad) {
      const gg = gamma.requiresGrad ? gamma.gradBuffer() : null;
      const gb = beta.requiresGrad ? beta.gradBuffer() : null;
      for (let r = 0; r < rows; r++) {
        const base = r * d;
        for (let j = 0; j < d; j++) {
          const dy = g[base + j] as number;
          if (gg) gg[j] = (gg[j] as number) + dy * (xhat[base + j] as number);
          if (gb) gb[j] = (gb[j] as number) + dy;
        }
      }
    }
    if (!x.requiresGrad) return;
    const gx = x.gradBuffer();
    for (let r = 0; r < rows; r++) {
      const base = r * d;
      let sumG = 0;
      let sumGH = 0;
      for (let j = 0; j < d; j++) {
        const gj = (g[base + j] as number) * (gs[j] as number);
        sumG += gj;
        sumGH += gj * (xhat[base + j] as number);
      }
      const meanG = sumG / d;
      const meanGH = sumGH / d;
      const s = rstd[r] as number;
      for (let j = 0; j < d; j++) {
        const gj = (g[base + j] as number) * (gs[j] as number);
        gx[base + j] = (gx[base + j] as number) + s * (gj - meanG - (xhat[base + j] as number) * meanGH);
      }
    }
  });
}
