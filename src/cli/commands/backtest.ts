import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { backtestChart } from "../../backtest/charts.js";
import { predictSymbol, type SymbolPredictions } from "../../backtest/predict.js";
import { backtestPredictions, formatReport, type RunBacktest, reportJson } from "../../backtest/report.js";
import { type ModelSource, runDirectorySource, trackedSource } from "../../backtest/source.js";
import { recordBacktest } from "../../backtest/tracking.js";
import type { StrategySpec } from "../../backtest/types.js";
import { loadConfig } from "../../config/index.js";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { UsageError } from "../../core/errors.js";
import { parseInterval } from "../../data/intervals.js";
import { ArrowFileCandleStore } from "../../data/store/arrow-file-store.js";
import { parseSymbols } from "../../data/symbols.js";
import { METRICS } from "../../monitoring/catalog.js";
import { cryptomlVersion } from "../../monitoring/exporter.js";
import { createMetricsRegistry } from "../../monitoring/registry.js";
import { recordTradingMetrics } from "../../monitoring/trading-metrics.js";
import { openTracking, trackingUri } from "../../tracking/open.js";
import { type CliContext, print } from "../context.js";
import { readStoredSeries } from "./data.js";

interface BacktestCliOptions {
  runDir?: string;
  run?: string;
  model?: string;
  symbols?: string;
  strategy?: string;
  threshold?: string;
  feeBps: string;
  slippageBps: string;
  balance: string;
  out?: string;
  json?: boolean;
  inSample?: boolean;
  from?: string;
  to?: string;
  track?: boolean;
  trackingUri?: string;
  metricsFile?: string;
}

function parseDate(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(ms))
    throw new UsageError(`${flag} ${value} is not a date`, {
      hint: "use ISO dates, e.g. 2021-06-01 or 2021-06-01T12:00:00Z",
    });
  return ms;
}

/** The predictions made (at the close of their row) inside [from, to). */
function withinPeriod(
  p: SymbolPredictions,
  from: number | undefined,
  to: number | undefined,
): SymbolPredictions {
  if (from === undefined && to === undefined) return p;
  const kept = p.predictions.filter((q) => {
    const time = p.series.openTime[q.endRow] as number;
    return (from === undefined || time >= from) && (to === undefined || time < to);
  });
  if (kept.length === 0) {
    throw new UsageError(`${p.symbol}: no predictions between --from and --to`, {
      hint: `the ${p.inSample ? "training" : "test"} part spans ${new Date(p.series.openTime[p.predictions[0]?.endRow ?? 0] as number).toISOString()} to ${new Date(p.series.openTime[p.predictions.at(-1)?.endRow ?? 0] as number).toISOString()}`,
    });
  }
  return { ...p, predictions: kept };
}

/** Records each symbol's results on the tracking run of the job that trained its model, when there is one. */
async function recordOnRuns(
  ctx: CliContext,
  options: BacktestCliOptions,
  source: ModelSource,
  report: RunBacktest,
  charts: readonly string[],
  reportFile: string,
  log: (line: string) => void,
): Promise<void> {
  if (options.track === false) return;
  if (!report.symbols.some((s) => source.trackingRunId(s.symbol) !== undefined)) return;
  const uri = trackingUri({
    flag: options.trackingUri,
    env: ctx.env,
    config: source.saved.config.tracking.uri,
  });
  const client = await openTracking(uri, { log });
  try {
    for (const [i, s] of report.symbols.entries()) {
      const runId = source.trackingRunId(s.symbol);
      if (runId === undefined) continue;
      await recordBacktest(
        client,
        runId,
        s,
        { chart: charts[i] as string, report: reportFile },
        report.inSample,
      );
      log(`${s.symbol}: results recorded on tracking run ${runId}`);
    }
  } finally {
    await client.close();
  }
}

