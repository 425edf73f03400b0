/** The analysis as text for people: a whole-run line, then per job throughput, time split and advice. */
import { formatDuration } from "../../training/duration.js";
import { formatPct, formatRate, formatSeconds } from "./numbers.js";
import { sparkline } from "./throughput.js";
import type { JobAnalysis, RunAnalysis, ThroughputAnalysis, TimeSplit } from "./types.js";

/** Up to this many epochs are listed one by one; more are drawn as a sparkline. */
const LISTED_EPOCHS = 10;
/** Width of the widest bar in the time split. */
const BAR_WIDTH = 30;

function range(values: readonly number[]): string {
  const low = formatRate(Math.min(...values));
  const high = formatRate(Math.max(...values));
  return low === high ? low : `${low}–${high}`;
}

function formatThroughput(t: ThroughputAnalysis): string[] {
  const lines = ["  throughput (samples/s of compute):"];
  if (t.epochs.length > 0) {
    const rates = t.epochs.map((e) => e.samplesPerS);
    lines.push(
      t.epochs.length <= LISTED_EPOCHS
        ? `    per epoch  ${t.epochs.map((e) => `${e.epoch}: ${formatRate(e.samplesPerS)}`).join("  ")}`
        : `    per epoch  ${sparkline(rates)}  ${range(rates)} over ${t.epochs.length} epochs`,
    );
    const walls = t.epochs.flatMap((e) => (e.wallSamplesPerS === null ? [] : [e.wallSamplesPerS]));
    if (walls.length > 0)
      lines.push(`    wall-clock ${range(walls)} samples/s per epoch, everything included`);
  }
  const rates = t.buckets.flatMap((b) => (b.samplesPerS === null ? [] : [b.samplesPerS]));
  if (rates.length > 0) {
    const width = t.buckets[0]?.endS ?? 0;
    lines.push(
      `    over time  ${t.sparkline}  ${range(rates)} (${t.buckets.length} buckets of ${formatSeconds(width)})`,
    );
  }
  if (t.trend !== null) {
    const sign = t.trend.changePct >= 0 ? "+" : "";
    lines.push(
      `    trend      ${sign}${formatPct(t.trend.changePct)}: last third ${formatRate(t.trend.lastThird)} against first third ${formatRate(t.trend.firstThird)} (${t.trend.basis === "steps" ? "step buckets" : "epochs"})`,
    );
  } else if (lines.length === 1) {
    lines.push("    no step or epoch records for this job");
  }
  return lines;
}

function formatSplit(split: TimeSplit, job: JobAnalysis): string[] {
  if (!split.available) return [`  time split: unavailable — ${split.reason}`];
  const largest = split.shares[0]?.seconds ?? 0;
  const jobPct = job.wallS > 0 ? ` = ${formatPct((split.wallS / job.wallS) * 100)} of the job` : "";
  return [
    `  time split over ${split.epochs} epoch(s), ${formatSeconds(split.wallS)} wall${jobPct}:`,
    ...split.shares.map((s) => {
      const bar = "█".repeat(largest > 0 ? Math.round((s.seconds / largest) * BAR_WIDTH) : 0);
      return `    ${s.part.padEnd(10)} ${formatPct(s.pct).padStart(6)} ${formatSeconds(s.seconds).padStart(8)}  ${bar}`.trimEnd();
    }),
    `  bottleneck: ${split.bottleneck}${split.bottleneck === "other" ? " (time none of the measured parts accounts for)" : ""}`,
    ...(split.outsideEpochsS > 0
      ? [
          `  outside the timed epochs: ${formatSeconds(split.outsideEpochsS)} (setup, an unfinished last epoch, saving the model)`,
        ]
      : []),
  ];
}

function formatJob(job: JobAnalysis): string[] {
  return [
    `${job.job} — ${job.model}, ${job.status} (${job.reason}): ${job.epochs} epoch(s), ${job.steps} steps, ${formatDuration(job.wallS * 1000)}, ${formatRate(job.samples)} samples`,
    ...formatThroughput(job.throughput),
    ...formatSplit(job.split, job),
    ...(job.recommendations.length === 0
      ? ["  recommendations: none — nothing stands out"]
      : ["  recommendations:", ...job.recommendations.map((r) => `    - [${r.severity}] ${r.message}`)]),
  ];
}

/** The analysis as `cryptoml analyze` prints it. */
export function formatAnalysis(analysis: RunAnalysis): string {
  const { run } = analysis;
  return [
    `run ${analysis.runId} (${analysis.status}): ${run.jobs} job(s), ${formatDuration(run.spentS * 1000)} of ${formatDuration(run.budgetS * 1000)} budget, ${formatRate(run.samples)} samples, ${formatRate(run.samplesPerS)} samples/s overall (wall clock, everything included)`,
    ...(run.skippedLines > 0 ? [`${run.skippedLines} unreadable line(s) of metrics.jsonl skipped`] : []),
    ...analysis.jobs.flatMap((job) => ["", ...formatJob(job)]),
    "",
    `run directory: ${analysis.runDir}`,
  ].join("\n");
}
