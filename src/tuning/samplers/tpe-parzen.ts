/**
 * The Parzen estimator of TPE: a mixture, with one kernel per observed trial plus a prior kernel, of
 * products over the parameters of (a) truncated normals in the transformed space (log for log-scale
 * parameters, widened by half a step for discrete ones) or (b) categorical distributions that put most
 * of a kernel's mass on its observed choice. Values cross this module in Optuna's internal form (a float;
 * a categorical's choice index). The kernel widths, the prior and the magic clip follow Optuna's
 * `parzen_estimator.py`, so that the two samplers search alike; the arrays are typed and per-kernel
 * constants (the truncation mass, log σ) are computed once per estimator, not once per candidate.
 */
import type { Rng } from "../../engine/random.js";
import type { Distribution } from "../types.js";
import { LOG_SQRT_2PI, logGaussMass, truncnormPpf } from "./tpe-math.js";

export interface ParzenEstimatorParameters {
  /** Weight of the prior kernel relative to an observation's (Optuna: 1). */
  readonly priorWeight: number;
  /** Floors σ at range / min(100, kernels + 1), so that few observations do not give needle kernels. */
  readonly considerMagicClip: boolean;
  /** Whether the first and last kernel may widen to reach the range's ends. */
  readonly considerEndpoints: boolean;
  /** Observation weights for n observations in trial-number order (older first). */
  readonly weights: (n: number) => ArrayLike<number>;
}

/** Avoids σ = 0 when two observations coincide and the magic clip is off. */
const EPS = 1e-12;

interface NumericalDim {
  readonly kind: "numerical";
  readonly mu: Float64Array;
  readonly sigma: Float64Array;
  /** Log normaliser of each kernel: log of its mass inside [low, high]. */
  readonly logMass: Float64Array;
  /** Bounds in transformed space (log-scaled, widened by half a step for discrete parameters). */
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  /** 0 for continuous parameters. */
  readonly step: number;
  /** Untransformed bounds, for rounding a discrete draw back onto its grid. */
  readonly rawLow: number;
  readonly rawHigh: number;
  /**
   * Discrete parameters only: kernels with equal (μ, σ) share one column. Integer observations repeat
   * a lot, and a grid cell's mass costs two erfc evaluations, so each distinct kernel is evaluated once.
   */
  readonly unique: {
    readonly of: Int32Array;
    readonly mu: Float64Array;
    readonly sigma: Float64Array;
    readonly logMass: Float64Array;
  } | null;
}

interface CategoricalDim {
  readonly kind: "categorical";
  readonly nChoices: number;
  /** kernels × choices, row-major, each row summing to 1. */
  readonly probs: Float64Array;
  readonly logProbs: Float64Array;
}

type Dim = NumericalDim | CategoricalDim;

/** Optuna's default_weights: flat for the 25 newest observations, a linear ramp down for older ones. */
export function defaultWeights(n: number): Float64Array {
  const w = new Float64Array(n).fill(1);
  if (n < 25) return w;
  const ramp = n - 25;
  // numpy.linspace(1/n, 1, ramp): both ends included.
  for (let i = 0; i < ramp; i++) w[i] = ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1);
  return w;
}

export class ParzenEstimator {
  readonly nKernels: number;
  /** Mixture weights, summing to 1 (last entry: the prior). */
  private readonly weights: Float64Array;
  private readonly logWeights: Float64Array;
  private readonly dims: Dim[];

  /**
   * @param observations one array per parameter of `space` (same order), each holding the internal
   * values of the same n trials in trial-number order.
   */
  constructor(
    observations: readonly Float64Array[],
    space: readonly Distribution[],
    params: ParzenEstimatorParameters,
  ) {
    const n = observations[0]?.length ?? 0;
    this.nKernels = n + 1;
    const w = new Float64Array(n + 1);
    if (n === 0) {
      w[0] = 1;
    } else {
      const raw = params.weights(n);
      let sum = params.priorWeight;
      for (let i = 0; i < n; i++) {
        const wi = raw[i] ?? Number.NaN;
        if (!(wi >= 0) || !Number.isFinite(wi)) {
          throw new RangeError(`TPE weights(${n}) returned ${wi} at ${i}; weights must be finite and >= 0`);
        }
        w[i] = wi;
        sum += wi;
      }
      w[n] = params.priorWeight;
      if (!(sum > 0))
        throw new RangeError(`TPE weights(${n}) are all zero; give some observation a positive weight`);
      for (let i = 0; i <= n; i++) w[i] = (w[i] as number) / sum;
    }
    this.weights = w;
    this.logWeights = w.map(Math.log);
    this.dims = space.map((d, i) => buildDim(observations[i] ?? new Float64Array(0), d, params));
  }

