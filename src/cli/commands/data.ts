import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { loadConfig } from "../../config/index.js";
import { NotFoundError, UsageError } from "../../core/errors.js";
import { importFiles } from "../../data/import.js";
import { type InspectionReport, inspectSeries } from "../../data/inspect.js";
import { type Interval, parseInterval } from "../../data/intervals.js";
import { readCandleFile } from "../../data/readers/index.js";
import { ArrowFileCandleStore } from "../../data/store/arrow-file-store.js";
import type { CandleStore } from "../../data/store/candle-store.js";
import { parseSymbols } from "../../data/symbols.js";
import { dataMetricsObserver } from "../../monitoring/data-metrics.js";
import { type CliContext, print } from "../context.js";
import { registerDownloadCommand } from "./data-download.js";
import { type MetricsFlags, metricsOptions, serveMetrics } from "./metrics-serving.js";

/** The candles shipped with cryptoml (see data/bundled/README.md), so the main job needs no network. */
export function bundledDataFiles(): string[] {
  const dir = resolve(
    dirname(fileURLToPath(import.meta.url)),
    "..",
    "..",
    "..",
    "data",
    "bundled",
    "binance-spot-5m",
  );
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json.gz"))
    .sort()
    .map((name) => join(dir, name));
}

export async function storeFor(ctx: CliContext): Promise<ArrowFileCandleStore> {
  const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
  return new ArrowFileCandleStore(resolve(config.data.store_dir));
}

/** A stored series, or an error that says how to get it into the store. */
export async function readStoredSeries(
  store: CandleStore & { root: string },
  symbol: string,
  interval: Interval,
) {
  const series = await store.read(symbol, interval);
  if (series === undefined) {
    throw new NotFoundError(`no ${symbol} ${interval} candles in the store ${store.root}`, {
      hint: "import them first: cryptoml data import --bundled, or cryptoml data download",
    });
  }
  return series;
}

function optionalInterval(value: string | undefined): Interval | undefined {
  return value === undefined ? undefined : parseInterval(value);
}

export function registerDataCommands(program: Command, getContext: () => CliContext): void {
  const data = program.command("data").description("import, download and inspect market data (candles)");

  const importCommand = data
    .command("import")
    .description("import Binance CSV/zip, ccxt or REST-klines JSON files into the local candle store")
    .argument("[paths...]", "files to import (.csv, .zip, .json, .json.gz)")
    .option("--symbol <symbol>", "symbol, when the file name does not say (e.g. BTCUSDT)")
    .option("--interval <interval>", "candle interval, when the file name does not say (e.g. 5m)")
    .option("--bundled", "import the candles bundled with cryptoml (BTC, ETH, ADA against USDT, 5m)");
  metricsOptions(importCommand).action(async (paths: string[], options: ImportCommandOptions) =>
    runImport(getContext(), paths, options),
  );

  data
    .command("inspect")
    .description("report rows, range, gaps, duplicates, zero-volume candles and OHLC violations")
    .option("--symbol <symbol>", "a stored symbol (with --interval)")
    .option("--interval <interval>", "a stored interval (with --symbol)")
    .option("--file <path>", "inspect a raw file instead of the store (duplicates and disorder are counted)")
    .option("--json", "print the report as JSON")
    .action(async (options: { symbol?: string; interval?: string; file?: string; json?: boolean }) => {
      const ctx = getContext();
      const report = await inspectTarget(ctx, options);
      print(ctx.stdout, options.json ? JSON.stringify(report, null, 2) : formatInspection(report));
    });

  data
    .command("list")
    .description("list the series in the candle store")
    .option("--json", "print as JSON")
    .action(async (options: { json?: boolean }) => {
      const ctx = getContext();
      const store = await storeFor(ctx);
      const rows = (await store.list()).map((s) => ({
        ...s,
        first: new Date(s.first).toISOString(),
        last: new Date(s.last).toISOString(),
      }));
      if (options.json) return print(ctx.stdout, JSON.stringify(rows, null, 2));
      if (rows.length === 0)
        return print(ctx.stdout, `the store ${store.root} is empty; run \`cryptoml data import\``);
      for (const r of rows)
        print(
          ctx.stdout,
          `${r.symbol.padEnd(12)} ${r.interval.padEnd(4)} ${String(r.rows).padStart(8)}  ${r.first} → ${r.last}`,
        );
    });

  registerDownloadCommand(data, getContext);
}

