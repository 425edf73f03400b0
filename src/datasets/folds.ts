import { CryptomlError } from "../core/errors.js";
import type { Interval } from "../data/intervals.js";
import { type ChronologicalSplit, purgeBefore } from "./splits.js";
import type { BoundaryDrops, DatasetConfig, SampleRange, SampleTable, WalkForwardSpan } from "./types.js";

/** One walk-forward fold: train strictly before test, purged and embargoed against it. */
export interface Fold {
  readonly index: number;
  readonly train: SampleRange;
  readonly test: SampleRange;
  /** End rows [start, end) that make up the test block; test holds the valid samples among them. */
  readonly testRows: { readonly start: number; readonly end: number };
  readonly drops: BoundaryDrops;
}

/**
 * Builds `folds` consecutive test blocks over samples [0, `end`) (default: all), the last block ending
 * with sample `end − 1`. The dataset passes {@link foldSpanEnd}: by default the end of the samples before
 * the chronological test part, so no fold trains or tests on the held-out test part.
 *
 * Test blocks: with `test_size` set, each block is `test_size` candles of end rows, the last block ending
 * at the last valid end row (a block's samples are the valid ones ending inside it). With `test_size`
 * null, the N valid samples are cut as scikit-learn's TimeSeriesSplit does: each block holds
 * m = floor(N / (folds + 1)) samples, and the first N − folds·m samples form the initial training span.
 *
 * Train: `expanding` takes every sample ending before the block; `rolling` only those ending within the
 * `train_size` candles before it (null: as many candles as fold 0's expanding span, so every fold trains
 * on an equally long stretch). Then train is purged and embargoed against the block's first sample.
 *
 * Throws a DATASET error when a fold would have no test or no training samples.
 */
export function walkForwardFolds(
  samples: SampleTable,
  options: DatasetConfig["walk_forward"],
  embargo: number,
  interval: Interval,
  end: number = samples.count,
): Fold[] {
  if (options.folds === 0) return [];
  const blocks = testBlocks(samples, options, end);
  const firstEnd = samples.endRow[0] as number;
  const trainRows = options.train_size ?? (blocks[0]?.rows.start ?? firstEnd) - firstEnd;
  return blocks.map(({ test, rows }, index) => {
    if (test.end === test.start) {
      throw new CryptomlError(
        "DATASET",
        `walk-forward fold ${index} has no valid samples: end rows ${rows.start}..${rows.end - 1} hold none (a gap or warm-up)`,
        {
          hint: "lower dataset.walk_forward.folds, raise walk_forward.test_size, or load data without that gap",
        },
      );
    }
    const from =
      options.mode === "expanding" ? 0 : lowerBound(samples.endRow, rows.start - trainRows, 0, test.start);
    const purged = purgeBefore(
      samples,
      { start: from, end: test.start },
      samples.firstFeatureTime[test.start] as number,
      embargo,
      interval,
    );
    if (purged.range.end === purged.range.start) {
      throw new CryptomlError(
        "DATASET",
        `walk-forward fold ${index} has no training samples left (${test.start - from} before its test block, ` +
          `${purged.drops.purged} purged, ${purged.drops.embargoed} embargoed)`,
        {
          hint: "lower walk_forward.folds or walk_forward.test_size, raise walk_forward.train_size, or lower dataset.embargo",
        },
      );
    }
    return { index, train: purged.range, test, testRows: rows, drops: purged.drops };
  });
}

interface TestBlock {
  test: SampleRange;
  rows: { start: number; end: number };
}

function testBlocks(samples: SampleTable, options: DatasetConfig["walk_forward"], n: number): TestBlock[] {
  const { folds, test_size: size } = options;
  const firstEnd = samples.endRow[0] as number;
  const lastEnd = samples.endRow[n - 1] ?? firstEnd - 1;
  if (size !== null) {
    const start = lastEnd + 1 - folds * size;
    if (start <= firstEnd) {
      throw new CryptomlError(
        "DATASET",
        `walk-forward needs folds × test_size = ${folds} × ${size} = ${folds * size} candles of test blocks after ` +
          `some training, but the valid samples of its span end within ${lastEnd - firstEnd + 1} candles`,
        { hint: "lower dataset.walk_forward.folds or walk_forward.test_size, or load more candles" },
      );
    }
    return Array.from({ length: folds }, (_, j) => {
      const rows = { start: start + j * size, end: start + (j + 1) * size };
      const test = {
        start: lowerBound(samples.endRow, rows.start, 0, n),
        end: lowerBound(samples.endRow, rows.end, 0, n),
      };
      return { test, rows };
    });
  }
  const m = Math.floor(n / (folds + 1));
  if (m < 1) {
    throw new CryptomlError(
      "DATASET",
      `walk-forward with ${folds} folds needs at least folds + 1 = ${folds + 1} valid samples, found ${n} in its span`,
      {
        hint: "lower dataset.walk_forward.folds, load more candles, or set walk_forward.span: all to include the test part",
      },
    );
  }
  return Array.from({ length: folds }, (_, j) => {
    const test = { start: n - (folds - j) * m, end: n - (folds - j - 1) * m };
    const rows = {
      start: samples.endRow[test.start] as number,
      end: (samples.endRow[test.end - 1] as number) + 1,
    };
    return { test, rows };
  });
}

/** First index in [lo, hi) whose value is ≥ `target` (hi when none). */
function lowerBound(sorted: Int32Array, target: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Where the folds' span ends: with `span: all`, after the last sample; with `before_test`, after the
 * last part before the chronological test part (validation, else train), which the split has already
 * purged and embargoed against test — so no fold's label reaches the test part either.
 */
export function foldSpanEnd(split: ChronologicalSplit, span: WalkForwardSpan, count: number): number {
  if (span === "all") return count;
  const { train, validation } = split;
  return validation.end > validation.start ? validation.end : train.end;
}
