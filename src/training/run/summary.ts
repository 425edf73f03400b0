/** The summary of a run: one row per job, as a table for people and as JSON for programs. */
import { formatDuration } from "../duration.js";
import type { FitStatus } from "../trainer.js";
import type { Baselines } from "./prepare.js";

export interface SummaryRow {
  readonly job: string;
  readonly symbols: readonly string[];
  readonly model: string;
  readonly status: FitStatus | "pending" | "failed";
  readonly reason: string;
  readonly epochs: number;
  readonly steps: number;
  readonly bestValLoss: number | null;
  readonly valMae: number | null;
  readonly valDirectionalAccuracy: number | null;
  readonly baselines: Baselines | null;
  readonly timeMs: number;
  readonly bestCheckpoint: string | null;
  readonly modelPath: string | null;
  /** The job's tracking run and registered model version, when tracked. */
  readonly trackingRunId: string | null;
  readonly registered: { readonly name: string; readonly version: string } | null;
}

export interface RunSummary {
  readonly runId: string;
  readonly runDir: string;
  /** completed: every job ended by itself or at its share of the budget; interrupted: Ctrl-C. */
  readonly status: "completed" | "interrupted";
  readonly budgetMs: number;
  readonly spentMs: number;
  readonly trackingRunId: string | null;
  readonly jobs: readonly SummaryRow[];
}

/** JSON has no NaN: non-finite numbers become null. */
export function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

const percent = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? "-" : `${(v * 100).toFixed(1)}%`;
const fixed = (v: number | null, digits: number): string => (v === null ? "-" : v.toFixed(digits));

/** The table `cryptoml train` prints and saves as summary.txt. */
export function formatSummary(summary: RunSummary): string {
  const header = [
    "job",
    "model",
    "status",
    "epochs",
    "best val loss",
    "dir. acc",
    "zero-ret",
    "last-ret",
    "time",
    "best checkpoint",
  ];
  const rows = summary.jobs.map((j) => [
    j.job,
    j.model,
    j.status,
    String(j.epochs),
    fixed(j.bestValLoss, 4),
    percent(j.valDirectionalAccuracy),
    percent(j.baselines?.zeroReturn.directionalAccuracy),
    percent(j.baselines?.lastReturn.directionalAccuracy),
    formatDuration(j.timeMs),
    j.bestCheckpoint ?? j.modelPath ?? "-",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 3 && i <= 8 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const notes = summary.jobs
    .filter((j) => j.status !== "completed")
    .map((j) => `${j.job}: ${j.status} — ${j.reason}`);
  return [
    `run ${summary.runId} (${summary.status}): ${formatDuration(summary.spentMs)} of ${formatDuration(summary.budgetMs)} budget`,
    line(header),
    ...rows.map(line),
    "",
    "dir. acc = directional accuracy on the validation part; zero-ret / last-ret = the naive forecasts on the same samples",
    ...notes,
    ...summary.jobs
      .filter((j) => j.registered !== null)
      .map(
        (j) =>
          `${j.job}: registered ${j.registered?.name} version ${j.registered?.version} (tracking run ${j.trackingRunId})`,
      ),
    `run directory: ${summary.runDir}`,
  ].join("\n");
}