  /**
   * `size` draws from the mixture, one Float64Array (internal values) per parameter. With `sigmaScale`
   * < 1 each numerical kernel is narrowed by that factor (categorical kernels are unchanged).
   */
  sample(rng: Rng, size: number, sigmaScale = 1): Float64Array[] {
    const kernels = new Int32Array(size);
    const cum = new Float64Array(this.nKernels);
    let acc = 0;
    for (let k = 0; k < this.nKernels; k++) cum[k] = acc += this.weights[k] as number;
    for (let s = 0; s < size; s++) kernels[s] = searchCumulative(cum, rng.uniform() * acc);
    return this.dims.map((dim) => {
      const out = new Float64Array(size);
      for (let s = 0; s < size; s++) out[s] = sampleDim(dim, kernels[s] as number, rng, sigmaScale);
      return out;
    });
  }

  /** log of the mixture density (or mass, for discrete parameters) at each of the `samples`. */
  logPdf(samples: readonly Float64Array[]): Float64Array {
    const size = samples[0]?.length ?? 0;
    const K = this.nKernels;
    // acc[s·K + k]: log of weight k times kernel k's density at sample s.
    const acc = new Float64Array(size * K);
    for (let s = 0; s < size; s++) acc.set(this.logWeights, s * K);
    this.dims.forEach((dim, i) => {
      addDimLogPdf(dim, samples[i] as Float64Array, acc, K);
    });
    const out = new Float64Array(size);
    for (let s = 0; s < size; s++) {
      const row = s * K;
      let max = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < K; k++) if ((acc[row + k] as number) > max) max = acc[row + k] as number;
      if (max === Number.NEGATIVE_INFINITY) {
        out[s] = max;
        continue;
      }
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp((acc[row + k] as number) - max);
      out[s] = max + Math.log(sum);
    }
    return out;
  }
}

/** The first index whose cumulative weight exceeds u (binary search). */
function searchCumulative(cum: Float64Array, u: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cum[mid] as number) > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function buildDim(obs: Float64Array, d: Distribution, params: ParzenEstimatorParameters): Dim {
  const n = obs.length;
  if (d.kind === "categorical") {
    const c = d.choices.length;
    const K = n + 1;
    const probs = new Float64Array(K * c);
    if (n === 0) {
      probs.fill(1 / c);
    } else {
      // Every kernel spreads priorWeight/K over all choices and adds 1 on its own choice (the prior
      // row has none), then rows are normalised: Optuna's categorical kernel.
      probs.fill(params.priorWeight / K);
      for (let i = 0; i < n; i++)
        probs[i * c + (obs[i] as number)] = (probs[i * c + (obs[i] as number)] as number) + 1;
      for (let k = 0; k < K; k++) {
        let sum = 0;
        for (let j = 0; j < c; j++) sum += probs[k * c + j] as number;
        if (sum > 0) for (let j = 0; j < c; j++) probs[k * c + j] = (probs[k * c + j] as number) / sum;
      }
    }
    return { kind: "categorical", nChoices: c, probs, logProbs: probs.map(Math.log) };
  }
  const step = d.step ?? 0;
  let low = d.low - step / 2;
  let high = d.high + step / 2;
  const mu = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) mu[i] = d.log ? Math.log(obs[i] as number) : (obs[i] as number);
  if (d.log) {
    low = Math.log(low);
    high = Math.log(high);
  }
  const sigma = new Float64Array(n + 1);
  if (n > 0) kernelWidths(mu, sigma, n, low, high, params);
  mu[n] = 0.5 * (low + high);
  sigma[n] = high - low;
  const logMass = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) {
    const s = sigma[k] as number;
    logMass[k] = logGaussMass((low - (mu[k] as number)) / s, (high - (mu[k] as number)) / s);
  }
  const unique = step > 0 ? uniqueKernels(mu, sigma, logMass) : null;
  return {
    kind: "numerical",
    mu,
    sigma,
    logMass,
    low,
    high,
    log: d.log,
    step,
    rawLow: d.low,
    rawHigh: d.high,
    unique,
  };
}

function uniqueKernels(mu: Float64Array, sigma: Float64Array, logMass: Float64Array): NumericalDim["unique"] {
  const K = mu.length;
  const of = new Int32Array(K);
  const ids = new Map<number, Map<number, number>>();
  const uMu: number[] = [];
  const uSigma: number[] = [];
  const uLogMass: number[] = [];
  for (let k = 0; k < K; k++) {
    const m = mu[k] as number;
    const s = sigma[k] as number;
    let bySigma = ids.get(m);
    if (bySigma === undefined) {
      bySigma = new Map();
      ids.set(m, bySigma);
    }
    let id = bySigma.get(s);
    if (id === undefined) {
      id = uMu.length;
      bySigma.set(s, id);
      uMu.push(m);
      uSigma.push(s);
      uLogMass.push(logMass[k] as number);
    }
    of[k] = id;
  }
  return {
    of,
    mu: Float64Array.from(uMu),
    sigma: Float64Array.from(uSigma),
    logMass: Float64Array.from(uLogMass),
  };
}

/**
 * σ of each observation's kernel: the larger gap to its sorted neighbours (the range's ends count as
 * neighbours), then clipped to [magic floor, range].
 */
