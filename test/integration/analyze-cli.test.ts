/**
 * `cryptoml analyze` on a run trained from the CLI on the bundled candles: the table and --json, run
 * lookup by directory, id and `latest`, and a clear error for a run that does not exist.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunAnalysis } from "../../src/monitoring/analyze/index.js";
import type { RunSummary } from "../../src/training/run/summary.js";
import { bundledPath } from "../helpers/load-bundled.js";
import { REPO_ROOT, runCli } from "../helpers/run-cli.js";

const CONFIG_DIR = join(REPO_ROOT, "config");
/** Candles imported: few enough that several epochs finish within the 6 s budget on a busy machine. */
const CANDLES = 3000;
const SMALL = { CRYPTOML_MODELS__GRU__HIDDEN_SIZE: "16", CRYPTOML_DATASET__WINDOW: "32" };
let cwd: string;
let previousCwd: string;
let runDir: string;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "cryptoml-analyze-"));
  previousCwd = process.cwd();
  process.chdir(cwd);
  const all = JSON.parse(gunzipSync(await readFile(bundledPath("BTC_USDT"))).toString("utf8")) as unknown[];
  const file = join(cwd, "BTCUSDT-5m.json");
  await writeFile(file, JSON.stringify(all.slice(0, CANDLES)));
  const imported = await runCli([
    "--config-dir",
    CONFIG_DIR,
    "data",
    "import",
    file,
    "--symbol",
    "BTCUSDT",
    "--interval",
    "5m",
  ]);
  expect(imported.code, imported.stderr).toBe(0);
  const trained = await runCli(
    [
      "--config-dir",
      CONFIG_DIR,
      "train",
      "--duration",
      "6s",
      "--symbols",
      "BTCUSDT",
      "--model",
      "gru",
      "--no-track",
      "--json",
    ],
    SMALL,
  );
  expect(trained.code, trained.stderr).toBe(0);
  runDir = (JSON.parse(trained.stdout) as RunSummary).runDir;
}, 180_000);

afterAll(async () => {
  process.chdir(previousCwd);
  await rm(cwd, { recursive: true, force: true });
});

const analyze = (args: string[]) => runCli(["--config-dir", CONFIG_DIR, "analyze", ...args], SMALL);

describe("cryptoml analyze", () => {
  it("analyses the newest run as JSON: throughput, the time split with its bottleneck, the whole run", async () => {
    const result = await analyze(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    const analysis = JSON.parse(result.stdout) as RunAnalysis;
    expect(analysis.runDir).toBe(runDir);
    expect(analysis.run.jobs).toBe(1);
    expect(analysis.run.samples).toBeGreaterThan(0);
    expect(analysis.run.samplesPerS).toBeGreaterThan(0);
    const [job] = analysis.jobs;
    expect(job?.job).toBe("BTCUSDT");
    expect(job?.epochs).toBeGreaterThan(0);
    expect(job?.throughput.epochs.length).toBe(job?.epochs);
    expect(job?.throughput.buckets.length).toBeGreaterThan(1);
    expect(job?.throughput.sparkline).toMatch(/^[▁▂▃▄▅▆▇█ ]+$/);
    // Needs the Trainer's per-epoch timing (time_*_s on every epoch record).
    const split = job?.split;
    expect(split?.available, JSON.stringify(split)).toBe(true);
    if (split?.available !== true) return;
    expect(split.shares.map((s) => s.part).sort()).toEqual([
      "callbacks",
      "checkpoint",
      "compute",
      "data",
      "logging",
      "other",
      "validation",
    ]);
    expect(split.shares.reduce((t, s) => t + s.pct, 0)).toBeGreaterThanOrEqual(99.9);
    expect(split.shares[0]?.part).toBe(split.bottleneck);
    for (const r of job?.recommendations ?? []) {
      for (const change of r.changes) expect(r.message).toContain(change.key);
    }
  });

  it("prints the table for a run given by id or by directory", async () => {
    for (const ref of [basename(runDir), runDir]) {
      const result = await analyze([ref]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^run ${basename(runDir)} \\(completed\\): 1 job\\(s\\)`));
      expect(result.stdout).toMatch(/BTCUSDT — gru/);
      expect(result.stdout).toMatch(/over time {2}[▁▂▃▄▅▆▇█ ]+/);
      expect(result.stdout).toMatch(/time split over \d+ epoch\(s\)/);
      expect(result.stdout).toMatch(
        /bottleneck: (data|compute|logging|checkpoint|callbacks|validation|other)/,
      );
      expect(result.stdout).toMatch(/recommendations:/);
    }
  });

  it("fails clearly, with a hint, for a run that does not exist and for bad options", async () => {
    const missing = await analyze(["no-such-run"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error \[NOT_FOUND\]: no run "no-such-run"/);
    expect(missing.stderr).toMatch(new RegExp(`hint: .*${basename(runDir)}`));
    const buckets = await analyze(["--buckets", "0"]);
    expect(buckets.code).toBe(2);
    expect(buckets.stderr).toMatch(/--buckets 0 must be an integer from 1 to 200/);
  });
});
