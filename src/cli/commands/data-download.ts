import { resolve } from "node:path";
import type { Command } from "commander";
import { loadConfig } from "../../config/index.js";
import { UsageError } from "../../core/errors.js";
import {
  DownloadInterruptedError,
  type DownloadPlan,
  DownloadProgress,
  type DownloadReport,
  downloadArchives,
  downloadOutcomeError,
  formatBytes,
  formatDuration,
  parseSymbols,
  parseYearMonth,
  planDownloads,
  type RetryPolicy,
  type Sleep,
} from "../../data/download/index.js";
import { importFiles } from "../../data/import.js";
import { type Interval, parseInterval } from "../../data/intervals.js";
import type { DataObserver } from "../../data/observer.js";
import { dataMetricsObserver } from "../../monitoring/data-metrics.js";
import { type CliContext, print } from "../context.js";
import { type MetricsFlags, metricsOptions, serveMetrics } from "./metrics-serving.js";

/** Seams for tests; the real command uses the system clock, SIGINT and real waits. */
export interface DownloadCommandDeps {
  /** "Now", which decides the current month. Default: the system clock. */
  readonly now?: () => Date;
  /** An extra abort signal (tests simulate Ctrl-C with it); SIGINT is always handled too. */
  readonly signal?: AbortSignal;
  readonly retry?: Partial<RetryPolicy>;
  readonly stallTimeoutMs?: number;
  readonly sleep?: Sleep;
  /** Time between overall progress lines when not on a TTY. Default 5000 ms. */
  readonly progressIntervalMs?: number;
}

interface RawOptions extends MetricsFlags {
  symbols?: string;
  interval?: string;
  from?: string;
  to?: string;
  baseUrl?: string;
  out?: string;
  import: boolean;
  concurrency?: string;
}

const MAX_CONCURRENCY = 16;

/** Adds `download` to the `data` command: Binance data-dump archives → local mirror → candle store. */
export function registerDownloadCommand(
  data: Command,
  getContext: () => CliContext,
  deps: DownloadCommandDeps = {},
): void {
  const download = data
    .command("download")
    .description("download Binance data-dump kline archives (resumable, checksum-verified) and import them")
    .option(
      "--symbols <list>",
      "comma-separated Binance symbols, e.g. BTCUSDT,ETHUSDT (default: config data.symbols)",
    )
    .option("--interval <interval>", "kline interval, e.g. 5m (default: config data.interval)")
    .option("--from <YYYY-MM>", "first month")
    .option("--to <YYYY-MM>", "last month (default: --from)")
    .option("--base-url <url>", "root of the data dump (default: config data.base_url)")
    .option("--out <dir>", "where the archives go (default: config data.download_dir)")
    .option("--no-import", "only download; do not import into the candle store")
    .option("--concurrency <n>", "parallel downloads", "2");
  metricsOptions(download).action(async (options: RawOptions) => runDownload(getContext(), options, deps));
}

async function runDownload(ctx: CliContext, options: RawOptions, deps: DownloadCommandDeps): Promise<void> {
  const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
  if (options.from === undefined) {
    throw new UsageError("--from is required", { hint: "for example: --from 2021-01 --to 2021-06" });
  }
  const symbols = parseSymbols(options.symbols ?? config.data.symbols);
  const interval = parseInterval(options.interval ?? config.data.interval);
  const from = parseYearMonth(options.from, "--from");
  const to = options.to === undefined ? from : parseYearMonth(options.to, "--to");
  const baseUrl = parseBaseUrl(options.baseUrl ?? config.data.base_url);
  const concurrency = parseConcurrency(options.concurrency ?? "2");
  const outDir = resolve(options.out ?? config.data.download_dir);
  const plan = planDownloads({ symbols, interval, from, to, now: deps.now?.() ?? new Date() });
  for (const note of plan.notes) print(ctx.stderr, `note: ${note}`);
  print(ctx.stderr, `${plan.archives.length} archive(s) from ${baseUrl} into ${outDir}`);

  const exporter = await serveMetrics(ctx, options, {
    monitoring: config.monitoring,
    command: "data download",
    paths: [outDir, resolve(config.data.store_dir)],
    log: (line) => print(ctx.stderr, line),
  });
  const observer = exporter === undefined ? undefined : dataMetricsObserver(exporter.metrics);
  try {
    const report = await downloadWithProgress(ctx, plan, { outDir, baseUrl, concurrency, observer }, deps);
    printSummary(ctx, report, outDir);
    if (report.interrupted) {
      throw new DownloadInterruptedError(`run the same command again to resume: ${resumeCommand(options)}`);
    }
    if (options.import && report.verified.length > 0) {
      await importVerified(ctx, report.verified, config.data.store_dir, interval, observer);
    }
    const outcome = downloadOutcomeError(report);
    if (outcome) throw outcome;
  } finally {
    await exporter?.close();
  }
}