interface ImportCommandOptions extends MetricsFlags {
  symbol?: string;
  interval?: string;
  bundled?: boolean;
}

async function runImport(ctx: CliContext, paths: string[], options: ImportCommandOptions): Promise<void> {
  const bundled = options.bundled ? bundledDataFiles() : [];
  const files = [...paths, ...bundled];
  if (files.length === 0)
    throw new UsageError("nothing to import", { hint: "name files to import, or pass --bundled" });
  const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
  const root = resolve(config.data.store_dir);
  // A missing file fails the import at once with the reader's own error; serving first would put a
  // `metrics:` line before it for a run that never processes anything.
  const exporter = files.every((file) => existsSync(file))
    ? await serveMetrics(ctx, options, {
        monitoring: config.monitoring,
        command: "data import",
        paths: [root],
        log: (line) => print(ctx.stderr, line),
      })
    : undefined;
  const observer = exporter === undefined ? undefined : dataMetricsObserver(exporter.metrics);
  const bundledSet = new Set(bundled);
  try {
    const report = await importFiles(files, {
      storeDir: root,
      store: new ArrowFileCandleStore(root, { observer }),
      symbol: options.symbol,
      interval: optionalInterval(options.interval),
      onProgress: (message) => print(ctx.stderr, message),
      observer,
      sourceOf: (path, format) => (bundledSet.has(path) ? "bundled" : format),
    });
    for (const archive of report.unverifiedArchives) {
      print(ctx.stderr, `warning: ${archive} has no .CHECKSUM beside it; its integrity was not verified`);
    }
    print(ctx.stdout, `imported ${report.files} file(s) into ${root}`);
    for (const s of report.series) {
      print(
        ctx.stdout,
        `  ${s.symbol} ${s.interval}: ${s.rows} candles stored (${s.added} added, ${s.replaced} replaced, ${s.unchanged} unchanged)`,
      );
    }
  } finally {
    await exporter?.close();
  }
}

async function inspectTarget(
  ctx: CliContext,
  options: { symbol?: string; interval?: string; file?: string },
): Promise<InspectionReport[] | InspectionReport> {
  if (options.file !== undefined) {
    const results = await readCandleFile(options.file, {
      symbol: options.symbol,
      interval: optionalInterval(options.interval),
      mode: "lenient",
    });
    const reports = results.map((r) => inspectSeries(r.series, r.ordering));
    return reports.length === 1 ? (reports[0] as InspectionReport) : reports;
  }
  if (options.symbol === undefined || options.interval === undefined) {
    throw new UsageError("inspect needs --symbol and --interval (or --file PATH)", {
      hint: "for example: cryptoml data inspect --symbol BTCUSDT --interval 5m",
    });
  }
  const store = await storeFor(ctx);
  const [symbol] = parseSymbols(options.symbol);
  return inspectSeries(await readStoredSeries(store, symbol as string, parseInterval(options.interval)));
}

function formatInspection(reports: InspectionReport | InspectionReport[]): string {
  return (Array.isArray(reports) ? reports : [reports]).map(formatOne).join("\n\n");
}

function formatOne(r: InspectionReport): string {
  const lines = [
    `${r.symbol} ${r.interval}: ${r.rows} candles, ${r.first ?? "-"} → ${r.last ?? "-"}`,
    `  gaps:              ${r.gaps.length} (${r.missingCandles} missing candles of ${r.expectedRows} expected)`,
    ...r.gaps.map((g) => `    ${g.from} → ${g.to}  ${g.missing} missing`),
    `  duplicates:        ${r.duplicates}${r.conflictingDuplicates ? ` (+${r.conflictingDuplicates} conflicting)` : ""}`,
    `  non-monotonic:     ${r.nonMonotonic}`,
    `  zero volume:       ${r.zeroVolume}`,
    `  OHLC violations:   ${r.ohlcViolations}`,
    ...r.ohlcViolationSamples.map((v) => `    ${v.time} ${v.problem}`),
    `  non-positive price: ${r.nonPositivePrices}`,
  ];
  if (r.offGrid) lines.push(`  off-grid times:    ${r.offGrid}`);
  return lines.join("\n");
}