/** The models to backtest: exactly one of --run-dir, --run and --model. */
async function openSource(ctx: CliContext, options: BacktestCliOptions): Promise<ModelSource> {
  const given = [options.runDir, options.run, options.model].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new UsageError(
      given === 0 ? "say which models to backtest" : "give only one of --run-dir, --run and --model",
      {
        hint: "--run-dir runs/<id> (a train run's directory), --run RUN_ID (a tracked train or job run) or --model NAME[@alias|/version] (a registered model)",
      },
    );
  }
  if (options.runDir !== undefined) return runDirectorySource(options.runDir);
  const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
  const client = await openTracking(
    trackingUri({ flag: options.trackingUri, env: ctx.env, config: config.tracking.uri }),
    { log: (line) => print(ctx.stderr, line) },
  );
  try {
    return await trackedSource(
      client,
      options.model !== undefined ? { model: options.model } : { runId: options.run as string },
    );
  } finally {
    await client.close();
  }
}

function parseNumber(flag: string, value: string, min: number, strict = false): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || (strict ? n <= min : n < min)) {
    throw new UsageError(`${flag} ${value} must be a number ${strict ? ">" : ">="} ${min}`);
  }
  return n;
}

/** The strategy of the flags; without --strategy, `sign` on the forecast return, or `sized` by probability. */
function parseStrategy(options: BacktestCliOptions, predicted: readonly SymbolPredictions[]): StrategySpec {
  const hasReturn = predicted.every((p) => p.hasReturn);
  const hasProbability = predicted.every((p) => p.hasProbability);
  const kind = options.strategy ?? (hasReturn ? "sign" : "sized");
  const threshold = options.threshold === undefined ? 0 : parseNumber("--threshold", options.threshold, 0);
  if (kind === "sign" || kind === "long_only") {
    if (!hasReturn) {
      throw new UsageError(`--strategy ${kind} needs a forecast return, but the models only classify`, {
        hint: "use --strategy sized (by probability)",
      });
    }
    return { kind, threshold };
  }
  if (kind === "sized") {
    return { kind, by: hasProbability ? "probability" : "magnitude", cap: 1 };
  }
  throw new UsageError(`--strategy ${kind} is not a strategy`, { hint: "use sign, long_only or sized" });
}

export function registerBacktestCommands(program: Command, getContext: () => CliContext): void {
  program
    .command("backtest")
    .description("backtest a trained run's models on their test part, per symbol and as a portfolio")
    .option("--run-dir <dir>", "run directory written by cryptoml train")
    .option("--run <id>", "a tracked train run (or one job's run) to fetch the models of")
    .option(
      "--model <name>",
      "a registered model: NAME (its champion, else newest), NAME@alias or NAME/version",
    )
    .option("--symbols <list>", "comma-separated symbols (default: the run's symbols)")
    .option("--strategy <kind>", "sign | long_only | sized (default: sign, or sized for classifiers)")
    .option("--threshold <x>", "dead band on the forecast log return for sign and long_only", undefined)
    .option("--fee-bps <bps>", "exchange fee per side, basis points", "10")
    .option("--slippage-bps <bps>", "slippage per side, basis points", "5")
    .option("--balance <amount>", "starting balance", "10000")
    .option(
      "--out <dir>",
      "directory of the SVG charts (default: <run dir>/backtest, or backtests/<model>-v<version>)",
    )
    .option("--json", "print the report as JSON")
    .option("--in-sample", "backtest the training part instead of the test part (not evidence of skill)")
    .option("--from <date>", "only predictions made at or after this UTC date/time (ISO, e.g. 2021-06-01)")
    .option("--to <date>", "only predictions made before this UTC date/time")
    .option(
      "--tracking-uri <uri>",
      "record results on the train run's tracking runs there (default: the run's)",
    )
    .option("--no-track", "do not record results in experiment tracking")
    .option(
      "--metrics-file <file>",
      "also write each symbol's trading metrics there (Prometheus text 0.0.4, replaced atomically) for node_exporter's textfile collector or `curl --data-binary @FILE` to a Pushgateway",
    )
    .action(async (options: BacktestCliOptions) => {
      const ctx = getContext();
      const log = (line: string) => print(ctx.stderr, line);
      const costs = {
        feeBps: parseNumber("--fee-bps", options.feeBps, 0),
        slippageBps: parseNumber("--slippage-bps", options.slippageBps, 0),
      };
      const startingBalance = parseNumber("--balance", options.balance, 0, true);
      const source = await openSource(ctx, options);
      try {
        await backtestSource(ctx, options, source, { costs, startingBalance, log });
      } finally {
        await source.close();
      }
    });
}

