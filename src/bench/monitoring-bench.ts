/**
 * `npm run bench:monitoring [-- --seconds S] [-- --rounds N]` (defaults 12 s, 7 rounds: fits of a few seconds are biased against the exported side by its start-up, loading and compiling the exporter, which a real run pays once): what the Prometheus exporter costs a
 * training run. The real Trainer trains lstm_attention (hidden 64, one layer, no dropout) on the bundled
 * BTCUSDT 5m candles with the default features and dataset settings, batch 64, Adam lr 1e-3, clip 1.0,
 * in alternating rounds:
 *
 * - plain: `Trainer.fit` with no exporter, while the same scraper scrapes a recorded /metrics served by
 *   another process (on a 2-core machine the scraper's own CPU use slows training; both kinds carry it);
 * - exported: the exporter (registry, system collector, HTTP server on an ephemeral port) started for the
 *   round, the TrainingMetrics callback on the Trainer, and a real Prometheus (Debian's package; a small
 *   Node scraper when it is not installed) scraping /metrics every second in its own process while it
 *   trains. Scrape latencies are Prometheus' own scrape_duration_seconds.
 *
 * Each fit runs in a fresh process (after a short warm-up fit of the same kind), so what the exporter
 * leaves behind (prom-client's GC observer and event-loop monitor cannot be stopped) never reaches a plain
 * round. A fit is one epoch over the first training windows (as many as take ≈S seconds, calibrated) and
 * 512 validation windows; samples/s = training windows ÷ wall time of the fit, and, because other
 * processes on a shared machine swing wall time by ±30%, also training windows ÷ CPU seconds of this
 * process (exporter work runs on the same thread, so it shows there). The medians over the rounds give
 * the plain and exported throughputs; the slowdown is the median over rounds of each round's back-to-back
 * pair (wall and CPU). Exit code 1 when the wall-time slowdown misses the goal. Scrape latency p50/p99 is over every scrape of every exported round. As even medians of
 * wall or CPU time move by several percent on a busy machine, the bench also measures the exporter's
 * own CPU cost in isolation (per training step, per scrape) and prints the share of a core it accounts for.
 * Goal: slowdown < 2%. The last line is one JSON object.
 */
import { execFileSync } from "node:child_process";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { bundledDataFiles } from "../cli/commands/data.js";
import { defaultConfig } from "../config/index.js";
import { readCandleFile } from "../data/readers/index.js";
import type { ModelDefinition } from "../models/definition.js";
import { startExporter } from "../monitoring/exporter.js";
import { createMetricsRegistry } from "../monitoring/registry.js";
import { TrainingMetrics } from "../monitoring/training-metrics.js";
import { createSnapshot } from "../training/callbacks/types.js";
import { MemoryCheckpointIO } from "../training/checkpoint/memory.js";
import { prepareSymbol } from "../training/run/prepare.js";
import { Trainer, type TrainingData } from "../training/trainer.js";
import { hasPrometheus, startDecoy, startNodeScraper, startPrometheusScraper } from "./scrapers.js";
import { fmt, median, numberArg, quantile } from "./stats.js";

const SYMBOL = "BTCUSDT";
const MODEL = "lstm_attention";
const BATCH = 64;
const SEED = 7;
const VALIDATION_SAMPLES = 512;
const SCRAPE_EVERY_MS = 1000;
const GOAL_PCT = 2;

interface Round {
  samplesPerS: number;
  /** Training windows ÷ CPU seconds of this process (all threads): robust to other processes' load. */
  samplesPerCpuS: number;
  seconds: number;
}

async function loadData(): Promise<{ definition: ModelDefinition; data: TrainingData }> {
  const path = bundledDataFiles().find((p) => p.includes("BTC_USDT"));
  if (path === undefined) throw new Error("bundled BTC_USDT candles not found under data/bundled");
  const [read] = await readCandleFile(path);
  if (read === undefined) throw new Error(`${path}: nothing read`);
  const config = defaultConfig();
  const prepared = prepareSymbol(read.series, config.features, config.dataset);
  const definition: ModelDefinition = {
    className: MODEL,
    io: prepared.io,
    config: { hidden_size: 64, num_layers: 1, dropout: 0 },
  } as ModelDefinition;
  return { definition, data: prepared.data };
}

function subset(data: TrainingData, trainSamples: number): TrainingData {
  return {
    source: data.source,
    trainIndices: data.trainIndices.subarray(0, trainSamples),
    validationIndices: data.validationIndices.subarray(0, VALIDATION_SAMPLES),
  };
}

