/**
 * Test data for the Trainer: windows held in memory behind the BatchSource interface, and a synthetic
 * series with a known autoregressive signal, whose best achievable R² is known in closed form.
 */
import { CryptomlError } from "../core/errors.js";
import type { Scaler } from "../datasets/scalers.js";
import type { Batch, BatchSource } from "../datasets/windows.js";
import { Rng } from "../engine/random.js";
import type { ModelIo } from "../models/definition.js";
import type { TrainingData } from "./trainer.js";

/** Windows x [count, window, features] and their targets, served in any order. */
export class ArrayBatchSource implements BatchSource {
  /** The windows are used as given (already on a unit scale). */
  readonly scaler: Scaler = {
    kind: "none",
    features: [],
    center: new Float64Array(0),
    scale: new Float64Array(0),
    toJSON: () =>
      ({ kind: "none", features: [], center: [], scale: [] }) as unknown as ReturnType<Scaler["toJSON"]>,
  };

  constructor(
    readonly x: Float32Array,
    readonly yReg: Float32Array,
    readonly window: number,
    readonly features: number,
  ) {}

  batch(indices: ArrayLike<number>): Batch {
    const n = indices.length;
    const span = this.window * this.features;
    const x = new Float32Array(n * span);
    const yReg = new Float32Array(n);
    const yCls = new Float32Array(n);
    const index = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = indices[k] as number;
      if (i < 0 || i >= this.yReg.length) throw new CryptomlError("DATASET", `sample ${i} out of range`);
      x.set(this.x.subarray(i * span, (i + 1) * span), k * span);
      yReg[k] = this.yReg[i] as number;
      yCls[k] = (this.yReg[i] as number) > 0 ? 1 : 0;
      index[k] = i;
    }
    return {
      x,
      shape: [n, this.window, this.features],
      y: yReg,
      yReg,
      yCls,
      index,
      endRow: index,
      firstFeatureTime: new Float64Array(n),
      labelTime: new Float64Array(n),
    };
  }

  *batches(indices: ArrayLike<number>, batchSize: number): IterableIterator<Batch> {
    const all = Int32Array.from(indices);
    for (let s = 0; s < all.length; s += batchSize) yield this.batch(all.subarray(s, s + batchSize));
  }
}

const range = (from: number, to: number): Int32Array =>
  Int32Array.from({ length: to - from }, (_, i) => from + i);

/**
 * An AR(1) series r_t = φ·r_{t−1} + ε_t (ε ~ N(0, 1)); each sample's window holds r over `window`
 * steps (and `noiseFeatures` columns of pure noise), its target is the next r. The best possible
 * predictor is φ·r_last, whose R² is φ² (the stationary variance of r is 1/(1 − φ²)).
 */
export function autoregressiveData(options: {
  samples: number;
  window: number;
  phi: number;
  seed: number;
  noiseFeatures?: number;
  validationShare?: number;
}): { data: TrainingData; io: Omit<ModelIo, "head">; achievableR2: number; source: ArrayBatchSource } {
  const { samples, window, phi, seed } = options;
  const extra = options.noiseFeatures ?? 1;
  const features = 1 + extra;
  const rng = new Rng(seed);
  const length = samples + window + 100;
  const r = new Float64Array(length);
  for (let t = 1; t < length; t++) r[t] = phi * (r[t - 1] as number) + rng.normal();
  const x = new Float32Array(samples * window * features);
  const y = new Float32Array(samples);
  for (let n = 0; n < samples; n++) {
    const start = 100 + n;
    for (let tau = 0; tau < window; tau++) {
      const base = (n * window + tau) * features;
      x[base] = r[start + tau] as number;
      for (let f = 1; f < features; f++) x[base + f] = rng.normal();
    }
    y[n] = r[start + window] as number;
  }
  const cut = Math.floor(samples * (1 - (options.validationShare ?? 0.25)));
  const source = new ArrayBatchSource(x, y, window, features);
  return {
    data: { source, trainIndices: range(0, cut), validationIndices: range(cut, samples) },
    io: { window, features, returnScale: 1 },
    achievableR2: phi * phi,
    source,
  };
}
