import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { loadConfig, type ResolvedConfig } from "../../config/index.js";
import { parseInterval } from "../../data/intervals.js";
import { ArrowFileCandleStore } from "../../data/store/arrow-file-store.js";
import { parseSymbols } from "../../data/symbols.js";
import {
  buildDataset,
  type DatasetDescription,
  readDescription,
  writeDescription,
} from "../../datasets/index.js";
import { computeFeatures } from "../../features/index.js";
import { type CliContext, print } from "../context.js";
import { readStoredSeries } from "./data.js";

/** Datasets are described next to the store: `<store_dir>/../datasets/<SYMBOL>-<interval>/description.json`. */
export function datasetsDirFor(config: ResolvedConfig): string {
  return join(dirname(resolve(config.data.store_dir)), "datasets");
}

export function registerDatasetCommands(program: Command, getContext: () => CliContext): void {
  const dataset = program
    .command("dataset")
    .description("build leakage-free datasets: features, windows, targets, splits and walk-forward folds");

  dataset
    .command("build")
    .description("compute features and build the dataset of each symbol from the candle store")
    .option("--symbols <list>", "comma-separated symbols (default: data.symbols from config)")
    .option("--interval <interval>", "candle interval (default: data.interval from config)")
    .option("--out <dir>", "where to write the descriptions (default: datasets/ beside the store)")
    .option("--json", "print the descriptions as JSON")
    .action(async (options: { symbols?: string; interval?: string; out?: string; json?: boolean }) => {
      const ctx = getContext();
      const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
      const symbols = parseSymbols(options.symbols ?? config.data.symbols);
      const interval = parseInterval(options.interval ?? config.data.interval);
      const store = new ArrowFileCandleStore(resolve(config.data.store_dir));
      const outDir = resolve(options.out ?? datasetsDirFor(config));
      const built: { description: DatasetDescription; path: string }[] = [];
      for (const symbol of symbols) {
        const started = performance.now();
        const series = await readStoredSeries(store, symbol, interval);
        const frame = computeFeatures(series, config.features);
        const { description } = buildDataset(series, frame, config.dataset);
        const path = join(outDir, `${symbol}-${interval}`, "description.json");
        await writeDescription(path, description);
        built.push({ description, path });
        const seconds = (performance.now() - started) / 1000;
        print(
          ctx.stderr,
          `${symbol} ${interval}: ${series.length} candles → ${description.counts.samples} samples in ${seconds.toFixed(2)} s`,
        );
      }
      if (options.json)
        return print(
          ctx.stdout,
          JSON.stringify(
            built.map((b) => b.description),
            null,
            2,
          ),
        );
      print(ctx.stdout, formatSummary(built));
    });

  dataset
    .command("show")
    .description("print the saved description of a built dataset")
    .requiredOption("--symbol <symbol>", "symbol, e.g. BTCUSDT")
    .option("--interval <interval>", "candle interval (default: data.interval from config)")
    .action(async (options: { symbol: string; interval?: string }) => {
      const ctx = getContext();
      const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
      const interval = parseInterval(options.interval ?? config.data.interval);
      const path = join(datasetsDirFor(config), `${options.symbol}-${interval}`, "description.json");
      print(ctx.stdout, JSON.stringify(await readDescription(path), null, 2));
    });
}

function formatSummary(built: { description: DatasetDescription; path: string }[]): string {
  const header = [
    "symbol",
    "candles",
    "samples",
    "gaps",
    "warm-up",
    "dead zone (train)",
    "purged",
    "embargo",
    "train",
    "valid",
    "test",
    "folds",
  ];
  const rows = built.map(({ description: d }) =>
    [
      d.symbol,
      d.candles.count,
      d.counts.samples,
      d.counts.droppedForGaps,
      d.counts.droppedForWarmup,
      d.counts.droppedForDeadZone,
      d.counts.droppedForPurge,
      d.counts.droppedForEmbargo,
      d.split.train.count,
      d.split.validation.count,
      d.split.test.count,
      d.folds.length,
    ].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  const first = built[0]?.description;
  return [
    line(header),
    ...rows.map(line),
    "",
    first
      ? `window ${first.window} × ${first.features.length} features, horizon ${first.horizon}, target ${first.target.kind}`
      : "",
    ...built.map((b) => `${b.description.symbol}: ${b.path}`),
  ].join("\n");
}