async function timedFit(
  definition: ModelDefinition,
  data: TrainingData,
  callback?: TrainingMetrics,
): Promise<Round> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const trainer = new Trainer({
    epochs: 1,
    batchSize: BATCH,
    seed: SEED,
    optimizer: { kind: "adam", lr: 1e-3, weightDecay: 0 },
    gradientClip: 1.0,
    workers: 1,
    callbacks: callback === undefined ? [] : [callback],
    checkpointIO: new MemoryCheckpointIO(),
    checkpointDir: "/bench/checkpoints",
    log: () => {},
  });
  const result = await trainer.fit(definition, data);
  if (result.status !== "completed") throw new Error(`fit ended early: ${result.reason}`);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    samplesPerS: data.trainIndices.length / seconds,
    samplesPerCpuS: data.trainIndices.length / cpuSeconds,
    seconds,
  };
}

/** GET url, resolving with the milliseconds until the whole body arrived. */
function scrape(url: string, accept = "text/plain"): Promise<number> {
  const started = performance.now();
  return new Promise((done, fail) => {
    request(url, { headers: { accept } }, (response) => {
      response.on("data", () => {});
      response.on("end", () =>
        response.statusCode === 200
          ? done(performance.now() - started)
          : fail(new Error(`HTTP ${response.statusCode}`)),
      );
    })
      .on("error", fail)
      .end();
  });
}

/**
 * One plain round: no exporter in this process, while the same kind of scraper scrapes a recorded
 * /metrics from another process every second — on a 2-core machine the scraper's own CPU use slows the
 * training thread, and that is not the exporter's cost.
 */
async function plainFit(definition: ModelDefinition, data: TrainingData): Promise<Round> {
  const recorded = createMetricsRegistry({ command: "bench", version: "bench", defaultMetrics: false });
  new TrainingMetrics({
    metrics: recorded,
    symbol: SYMBOL,
    model: MODEL,
    batchSize: BATCH,
    trainRows: 1,
  }).onStepEnd({
    epoch: 0,
    step: 1,
    positionInEpoch: 1,
    metrics: { loss: 1, lr: 1e-3, grad_norm: 1 },
    learningRate: 1e-3,
    elapsedMs: 1,
  });
  const decoy = await startDecoy((await recorded.exposition()).body);
  const scraper = hasPrometheus()
    ? await startPrometheusScraper(decoy.host, SCRAPE_EVERY_MS)
    : startNodeScraper(`http://${decoy.host}/metrics`, SCRAPE_EVERY_MS);
  try {
    return await timedFit(definition, data);
  } finally {
    await scraper.stop();
    await decoy.close();
  }
}

/** What Prometheus 2.x sends: OpenMetrics preferred, text 0.0.4 accepted. */
const OPENMETRICS_ACCEPT =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/** One exported round: exporter up, TrainingMetrics on the Trainer, a scrape every second. */
async function exportedFit(
  definition: ModelDefinition,
  data: TrainingData,
  latencies: number[],
): Promise<Round> {
  const exporter = await startExporter({
    config: { host: "127.0.0.1", port: 0 },
    command: "bench",
    paths: [process.cwd()],
  });
  const training = new TrainingMetrics({
    metrics: exporter.metrics,
    symbol: SYMBOL,
    model: MODEL,
    batchSize: BATCH,
    trainRows: data.trainIndices.length,
  });
  // A long run serves thousands of scrapes with optimised code; a fit of seconds would serve a handful
  // with cold code (interpreted rendering, tens of ms each). Warm the serving path as such a run has.
  for (let i = 0; i < 30; i++) {
    await scrape(`${exporter.url}/metrics`, i % 2 === 0 ? "text/plain" : OPENMETRICS_ACCEPT);
  }
  // The scraper runs in its own process, as Prometheus does: its work is not charged to training.
  const target = new URL(exporter.url).host;
  const scraper = hasPrometheus()
    ? await startPrometheusScraper(target, SCRAPE_EVERY_MS)
    : startNodeScraper(`${exporter.url}/metrics`, SCRAPE_EVERY_MS);
  try {
    const round = await timedFit(definition, data, training);
    training.finished("completed");
    return round;
  } finally {
    latencies.push(...(await scraper.stop()));
    await exporter.close();
  }
}