/** Runs the downloads with a progress display, stopping them on Ctrl-C (SIGINT) or `deps.signal`. */
async function downloadWithProgress(
  ctx: CliContext,
  plan: DownloadPlan,
  settings: { outDir: string; baseUrl: string; concurrency: number; observer: DataObserver | undefined },
  deps: DownloadCommandDeps,
): Promise<DownloadReport> {
  const controller = new AbortController();
  const onSigint = () => {
    print(ctx.stderr, "\ninterrupted: stopping downloads (press Ctrl-C again to quit at once)");
    controller.abort();
  };
  process.once("SIGINT", onSigint);
  const signal = deps.signal ? AbortSignal.any([deps.signal, controller.signal]) : controller.signal;
  const progress = new DownloadProgress({
    stream: ctx.stderr,
    interactive: ctx.interactive,
    total: plan.archives.length,
    intervalMs: ctx.interactive ? undefined : deps.progressIntervalMs,
  });
  let report: DownloadReport;
  try {
    report = await downloadArchives(plan, {
      ...settings,
      signal,
      retry: deps.retry,
      stallTimeoutMs: deps.stallTimeoutMs,
      sleep: deps.sleep,
      onEvent: (event) => progress.handle(event),
    });
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
  progress.finish({ interrupted: report.interrupted });
  return report;
}

function printSummary(ctx: CliContext, report: DownloadReport, outDir: string): void {
  const count = (status: string) => report.results.filter((r) => r.status === status).length;
  print(
    ctx.stdout,
    `downloaded ${count("downloaded")}, up to date ${count("up-to-date")}, not available ${count("not-available")}, ` +
      `failed ${count("failed")}` +
      `${report.interrupted ? `, interrupted ${count("interrupted")}` : ""}` +
      `${report.pending > 0 ? `, not started ${report.pending}` : ""}: ` +
      `${formatBytes(report.transferred)} in ${formatDuration(report.elapsedMs)} into ${outDir}`,
  );
  for (const r of report.notAvailable) print(ctx.stdout, `  not available: ${r.archive.remotePath}`);
}

async function importVerified(
  ctx: CliContext,
  paths: readonly string[],
  storeDir: string,
  interval: Interval,
  observer: DataObserver | undefined,
) {
  const root = resolve(storeDir);
  print(ctx.stderr, `importing ${paths.length} archive(s) into ${root}`);
  const imported = await importFiles(paths, {
    storeDir: root,
    interval,
    onProgress: (message) => print(ctx.stderr, message),
    observer,
    sourceOf: () => "binance-data-dump",
  });
  print(ctx.stdout, `imported ${imported.files} file(s) into ${root}`);
  for (const s of imported.series) {
    print(
      ctx.stdout,
      `  ${s.symbol} ${s.interval}: ${s.rows} candles stored ` +
        `(${s.added} added, ${s.replaced} replaced, ${s.unchanged} unchanged)`,
    );
  }
}

function parseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--base-url "${value}" is not a URL`, { hint: "e.g. https://data.binance.vision" });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--base-url "${value}" must be http or https`, {
      hint: "e.g. https://data.binance.vision",
    });
  }
  return value.replace(/\/+$/, "");
}

function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) {
    throw new UsageError(`--concurrency ${value} must be a whole number from 1 to ${MAX_CONCURRENCY}`, {
      hint: "2 is polite to the server and fills most connections",
    });
  }
  return n;
}

/** The command line that picks up where this run stopped: the same one. */
function resumeCommand(options: RawOptions): string {
  const parts = ["cryptoml data download"];
  const add = (flag: string, value: string | undefined) => {
    if (value !== undefined) parts.push(flag, value);
  };
  add("--symbols", options.symbols);
  add("--interval", options.interval);
  add("--from", options.from);
  add("--to", options.to);
  add("--base-url", options.baseUrl);
  add("--out", options.out);
  if (options.concurrency !== undefined && options.concurrency !== "2")
    add("--concurrency", options.concurrency);
  if (!options.import) parts.push("--no-import");
  add("--metrics-port", options.metricsPort);
  if (options.metrics === false) parts.push("--no-metrics");
  return parts.join(" ");
}
