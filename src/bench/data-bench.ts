/**
 * `npm run bench:data`: builds the datasets of the three bundled symbols (load, validate, features,
 * windows) with cryptoml and, in the same run, with the pandas/ta reference (bench/data_reference.py
 * in the test-peer venv), and prints candles per second, peak memory and the ratio.
 * Each side runs in its own process, so peak memory is that pipeline's alone.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundledDataFiles } from "../cli/commands/data.js";
import { defaultConfig } from "../config/index.js";
import { inspectSeries } from "../data/inspect.js";
import { readCandleFile } from "../data/readers/index.js";
import { buildDataset } from "../datasets/index.js";
import { computeFeatures } from "../features/index.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BATCH = 256;
const REPEATS = 3;

interface PipelineResult {
  seconds: number;
  candles: number;
  windows: number;
  peak_rss_mb: number;
}

/** One pass of our pipeline over every bundled file; run in a child so peak RSS is its own. */
async function runOurs(): Promise<PipelineResult> {
  const config = defaultConfig();
  const started = performance.now();
  let candles = 0;
  let windows = 0;
  for (const path of bundledDataFiles()) {
    const [read] = await readCandleFile(path);
    if (read === undefined) throw new Error(`${path}: nothing read`);
    inspectSeries(read.series, read.ordering);
    const frame = computeFeatures(read.series, config.features);
    const { source } = buildDataset(read.series, frame, config.dataset).split;
    // Every window the chronological split serves (purged, embargoed and unused samples are not served).
    for (const indices of [source.trainIndices, source.validationIndices, source.testIndices]) {
      for (const batch of source.batches(indices, BATCH)) windows += batch.shape[0];
    }
    candles += read.series.length;
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds, candles, windows, peak_rss_mb: process.resourceUsage().maxRSS / 1024 };
}

function runChild(command: string, args: string[]): PipelineResult {
  const result = spawnSync(command, args, {
    encoding: "utf8",
    cwd: ROOT,
    env: { ...process.env, OPENBLAS_NUM_THREADS: "1" },
  });
  if (result.status !== 0) throw new Error(`${command} ${args[0]} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").pop() ?? "") as PipelineResult;
}

function best(results: PipelineResult[]): PipelineResult {
  return results.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

function describe(name: string, r: PipelineResult): string {
  const rate = Math.round(r.candles / r.seconds).toLocaleString("en-US");
  return `${name.padEnd(22)} ${r.seconds.toFixed(3)} s  ${rate.padStart(11)} candles/s  ${r.windows} windows  peak RSS ${r.peak_rss_mb.toFixed(0)} MB`;
}

async function main(): Promise<void> {
  if (process.argv[2] === "--child") {
    process.stdout.write(`${JSON.stringify(await runOurs())}\n`);
    return;
  }
  const config = defaultConfig();
  const self = fileURLToPath(import.meta.url);
  const python = join(ROOT, ".venv-peers", "bin", "python");
  const hasReference = existsSync(python);
  // The reference drops windows whose features reach across a gap, as ours does: it needs the lookback.
  const [sample] = await readCandleFile(bundledDataFiles()[0] as string);
  const lookback = sample === undefined ? 0 : computeFeatures(sample.series, config.features).lookback;
  const ours: PipelineResult[] = [];
  const reference: PipelineResult[] = [];
  for (let i = 0; i < REPEATS; i++) {
    ours.push(runChild(process.execPath, [self, "--child"]));
    if (hasReference) {
      const args = [
        String(config.dataset.window),
        String(config.dataset.horizon),
        String(BATCH),
        String(lookback),
      ];
      reference.push(
        runChild(python, [
          join(ROOT, "bench", "data_reference.py"),
          JSON.stringify(config.features),
          ...args,
          ...bundledDataFiles(),
        ]),
      );
    }
  }
  const o = best(ours);
  console.log(
    `bench:data — 3 bundled symbols, 5m candles, window ${config.dataset.window}, ${config.features.length} feature specs, batches of ${BATCH}; best of ${REPEATS}`,
  );
  console.log(describe("cryptoml", o));
  if (!hasReference) {
    console.log("reference: skipped (run `npm run test:peers` to install pandas/ta into .venv-peers)");
    return;
  }
  const r = best(reference);
  console.log(describe("pandas + ta (reference)", r));
  console.log(
    `ratio: cryptoml is ${(r.seconds / o.seconds).toFixed(2)}× the reference's speed, with ${(o.peak_rss_mb / r.peak_rss_mb).toFixed(2)}× its peak memory`,
  );
}

await main();