/**
 * The exporter's own CPU cost, measured in isolation (immune to other processes' load): microseconds of
 * TrainingMetrics.onStepEnd per step, and milliseconds per /metrics request served over HTTP.
 */
async function unitCosts(): Promise<{ stepUs: number; scrapeMs: number }> {
  const exporter = await startExporter({
    config: { host: "127.0.0.1", port: 0 },
    command: "bench",
    paths: [process.cwd()],
  });
  try {
    const training = new TrainingMetrics({
      metrics: exporter.metrics,
      symbol: SYMBOL,
      model: MODEL,
      batchSize: BATCH,
      trainRows: 8192,
    });
    const steps = 20_000;
    const snapshots = Array.from({ length: steps }, (_, i) =>
      createSnapshot({
        epoch: 0,
        step: i + 1,
        positionInEpoch: (i % 128) + 1,
        metrics: { loss: 0.1, lr: 1e-3, grad_norm: 1, samples_per_s: 1000 },
        learningRate: 1e-3,
        elapsedMs: i,
      }),
    );
    let started = process.cpuUsage();
    for (const snapshot of snapshots) training.onStepEnd(snapshot);
    let used = process.cpuUsage(started);
    const stepUs = (used.user + used.system) / steps;
    const scrapes = 200;
    for (let i = 0; i < 20; i++) await scrape(`${exporter.url}/metrics`);
    started = process.cpuUsage();
    for (let i = 0; i < scrapes; i++) await scrape(`${exporter.url}/metrics`);
    used = process.cpuUsage(started);
    // Server and client share this process; both are counted, so this overstates a Prometheus scrape.
    return { stepUs, scrapeMs: (used.user + used.system) / 1000 / scrapes };
  } finally {
    await exporter.close();
  }
}

type Kind = "plain" | "exported";

interface ChildResult extends Round {
  latencies: number[];
  trainSamples: number;
  validationSamples: number;
  window: number;
  features: number;
}

/**
 * One measured fit in this process (a child): load the data, warm up (JIT, wasm kernels) with a short
 * fit of the same kind, then the measured fit. Printed as the last line, JSON.
 */
async function child(kind: Kind, trainSamples: number): Promise<void> {
  const { definition, data: full } = await loadData();
  const run = (data: TrainingData, latencies: number[]) =>
    kind === "plain" ? plainFit(definition, data) : exportedFit(definition, data, latencies);
  await run(subset(full, Math.min(full.trainIndices.length, 10 * BATCH)), []);
  const data = subset(full, Math.max(BATCH, Math.min(full.trainIndices.length, trainSamples)));
  const latencies: number[] = [];
  const round = await run(data, latencies);
  const result: ChildResult = {
    ...round,
    latencies,
    trainSamples: data.trainIndices.length,
    validationSamples: data.validationIndices.length,
    window: definition.io.window,
    features: definition.io.features,
  };
  console.log(JSON.stringify(result));
}