async function backtestSource(
  ctx: CliContext,
  options: BacktestCliOptions,
  source: ModelSource,
  settings: {
    costs: { feeBps: number; slippageBps: number };
    startingBalance: number;
    log: (line: string) => void;
  },
): Promise<void> {
  const { costs, startingBalance, log } = settings;
  log(`backtesting ${source.description}`);
  const { config } = source.saved;
  const store = new ArrowFileCandleStore(resolve(config.data.store_dir));
  const interval = parseInterval(config.data.interval);
  const symbols = options.symbols === undefined ? [...source.symbols] : parseSymbols(options.symbols);
  const inSample = options.inSample === true;
  if (inSample && options.metricsFile !== undefined) {
    // Dashboards and alert rules read trading metrics as evidence; in-sample numbers are not.
    throw new UsageError("--metrics-file exports out-of-sample results only", {
      hint: "drop --in-sample, or drop --metrics-file (the report and charts are labelled IN-SAMPLE)",
    });
  }
  if (inSample) log("IN-SAMPLE: backtesting the training part the models were fitted on");
  const from = parseDate("--from", options.from);
  const to = parseDate("--to", options.to);
  const predicted: SymbolPredictions[] = [];
  for (const symbol of symbols) {
    const series = await readStoredSeries(store, symbol, interval);
    predicted.push(withinPeriod(await predictSymbol(source, series, inSample), from, to));
  }
  const strategy = parseStrategy(options, predicted);
  const report = backtestPredictions(predicted, {
    runDir: source.description,
    strategy,
    costs,
    startingBalance,
  });
  const outDir = resolve(options.out ?? source.defaultOutDir);
  await mkdir(outDir, { recursive: true });
  const label = inSample ? "IN-SAMPLE" : "out of sample";
  const suffix = inSample ? "-in-sample" : "";
  const files: string[] = [];
  for (const [i, s] of report.symbols.entries()) {
    const series = (predicted[i] as SymbolPredictions).series;
    const file = join(outDir, `${s.symbol}${suffix}.svg`);
    await writeFile(file, backtestChart(s, series.open, label));
    files.push(file);
  }
  const json = reportJson(report, files);
  const reportFile = join(outDir, `report${suffix}.json`);
  await writeFile(reportFile, `${JSON.stringify(json, null, 2)}\n`);
  await recordOnRuns(ctx, options, source, report, files, reportFile, log);
  if (options.metricsFile !== undefined) {
    const path = resolve(options.metricsFile);
    await writeMetricsFile(path, report);
    log(`trading metrics written to ${path}`);
  }
  print(ctx.stdout, options.json ? JSON.stringify(json, null, 2) : formatReport(report, files));
}

/** What a metrics file holds: the trading metrics and the build that wrote them. */
const METRICS_FILE_NAMES = [
  "cryptoml_build_info",
  ...METRICS.filter((m) => m.group === "trading").map((m) => m.name),
];

/**
 * Writes every symbol's trading metrics (strategy label: the strategy's kind) as Prometheus text 0.0.4,
 * atomically: a textfile collector never reads half a file. Only metrics with samples are written (no
 * process metrics, no empty histogram), since a backtest ends before anything could scrape it.
 */
async function writeMetricsFile(path: string, report: RunBacktest): Promise<void> {
  const metrics = createMetricsRegistry({
    command: "backtest",
    version: cryptomlVersion(),
    defaultMetrics: false,
  });
  for (const s of report.symbols) {
    recordTradingMetrics(metrics, { symbol: s.symbol, strategy: report.strategy.kind, report: s });
  }
  const families: string[] = [];
  for (const name of METRICS_FILE_NAMES) {
    const text = (await metrics.registry.getSingleMetricAsString(name)).trimEnd();
    if (text.split("\n").some((line) => line !== "" && !line.startsWith("#"))) families.push(text);
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${families.join("\n")}\n`);
}
