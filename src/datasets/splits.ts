import type { Interval } from "../data/intervals.js";
import { openTimeBefore } from "./times.js";
import type { BoundaryDrops, DatasetConfig, SampleRange, SampleTable } from "./types.js";

/** Train / validation / test as sample ranges, each already purged and embargoed against what follows. */
export interface ChronologicalSplit {
  readonly train: SampleRange;
  readonly validation: SampleRange;
  readonly test: SampleRange;
  /** Samples after the test part when the fractions sum to less than 1; used by no part. */
  readonly unused: SampleRange;
  /** What was cut from the end of train and of validation. */
  readonly drops: { readonly train: BoundaryDrops; readonly validation: BoundaryDrops };
}

/** A range cut back so its labels stay clear of a later part, and how many samples that took. */
export interface PurgeResult {
  readonly range: SampleRange;
  readonly drops: BoundaryDrops;
}

/**
 * Cuts samples off the end of `range` until every kept sample satisfies
 * labelTime < nextFirstFeatureTime − embargo candles. Samples whose label candle closes at or after
 * the next part's first feature open are "purged" (their target overlaps the next part's inputs); those
 * closing within the `embargo` candles before it are "embargoed" (guarding against serial correlation
 * that outlives the label horizon). Relies on labelTime rising with the sample index, which holds
 * because end rows and open times both strictly increase.
 */
export function purgeBefore(
  samples: SampleTable,
  range: SampleRange,
  nextFirstFeatureTime: number,
  embargo: number,
  interval: Interval,
): PurgeResult {
  const embargoLine = openTimeBefore(interval, nextFirstFeatureTime, embargo);
  let end = range.end;
  let purged = 0;
  let embargoed = 0;
  while (end > range.start) {
    const label = samples.labelTime[end - 1] as number;
    if (label >= nextFirstFeatureTime) purged++;
    else if (label >= embargoLine) embargoed++;
    else break;
    end--;
  }
  return { range: { start: range.start, end }, drops: { purged, embargoed } };
}

/**
 * Splits the valid samples in time order: with N samples, train is [0, round(N·train)), validation
 * runs to round(N·(train+validation)), test to round(N·(train+validation+test)); anything after is
 * unused. Then validation is purged and embargoed against test, and train against the first later part
 * still holding samples (validation, else test). Purging only shortens a part from its end, so every later
 * part keeps its first sample and stays a contiguous range.
 */
export function chronologicalSplit(
  samples: SampleTable,
  fractions: DatasetConfig["split"],
  embargo: number,
  interval: Interval,
): ChronologicalSplit {
  const n = samples.count;
  const cut = (fraction: number) => Math.min(n, Math.round(n * fraction));
  const b1 = cut(fractions.train);
  const b2 = Math.max(b1, cut(fractions.train + fractions.validation));
  const b3 = Math.max(b2, cut(fractions.train + fractions.validation + fractions.test));
  const validationRaw = { start: b1, end: b2 };
  const test = { start: b2, end: b3 };
  const firstOf = (range: SampleRange) =>
    range.end > range.start ? (samples.firstFeatureTime[range.start] as number) : undefined;
  const against = (range: SampleRange, next: number | undefined): PurgeResult =>
    next === undefined
      ? { range, drops: { purged: 0, embargoed: 0 } }
      : purgeBefore(samples, range, next, embargo, interval);

  // Validation first: when it is purged away entirely, train only has to stay clear of test.
  const validation = against(validationRaw, firstOf(test));
  const train = against({ start: 0, end: b1 }, firstOf(validation.range) ?? firstOf(test));
  return {
    train: train.range,
    validation: validation.range,
    test,
    unused: { start: b3, end: n },
    drops: { train: train.drops, validation: validation.drops },
  };
}

/** Sample indices `start..end−1` of a range, for `batch()` or a shuffling sampler. */
export function rangeIndices(range: SampleRange): Int32Array {
  const out = new Int32Array(Math.max(0, range.end - range.start));
  for (let i = 0; i < out.length; i++) out[i] = range.start + i;
  return out;
}

/** Samples in a range. */
export function rangeSize(range: SampleRange): number {
  return Math.max(0, range.end - range.start);
}
