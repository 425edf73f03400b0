import { CryptomlError } from "../core/errors.js";
import type { FeatureFrame } from "../features/types.js";
import { type Scaler, scaleFrame } from "./scalers.js";
import type { SampleRange, SampleTable, TargetKind } from "./types.js";

/**
 * Windows and targets of some samples, materialised. `x` is sample-major and row-major:
 * x[((n · T) + τ) · F + f] is feature f of window row τ (0 = oldest) of the n-th requested sample.
 */
export interface Batch {
  readonly x: Float32Array;
  /** [samples, window T, features F]. */
  readonly shape: readonly [number, number, number];
  /** The configured target: `yCls` for a classification target, `yReg` for regression and both. */
  readonly y: Float32Array;
  readonly yReg: Float32Array;
  /** 1 up, 0 down, NaN inside the dead zone (evaluation samples, or any sample with a regression target). */
  readonly yCls: Float32Array;
  /** The sample indices this batch holds, in order. */
  readonly index: Int32Array;
  readonly endRow: Int32Array;
  readonly firstFeatureTime: Float64Array;
  readonly labelTime: Float64Array;
}

/** What a Trainer needs: scaled windows for any set of sample indices, one batch at a time. */
export interface BatchSource {
  readonly scaler: Scaler;
  /** Materialises the given samples (indices into the sample table) in the given order. */
  batch(indices: ArrayLike<number>): Batch;
  /** Yields consecutive batches of at most `batchSize` of `indices`, so memory stays at one batch. */
  batches(indices: ArrayLike<number>, batchSize: number): IterableIterator<Batch>;
}

/**
 * Serves windows of a sample table from a frame scaled once (rows × F floats, a few MB), so memory
 * grows with the batch, not with N × T × F: 65k samples of 64 × 14 would be ~240 MB materialised.
 *
 * With `parts`, only samples inside those ranges are served: a source scaled for one split or fold
 * refuses the samples of another, whose scaling would have seen their future (a fold's test block scaled
 * with the split's scaler, fitted on rows long after it, for one).
 */
export class WindowBatchSource implements BatchSource {
  private scaled: Float32Array | undefined;

  constructor(
    private readonly samples: SampleTable,
    private readonly frame: FeatureFrame,
    readonly scaler: Scaler,
    private readonly targetKind: TargetKind,
    private readonly parts?: readonly { readonly name: string; readonly range: SampleRange }[],
  ) {}

  batch(indices: ArrayLike<number>): Batch {
    this.scaled ??= scaleFrame(this.frame, this.scaler);
    const scaled = this.scaled;
    const { samples } = this;
    const n = indices.length;
    const width = this.frame.columns.length;
    const span = samples.window * width;
    const x = new Float32Array(n * span);
    const pick = <A extends Float32Array | Float64Array | Int32Array>(out: A, column: A): A => {
      for (let k = 0; k < n; k++) out[k] = column[indices[k] as number] as number;
      return out;
    };
    const index = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = indices[k] as number;
      if (!Number.isInteger(i) || i < 0 || i >= samples.count) {
        throw new CryptomlError(
          "DATASET",
          `sample index ${i} at position ${k} is outside 0..${samples.count - 1}`,
          {
            hint: "take indices from dataset.indices(range) of a split or fold",
          },
        );
      }
      if (this.parts !== undefined) this.requireInPart(i, k);
      index[k] = i;
      const firstRow = (samples.endRow[i] as number) - samples.window + 1;
      // Rows of one window are adjacent in the row-major scaled frame: one copy per sample.
      x.set(scaled.subarray(firstRow * width, firstRow * width + span), k * span);
    }
    const yReg = pick(new Float32Array(n), samples.yReg);
    const yCls = pick(new Float32Array(n), samples.yCls);
    return {
      x,
      shape: [n, samples.window, width],
      y: this.targetKind === "classification" ? yCls : yReg,
      yReg,
      yCls,
      index,
      endRow: pick(new Int32Array(n), samples.endRow),
      firstFeatureTime: pick(new Float64Array(n), samples.firstFeatureTime),
      labelTime: pick(new Float64Array(n), samples.labelTime),
    };
  }

  private requireInPart(i: number, position: number): void {
    const parts = this.parts ?? [];
    if (parts.some(({ range }) => i >= range.start && i < range.end)) return;
    const listed = parts.map(({ name, range }) => `${name} ${range.start}..${range.end - 1}`).join(", ");
    throw new CryptomlError(
      "DATASET",
      `sample index ${i} at position ${position} is in none of this source's parts (${listed}); its scaler was not fitted for it`,
      {
        hint: "batch a split's samples from dataset.split.source and a fold's from dataset.fold(k), using their index lists",
      },
    );
  }

  *batches(indices: ArrayLike<number>, batchSize: number): IterableIterator<Batch> {
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new CryptomlError("DATASET", `batchSize=${batchSize} must be an integer >= 1`, {
        hint: "pass the training batch size, e.g. 256",
      });
    }
    const all = Int32Array.from(indices);
    for (let start = 0; start < all.length; start += batchSize) {
      yield this.batch(all.subarray(start, start + batchSize));
    }
  }
}