function kernelWidths(
  mu: Float64Array,
  sigma: Float64Array,
  n: number,
  low: number,
  high: number,
  params: ParzenEstimatorParameters,
): void {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Stable on ties (numpy argsort is quicksort there, but equal μ give equal gaps either way).
  order.sort((a, b) => (mu[a] as number) - (mu[b] as number) || a - b);
  const sorted = new Float64Array(n + 2);
  sorted[0] = low;
  for (let i = 0; i < n; i++) sorted[i + 1] = mu[order[i] as number] as number;
  sorted[n + 1] = high;
  const sortedSigma = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const left = (sorted[i + 1] as number) - (sorted[i] as number);
    const right = (sorted[i + 2] as number) - (sorted[i + 1] as number);
    sortedSigma[i] = Math.max(left, right);
  }
  if (!params.considerEndpoints && n >= 2) {
    sortedSigma[0] = (sorted[2] as number) - (sorted[1] as number);
    sortedSigma[n - 1] = (sorted[n] as number) - (sorted[n - 1] as number);
  }
  const maxSigma = high - low;
  const minSigma = params.considerMagicClip ? (high - low) / Math.min(100, n + 2) : EPS;
  for (let i = 0; i < n; i++) {
    sigma[order[i] as number] = Math.min(maxSigma, Math.max(minSigma, sortedSigma[i] as number));
  }
}

function sampleDim(dim: Dim, k: number, rng: Rng, sigmaScale = 1): number {
  if (dim.kind === "categorical") {
    const c = dim.nChoices;
    const u = rng.uniform();
    let cum = 0;
    for (let j = 0; j < c - 1; j++) {
      cum += dim.probs[k * c + j] as number;
      if (u < cum) return j;
    }
    return c - 1;
  }
  const m = dim.mu[k] as number;
  const s = (dim.sigma[k] as number) * sigmaScale;
  const a = (dim.low - m) / s;
  const b = (dim.high - m) / s;
  const z = truncnormPpf(
    rng.uniform(),
    a,
    b,
    sigmaScale === 1 ? (dim.logMass[k] as number) : logGaussMass(a, b),
  );
  let x = Math.min(dim.high, Math.max(dim.low, m + s * z));
  if (dim.log) x = Math.exp(x);
  if (dim.step > 0) {
    x = dim.rawLow + Math.round((x - dim.rawLow) / dim.step) * dim.step;
    x = Math.min(dim.rawHigh, Math.max(dim.rawLow, x));
  } else if (dim.log) {
    // exp(log(high)) can round above high.
    x = Math.min(dim.rawHigh, Math.max(dim.rawLow, x));
  }
  return x;
}

/** Adds each kernel's log density of this parameter at every sample into `acc` (samples × K). */
function addDimLogPdf(dim: Dim, xs: Float64Array, acc: Float64Array, K: number): void {
  const size = xs.length;
  if (dim.kind === "categorical") {
    const c = dim.nChoices;
    for (let s = 0; s < size; s++) {
      const x = xs[s] as number;
      for (let k = 0; k < K; k++)
        acc[s * K + k] = (acc[s * K + k] as number) + (dim.logProbs[k * c + x] as number);
    }
    return;
  }
  if (dim.step === 0) {
    const { mu, sigma, logMass } = dim;
    const konst = new Float64Array(K);
    const inv = new Float64Array(K);
    for (let k = 0; k < K; k++) {
      inv[k] = 1 / (sigma[k] as number);
      konst[k] = -LOG_SQRT_2PI - (logMass[k] as number) - Math.log(sigma[k] as number);
    }
    for (let s = 0; s < size; s++) {
      const x = dim.log ? Math.log(xs[s] as number) : (xs[s] as number);
      const row = s * K;
      for (let k = 0; k < K; k++) {
        const z = (x - (mu[k] as number)) * (inv[k] as number);
        acc[row + k] = (acc[row + k] as number) + (konst[k] as number) - 0.5 * z * z;
      }
    }
    return;
  }
  // Discrete: the kernel's mass on the grid cell [x − step/2, x + step/2]. Candidates often repeat a
  // grid value, so each distinct value's row is computed once.
  const rows = new Map<number, Float64Array>();
  const u = dim.unique as NonNullable<NumericalDim["unique"]>;
  const U = u.mu.length;
  const lpU = new Float64Array(U);
  for (let s = 0; s < size; s++) {
    const x = xs[s] as number;
    let lp = rows.get(x);
    if (lp === undefined) {
      let left = x - dim.step / 2;
      let right = x + dim.step / 2;
      if (dim.log) {
        left = Math.log(left);
        right = Math.log(right);
      }
      for (let j = 0; j < U; j++) {
        const m = u.mu[j] as number;
        const inv = 1 / (u.sigma[j] as number);
        lpU[j] = logGaussMass((left - m) * inv, (right - m) * inv) - (u.logMass[j] as number);
      }
      lp = new Float64Array(K);
      for (let k = 0; k < K; k++) lp[k] = lpU[u.of[k] as number] as number;
      rows.set(x, lp);
    }
    const row = s * K;
    for (let k = 0; k < K; k++) acc[row + k] = (acc[row + k] as number) + (lp[k] as number);
  }
}
