/**
 * `cryptoml tune --metrics-port 0` serves /metrics while it tunes: each fold's training metrics labelled by
 * the tuned symbol and architecture (never a trial number), and with `--objective sharpe` each fold's
 * trading metrics labelled by the symbol and the strategy. The CLI runs in this process and /metrics is
 * scraped while the study runs; the Trainer yields to the event loop, so the server answers meanwhile.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { REPO_ROOT, runCli } from "../helpers/run-cli.js";

const CONFIG_DIR = join(REPO_ROOT, "config");
/** Small models and windows so a trial takes about a second (as in tune-objective.test.ts). */
const SMALL = {
  CRYPTOML_MODELS__LSTM_ATTENTION__HIDDEN_SIZE: "8",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__WINDOW__CHOICES: "[16, 24]",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__HIDDEN_SIZE__LOW: "8",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__HIDDEN_SIZE__HIGH: "16",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__HIDDEN_SIZE__STEP: "8",
};
const TUNE = [
  "--config-dir",
  CONFIG_DIR,
  "tune",
  "--model",
  "lstm_attention",
  "--symbols",
  "BTCUSDT",
  "--epochs",
  "1",
  "--folds",
  "2",
  "--max-train-samples",
  "1500",
  "--seed",
  "1",
  "--no-track",
];
let cwd: string;
let previousCwd: string;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "cryptoml-tune-metrics-"));
  previousCwd = process.cwd();
  process.chdir(cwd);
  const imported = await runCli(["--config-dir", CONFIG_DIR, "data", "import", "--bundled"]);
  expect(imported.code, imported.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  process.chdir(previousCwd);
  await rm(cwd, { recursive: true, force: true });
});

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The samples of a Prometheus text exposition (label values here hold no quotes or commas). */
function samples(body: string): Sample[] {
  return body
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match === null) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]),
      );
      return { name: match[1] as string, labels, value: Number(match[3]) };
    });
}

interface ScrapedRun {
  readonly code: number;
  readonly stderr: string;
  /** Every /metrics body scraped while the command ran. */
  readonly scrapes: readonly string[];
  readonly url: string | undefined;
}

/** Runs the CLI in this process, scraping its /metrics every 100 ms once it prints the URL. */
async function runScraping(argv: string[]): Promise<ScrapedRun> {
  const stderr = new PassThrough();
  const stdout = new PassThrough();
  stdout.resume();
  let log = "";
  stderr.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  const scrapes: string[] = [];
  let inFlight = false;
  const timer = setInterval(() => {
    const url = /metrics: (http:\/\/\S+\/metrics)/.exec(log)?.[1];
    if (url === undefined || inFlight) return;
    inFlight = true;
    fetch(url)
      .then(async (res) => {
        if (res.ok) scrapes.push(await res.text());
      })
      .catch(() => {})
      .finally(() => {
        inFlight = false;
      });
  }, 100);
  try {
    const code = await main(argv, { stdout, stderr, env: { ...process.env, ...SMALL } });
    return { code, stderr: log, scrapes, url: /metrics: (http:\/\/\S+\/metrics)/.exec(log)?.[1] };
  } finally {
    clearInterval(timer);
  }
}

const find = (all: readonly Sample[], name: string, labels: Record<string, string>) =>
  all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe("cryptoml tune serves /metrics", () => {
  it("exports each fold's training metrics and, with --objective sharpe, its trading metrics", async () => {
    const run = await runScraping([
      ...TUNE,
      "--objective",
      "sharpe",
      "--trials",
      "3",
      "--storage",
      `journal:${join(cwd, "sharpe.log")}`,
      "--metrics-port",
      "0",
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.url).toBeDefined();
    expect(run.scrapes.length).toBeGreaterThan(0);
    const scraped = run.scrapes.map(samples);
    const training = { symbol: "BTCUSDT", model: "lstm_attention" };
    const steps = scraped.flatMap((s) => find(s, "cryptoml_training_steps_total", training));
    expect(Math.max(0, ...steps.map((s) => s.value))).toBeGreaterThan(0);
    const trading = { symbol: "BTCUSDT", strategy: "sign" };
    const sharpe = scraped.flatMap((s) => find(s, "cryptoml_trading_sharpe_ratio", trading));
    expect(sharpe.length).toBeGreaterThan(0);
    expect(sharpe.every((s) => Number.isFinite(s.value))).toBe(true);
    // A fold traded by an account of 1: the balance is 1 + its PnL.
    const last = scraped.findLast((s) => find(s, "cryptoml_trading_balance", trading).length > 0) ?? [];
    const balance = find(last, "cryptoml_trading_balance", trading)[0]?.value as number;
    const pnl = find(last, "cryptoml_trading_pnl", trading)[0]?.value as number;
    expect(balance).toBeCloseTo(1 + pnl, 12);
    // Bounded series: no label names a trial or a run.
    for (const sample of scraped.flat()) {
      expect(Object.keys(sample.labels)).not.toContain("trial");
      if (sample.labels.symbol !== undefined) expect(sample.labels.symbol).toBe("BTCUSDT");
    }
    // The exporter is closed when the study ends.
    await expect(fetch(run.url as string)).rejects.toThrow();
  }, 180_000);

  it("serves nothing with --no-metrics", async () => {
    const run = await runScraping([
      ...TUNE,
      "--trials",
      "1",
      "--pruner",
      "none",
      "--storage",
      `journal:${join(cwd, "loss.log")}`,
      "--no-metrics",
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.url).toBeUndefined();
  }, 120_000);
});
