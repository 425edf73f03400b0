/**
 * Throughput of a job over time: per epoch, per slice of wall time from the step records, a text
 * sparkline of it, and whether the job got slower towards its end.
 */
import type {
  EpochThroughput,
  MetricsRecord,
  ThroughputAnalysis,
  ThroughputBucket,
  ThroughputTrend,
} from "./types.js";

/** How many time buckets the step throughput is aggregated into (default of `analyzeRun`). */
export const DEFAULT_BUCKETS = 20;

const SPARK_CHARS = "▁▂▃▄▅▆▇█";

/** Each third of a trend needs at least this many buckets, or the comparison is noise. */
const MIN_BUCKETS_PER_THIRD = 2;

/** Per-epoch throughput: compute samples/s as logged, and wall samples/s when the epoch carries its wall time. */
export function epochThroughput(epochRecords: readonly MetricsRecord[]): EpochThroughput[] {
  return epochRecords.flatMap((r) => {
    const samplesPerS = r.metrics.samples_per_s;
    if (samplesPerS === undefined) return [];
    const computeS = r.metrics.epoch_time_s;
    const wallS = r.metrics.time_wall_s;
    const wallSamplesPerS =
      computeS !== undefined && wallS !== undefined && wallS > 0 ? (samplesPerS * computeS) / wallS : null;
    return [{ epoch: r.epoch, samplesPerS, wallSamplesPerS }];
  });
}

/**
 * Step throughput in `count` equal slices of the time from the first to the last step. A bucket's
 * samples/s is the harmonic mean of its steps' — samples over compute seconds when batches are equal —
 * so a few fast steps cannot hide many slow ones. Steps without a readable time are left out; a gap in
 * the run (a resume after a crash) shows as buckets without steps.
 */
export function stepBuckets(
  stepRecords: readonly MetricsRecord[],
  count = DEFAULT_BUCKETS,
): ThroughputBucket[] {
  const steps = stepRecords.filter((r) => r.timeMs !== null && (r.metrics.samples_per_s ?? 0) > 0);
  if (steps.length === 0 || count < 1) return [];
  const start = (steps[0] as MetricsRecord).timeMs as number;
  const spanS = Math.max(0, ((steps.at(-1) as MetricsRecord).timeMs as number) - start) / 1000;
  const slices = spanS === 0 ? 1 : count;
  const width = spanS / slices;
  const buckets = Array.from({ length: slices }, () => ({ steps: 0, inverseSum: 0 }));
  for (const r of steps) {
    const offsetS = ((r.timeMs as number) - start) / 1000;
    const index = width === 0 ? 0 : Math.min(slices - 1, Math.floor(offsetS / width));
    const bucket = buckets[index] as { steps: number; inverseSum: number };
    bucket.steps += 1;
    bucket.inverseSum += 1 / (r.metrics.samples_per_s as number);
  }
  return buckets.map((b, i) => ({
    startS: i * width,
    endS: (i + 1) * width,
    steps: b.steps,
    samplesPerS: b.steps === 0 ? null : b.steps / b.inverseSum,
  }));
}

/** One character per value, scaled from the smallest (▁) to the largest (█); null is a space. */
export function sparkline(values: readonly (number | null)[]): string {
  const present = values.filter((v): v is number => v !== null);
  if (present.length === 0) return "";
  const low = Math.min(...present);
  const high = Math.max(...present);
  const top = SPARK_CHARS.length - 1;
  return values
    .map((v) => {
      if (v === null) return " ";
      const level = high === low ? Math.floor(top / 2) : Math.round(((v - low) / (high - low)) * top);
      return SPARK_CHARS[level] as string;
    })
    .join("");
}

const mean = (values: readonly number[]): number => values.reduce((t, v) => t + v, 0) / values.length;

/** The mean of the last third of `values` against the first third's; null when a third would be empty. */
export function thirdsTrend(
  values: readonly number[],
  basis: ThroughputTrend["basis"],
  minPerThird = 1,
): ThroughputTrend | null {
  const third = Math.floor(values.length / 3);
  if (third < minPerThird) return null;
  const firstThird = mean(values.slice(0, third));
  const lastThird = mean(values.slice(-third));
  if (!(firstThird > 0)) return null;
  return { basis, firstThird, lastThird, changePct: ((lastThird - firstThird) / firstThird) * 100 };
}

/**
 * The job's throughput: per epoch, over `bucketCount` time buckets of its steps (default
 * {@link DEFAULT_BUCKETS}), and the trend — from the step buckets when there are enough, else the epochs.
 */
export function analyzeThroughput(
  records: readonly MetricsRecord[],
  bucketCount = DEFAULT_BUCKETS,
): ThroughputAnalysis {
  const epochs = epochThroughput(records.filter((r) => r.scope === "epoch"));
  const buckets = stepBuckets(
    records.filter((r) => r.scope === "step"),
    bucketCount,
  );
  const bucketValues = buckets.flatMap((b) => (b.samplesPerS === null ? [] : [b.samplesPerS]));
  const trend =
    thirdsTrend(bucketValues, "steps", MIN_BUCKETS_PER_THIRD) ??
    thirdsTrend(
      epochs.map((e) => e.samplesPerS),
      "epochs",
    );
  return { epochs, buckets, sparkline: sparkline(buckets.map((b) => b.samplesPerS)), trend };
}
