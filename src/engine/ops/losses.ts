/**
 * Loss functions with PyTorch's default mean reduction; each returns a scalar tensor (shape []) and
 * is one autograd node. Targets are constants (no gradient flows into them). Sums are accumulated in
 * float64, so the mean over a large batch loses nothing to float32 rounding.
 */
import { CryptomlError } from "../../core/errors.js";
import { result, type Tensor } from "../tensor.js";

function sameSize(pred: Tensor, target: Tensor, op: string): number {
  if (pred.size !== target.size || pred.size === 0) {
    throw new CryptomlError(
      "INTERNAL",
      `${op}: prediction [${pred.shape}] and target [${target.shape}] must have the same, non-zero size`,
    );
  }
  return pred.size;
}

/**
 * A mean over elements `f(pred[i], target[i])` with the derivative `df` (with respect to pred),
 * both as functions of the prediction and the target; backward scales df by dL / n.
 */
function meanLoss(
  pred: Tensor,
  target: Tensor,
  op: string,
  f: (p: number, t: number) => number,
  df: (p: number, t: number) => number,
): Tensor {
  const n = sameSize(pred, target, op);
  const ps = pred.data;
  const ts = target.data;
  let total = 0;
  for (let i = 0; i < n; i++) total += f(ps[i] as number, ts[i] as number);
  const out = Float32Array.of(total / n);
  return result(out, [], [pred], (g) => {
    const k = (g[0] as number) / n;
    const gp = pred.gradBuffer();
    for (let i = 0; i < n; i++) gp[i] = (gp[i] as number) + k * df(ps[i] as number, ts[i] as number);
  });
}

/** nn.MSELoss: `mean((pred − target)²)`; d/dpred = 2(pred − target)/n. */
export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  return meanLoss(
    pred,
    target,
    "mseLoss",
    (p, t) => (p - t) * (p - t),
    (p, t) => 2 * (p - t),
  );
}

/**
 * nn.HuberLoss(delta): with d = pred − target, `0.5·d²` where |d| < delta and
 * `delta·(|d| − 0.5·delta)` elsewhere, averaged; d/dpred = d clipped to [−delta, delta], over n.
 *
 * @param delta where the loss turns from quadratic to linear (default 1, must be > 0).
 */
export function huberLoss(pred: Tensor, target: Tensor, delta = 1): Tensor {
  if (!(delta > 0)) throw new CryptomlError("USAGE", `huberLoss.delta=${delta} must be > 0`);
  return meanLoss(
    pred,
    target,
    "huberLoss",
    (p, t) => {
      const d = Math.abs(p - t);
      return d < delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
    },
    (p, t) => Math.min(delta, Math.max(-delta, p - t)),
  );
}

/**
 * nn.BCEWithLogitsLoss: binary cross-entropy on logits x with targets y in [0, 1], in the stable form
 * `max(x, 0) − x·y + log(1 + exp(−|x|))` (no overflow for any x, no log(0)); averaged.
 * d/dx = (sigmoid(x) − y)/n.
 */
export function bceWithLogitsLoss(logits: Tensor, target: Tensor): Tensor {
  return meanLoss(
    logits,
    target,
    "bceWithLogitsLoss",
    (x, y) => Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x))),
    (x, y) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))) - y,
  );
}

/**
 * nn.CrossEntropyLoss on logits [N, C] and class indices [N] (each in [0, C)):
 * `mean over rows of (logsumexp(row) − row[class])`, computed with the row maximum subtracted.
 * d/dlogits = (softmax(row) − onehot(class))/N.
 */
export function crossEntropyLoss(logits: Tensor, classes: Int32Array): Tensor {
  const [rows, width] = logits.shape as [number, number];
  if (logits.shape.length !== 2 || rows !== classes.length || rows === 0) {
    throw new CryptomlError(
      "INTERNAL",
      `crossEntropyLoss: logits [${logits.shape}] must be [N, C] with N = ${classes.length} classes given`,
    );
  }
  for (let r = 0; r < rows; r++) {
    const c = classes[r] as number;
    if (c < 0 || c >= width) {
      throw new CryptomlError("USAGE", `crossEntropyLoss: classes[${r}]=${c} must be in [0, ${width})`);
    }
  }
  const xs = logits.data;
  // Per row: the maximum and log Σ exp(x − max), saved so that backward rebuilds softmax exactly.
  const rowMax = new Float64Array(rows);
  const rowLogSum = new Float64Array(rows);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    let max = -Infinity;
    for (let j = 0; j < width; j++) max = Math.max(max, xs[base + j] as number);
    let s = 0;
    for (let j = 0; j < width; j++) s += Math.exp((xs[base + j] as number) - max);
    const logSum = Math.log(s);
    rowMax[r] = max;
    rowLogSum[r] = logSum;
    total += max + logSum - (xs[base + (classes[r] as number)] as number);
  }
  const out = Float32Array.of(total / rows);
  return result(out, [], [logits], (g) => {
    const k = (g[0] as number) / rows;
    const gx = logits.gradBuffer();
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      const shift = (rowMax[r] as number) + (rowLogSum[r] as number);
      for (let j = 0; j < width; j++) {
        const p = Math.exp((xs[base + j] as number) - shift);
        gx[base + j] = (gx[base + j] as number) + k * p;
      }
      const at = base + (classes[r] as number);
      gx[at] = (gx[at] as number) - k;
    }
  });
}