/** Runs one round in a fresh process, so no exporter state (prom-client's GC observer) outlives its round. */
function runChild(kind: Kind, trainSamples: number): ChildResult {
  const out = execFileSync(
    process.execPath,
    [fileURLToPath(import.meta.url), "--child", kind, String(trainSamples)],
    {
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return JSON.parse(out.trim().split("\n").pop() ?? "") as ChildResult;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const childAt = args.indexOf("--child");
  if (childAt >= 0) {
    await child(args[childAt + 1] as Kind, Number(args[childAt + 2]));
    return;
  }
  const seconds = numberArg(args, "--seconds", 12);
  const rounds = Math.round(numberArg(args, "--rounds", 7));

  // Calibration: a short plain fit sizes the measured fits to ≈S seconds each.
  const calibration = runChild("plain", 20 * BATCH);
  const trainSamples = Math.max(BATCH, Math.round((calibration.samplesPerS * seconds) / BATCH) * BATCH);
  const plain: Round[] = [];
  const exported: Round[] = [];
  const latencies: number[] = [];
  let shape: ChildResult | undefined;
  for (let r = 0; r < rounds; r++) {
    // Alternate which goes first, so drift over time (thermal, other load) hits both sides alike.
    const order: Kind[] = r % 2 === 0 ? ["plain", "exported"] : ["exported", "plain"];
    const line: string[] = [];
    for (const kind of order) {
      const round = runChild(kind, trainSamples);
      if (shape === undefined) {
        shape = round;
        console.log(
          `bench:monitoring — ${SYMBOL} 5m (bundled), ${MODEL} H=64, window ${round.window}, ${round.features} features, ` +
            `batch ${BATCH}; ${round.trainSamples} train + ${round.validationSamples} validation windows per fit; ` +
            `${rounds} alternating rounds, each fit in its own process after a warm-up; ` +
            `exported rounds scrape /metrics every ${SCRAPE_EVERY_MS / 1000} s`,
        );
      }
      (kind === "plain" ? plain : exported).push(round);
      latencies.push(...round.latencies);
      line.push(
        `${kind} ${fmt(round.samplesPerS)} samples/s (${round.seconds.toFixed(2)} s, ${fmt(round.samplesPerCpuS)}/CPU-s)`,
      );
    }
    console.log(`  round ${r + 1}/${rounds}: ${line.join(", ")}`);
  }
  const plainMedian = median(plain.map((r) => r.samplesPerS));
  const exportedMedian = median(exported.map((r) => r.samplesPerS));
  const plainCpu = median(plain.map((r) => r.samplesPerCpuS));
  const exportedCpu = median(exported.map((r) => r.samplesPerCpuS));
  // The two fits of a round run back to back, so their ratio cancels the machine's drift; the median of
  // the rounds' slowdowns is steadier than the slowdown of the medians.
  const paired = (of: (r: Round) => number) =>
    median(plain.map((p, i) => ((of(p) - of(exported[i] as Round)) / of(p)) * 100));
  const slowdownPct = paired((r) => r.samplesPerS);
  const cpuSlowdownPct = paired((r) => r.samplesPerCpuS);
  const p50 = quantile(latencies, 0.5);
  const p99 = quantile(latencies, 0.99);
  console.log("");
  console.log("| run                          | samples/s (median) | samples per CPU-second (median) |");
  console.log("|------------------------------|--------------------|---------------------------------|");
  console.log(
    `| no exporter                  | ${fmt(plainMedian).padStart(18)} | ${fmt(plainCpu).padStart(31)} |`,
  );
  console.log(
    `| exporter + scrape every 1 s  | ${fmt(exportedMedian).padStart(18)} | ${fmt(exportedCpu).padStart(31)} |`,
  );
  console.log(
    `slowdown (median of the rounds' pairs) ${slowdownPct.toFixed(2)}% (wall), ${cpuSlowdownPct.toFixed(2)}% (CPU); goal: slowdown < ${GOAL_PCT}% — ` +
      `${slowdownPct < GOAL_PCT ? "met" : "NOT met"} (wall), ${cpuSlowdownPct < GOAL_PCT ? "met" : "NOT met"} (CPU)`,
  );
  if (slowdownPct >= GOAL_PCT) process.exitCode = 1;
  console.log(
    `scrape latency over ${latencies.length} scrapes: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
  );
  const costs = await unitCosts();
  const stepsPerS = plainMedian / BATCH;
  const accountedPct = ((costs.stepUs * stepsPerS) / 1e6 + costs.scrapeMs / SCRAPE_EVERY_MS) * 100;
  console.log(
    `exporter CPU cost in isolation: ${costs.stepUs.toFixed(2)} µs per training step, ${costs.scrapeMs.toFixed(2)} ms per scrape ` +
      `(server + in-process client) → ${accountedPct.toFixed(2)}% of one core at ${fmt(stepsPerS)} steps/s and one scrape/s`,
  );
  console.log(
    JSON.stringify({
      symbol: SYMBOL,
      model: MODEL,
      plain_samples_per_s: Math.round(plainMedian),
      exported_samples_per_s: Math.round(exportedMedian),
      slowdown_pct: Number(slowdownPct.toFixed(2)),
      plain_samples_per_cpu_s: Math.round(plainCpu),
      exported_samples_per_cpu_s: Math.round(exportedCpu),
      cpu_slowdown_pct: Number(cpuSlowdownPct.toFixed(2)),
      goal_slowdown_pct: GOAL_PCT,
      scrapes: latencies.length,
      scrape_p50_ms: Number(p50.toFixed(2)),
      scrape_p99_ms: Number(p99.toFixed(2)),
      step_cost_us: Number(costs.stepUs.toFixed(2)),
      scrape_cost_ms: Number(costs.scrapeMs.toFixed(3)),
      accounted_overhead_pct: Number(accountedPct.toFixed(3)),
      rounds,
      train_samples: shape?.trainSamples,
      validation_samples: shape?.validationSamples,
      batch_size: BATCH,
    }),
  );
}

await main();
