import type { Command } from "commander";
import { loadConfig } from "../../config/index.js";
import { UsageError } from "../../core/errors.js";
import {
  analyzeRun,
  DEFAULT_BUCKETS,
  formatAnalysis,
  loadRun,
  locateRun,
} from "../../monitoring/analyze/index.js";
import { type CliContext, print } from "../context.js";

interface AnalyzeCliOptions {
  json?: boolean;
  buckets: string;
}

/** The most time buckets accepted: beyond this a sparkline no longer fits a terminal line. */
const MAX_BUCKETS = 200;

function parseBuckets(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_BUCKETS) {
    throw new UsageError(`--buckets ${value} must be an integer from 1 to ${MAX_BUCKETS}`, {
      hint: `e.g. --buckets ${DEFAULT_BUCKETS}`,
    });
  }
  return n;
}

export function registerAnalyzeCommands(program: Command, getContext: () => CliContext): void {
  program
    .command("analyze")
    .description(
      "performance analysis of a training run: throughput over time, time split, bottleneck, recommendations",
    )
    .argument("[run]", "run directory, run id under training.runs_dir, or latest (default: latest)")
    .option("--json", "print the analysis as JSON")
    .option("--buckets <n>", "time buckets for the step throughput", String(DEFAULT_BUCKETS))
    .action(async (run: string | undefined, options: AnalyzeCliOptions) => {
      const ctx = getContext();
      const buckets = parseBuckets(options.buckets);
      const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
      const runDir = await locateRun(run, config.training.runs_dir);
      const analysis = analyzeRun(await loadRun(runDir), { buckets });
      print(ctx.stdout, options.json === true ? JSON.stringify(analysis, null, 2) : formatAnalysis(analysis));
    });
}
