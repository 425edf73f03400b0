import { CryptomlError } from "../../core/errors.js";
import type { Rng } from "../random.js";
import { result, type Tensor } from "../tensor.js";

/**
 * Inverted dropout (nn.Dropout): while training, each element is zeroed with probability `p` and the
 * survivors are scaled by 1/(1 − p), so the expected value is unchanged and inference needs no
 * rescaling. Returns `x` itself when `training` is false or `p` is 0; p = 1 zeroes everything.
 *
 * The mask is drawn from `rng`, one 32-bit draw per element (an element survives when its draw is
 * ≥ p·2³²), so a seeded `rng` gives a reproducible mask. Backward multiplies the gradient by the same
 * saved mask (0 or 1/(1 − p) per element).
 */
export function dropout(x: Tensor, p: number, rng: Rng, training: boolean): Tensor {
  if (!(p >= 0 && p <= 1)) {
    throw new CryptomlError("USAGE", `dropout.p=${p} must be in [0, 1]`);
  }
  if (!training || p === 0) return x;
  const n = x.size;
  const mask = new Float32Array(n);
  if (p < 1) {
    const keepScale = 1 / (1 - p);
    const threshold = p * 4294967296;
    for (let i = 0; i < n; i++) if (rng.uint32() >= threshold) mask[i] = keepScale;
  }
  const out = new Float32Array(n);
  const xs = x.data;
  for (let i = 0; i < n; i++) out[i] = (xs[i] as number) * (mask[i] as number);
  return result(out, x.shape, [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < n; i++) gx[i] = (gx[i] as number) + (g[i] as number) * (mask[i] as number);
  });
}
