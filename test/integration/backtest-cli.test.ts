/**
 * `cryptoml backtest` on a run trained from the CLI on the bundled candles: out-of-sample per-symbol and
 * portfolio metrics as JSON and as a table, SVG charts, and the IN-SAMPLE label.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/training/run/summary.js";
import { REPO_ROOT, runCli, spawnCli } from "../helpers/run-cli.js";

const CONFIG_DIR = join(REPO_ROOT, "config");
const SYMBOLS = ["BTCUSDT", "ETHUSDT", "ADAUSDT"];
const SMALL = { CRYPTOML_MODELS__GRU__HIDDEN_SIZE: "16", CRYPTOML_DATASET__WINDOW: "32" };
let cwd: string;
let previousCwd: string;
let runDir: string;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "cryptoml-backtest-"));
  const imported = spawnCli(["--config-dir", CONFIG_DIR, "data", "import", "--bundled"], { cwd });
  expect(imported.code, imported.stderr).toBe(0);
  previousCwd = process.cwd();
  process.chdir(cwd);
  const trained = await runCli(
    [
      "--config-dir",
      CONFIG_DIR,
      "train",
      "--duration",
      "6s",
      "--symbols",
      SYMBOLS.join(","),
      "--model",
      "gru",
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

const backtest = (args: string[]) =>
  runCli(["--config-dir", CONFIG_DIR, "backtest", "--run-dir", runDir, ...args], SMALL);

type Numbers = Record<string, number | null>;
interface ReportJson {
  sample: string;
  symbols: { symbol: string; metrics: Numbers; buyAndHold: Numbers }[];
  portfolio: { metrics: Numbers; buyAndHold: Numbers };
  charts: string[];
}

describe("cryptoml backtest", () => {
  it("records the results on each job's tracking run and keeps to --from/--to", async () => {
    const summary = JSON.parse(
      (await readFile(join(runDir, "summary.json"), "utf8")).toString(),
    ) as RunSummary;
    const first = await backtest(["--symbols", "BTCUSDT", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/BTCUSDT: results recorded on tracking run/);
    const runId = summary.jobs.find((j) => j.job === "BTCUSDT")?.trackingRunId as string;
    const shown = await runCli(["--config-dir", CONFIG_DIR, "runs", "show", runId, "--json"]);
    const run = JSON.parse(shown.stdout) as {
      data: { metrics: { key: string }[] };
      artifacts: { path: string }[];
    };
    expect(run.data.metrics.map((m) => m.key)).toEqual(
      expect.arrayContaining([
        "backtest_sharpe",
        "backtest_max_drawdown",
        "backtest_buy_and_hold_total_return",
      ]),
    );
    expect(run.artifacts.map((a) => a.path)).toContain("backtest");
    const report = JSON.parse(first.stdout) as ReportJson;
    const candles = report.symbols[0]?.metrics.candles as number;
    const windowed = await backtest([
      "--symbols",
      "BTCUSDT",
      "--from",
      "2021-01-01",
      "--to",
      "2021-02-01",
      "--no-track",
      "--json",
    ]);
    if (windowed.code === 0) {
      expect((JSON.parse(windowed.stdout) as ReportJson).symbols[0]?.metrics.candles as number).toBeLessThan(
        candles,
      );
    } else {
      expect(windowed.stderr).toMatch(/no predictions between --from and --to/);
    }
    expect((await backtest(["--from", "someday"])).stderr).toMatch(/--from someday is not a date/);
  });

  it("backtests every symbol and the portfolio out of sample, with charts (--json)", async () => {
    const result = await backtest(["--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as ReportJson;
    expect(report.sample).toBe("out-of-sample");
    expect(report.symbols.map((s) => s.symbol)).toEqual(SYMBOLS);
    for (const { metrics, buyAndHold } of [...report.symbols, report.portfolio]) {
      for (const key of ["totalReturn", "maxDrawdown", "exposure", "turnover", "finalBalance", "candles"]) {
        expect(Number.isFinite(metrics[key]), key).toBe(true);
      }
      expect(metrics.trades).toBeGreaterThanOrEqual(0);
      expect(metrics.candles).toBeGreaterThan(0);
      expect(Number.isFinite(buyAndHold.totalReturn)).toBe(true);
      expect(Number.isFinite(buyAndHold.maxDrawdown)).toBe(true);
    }
    expect(report.charts).toHaveLength(SYMBOLS.length);
    for (const file of report.charts) {
      expect(file.startsWith(join(runDir, "backtest"))).toBe(true);
      const svg = (await readFile(file, "utf8")).trim();
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg.endsWith("</svg>")).toBe(true);
      expect(svg).toMatch(/<polyline/);
      expect(svg).not.toMatch(/NaN|Infinity/);
    }
  }, 120_000);

  it("prints a table with every metric's header; --in-sample says IN-SAMPLE", async () => {
    const out = join(cwd, "charts");
    const result = await backtest(["--symbols", "BTCUSDT", "--strategy", "long_only", "--out", out]);
    expect(result.code, result.stderr).toBe(0);
    for (const header of [
      "symbol",
      "total return",
      "annualised",
      "Sharpe",
      "Sortino",
      "max DD",
      "Calmar",
      "hit rate",
      "profit factor",
      "exposure",
      "turnover",
      "trades",
      "avg holding",
      "final balance",
      "B&H return",
      "B&H Sharpe",
      "B&H max DD",
      "PORTFOLIO",
    ]) {
      expect(result.stdout).toContain(header);
    }
    expect(result.stdout).toContain(join(out, "BTCUSDT.svg"));
    const inSample = await backtest(["--symbols", "BTCUSDT", "--in-sample", "--json"]);
    expect(inSample.code, inSample.stderr).toBe(0);
    expect((JSON.parse(inSample.stdout) as ReportJson).sample).toBe("IN-SAMPLE");
    expect(inSample.stderr).toContain("IN-SAMPLE");
  }, 120_000);

  it("backtests a registered model (--model NAME@alias, NAME/version) and a tracked run (--run) like its run directory", async () => {
    const summary = JSON.parse(await readFile(join(runDir, "summary.json"), "utf8")) as RunSummary;
    const fromDir = JSON.parse((await backtest(["--json", "--no-track"])).stdout) as ReportJson;
    const cli = (args: string[]) =>
      runCli(["--config-dir", CONFIG_DIR, "backtest", "--no-track", ...args], SMALL);
    const byAlias = await cli(["--model", "cryptoml-ETHUSDT-gru@champion", "--json"]);
    expect(byAlias.code, byAlias.stderr).toBe(0);
    expect(byAlias.stderr).toMatch(/backtesting cryptoml-ETHUSDT-gru version 1 \(champion\)/);
    const eth = JSON.parse(byAlias.stdout) as ReportJson;
    expect(eth.symbols.map((s) => s.symbol)).toEqual(["ETHUSDT"]);
    expect(eth.symbols[0]?.metrics).toEqual(fromDir.symbols.find((s) => s.symbol === "ETHUSDT")?.metrics);
    expect(eth.charts[0]).toContain(join("backtests", "cryptoml-ETHUSDT-gru-v1"));
    const byVersion = await cli(["--model", "cryptoml-ETHUSDT-gru/1", "--json"]);
    expect((JSON.parse(byVersion.stdout) as ReportJson).symbols[0]?.metrics).toEqual(eth.symbols[0]?.metrics);
    const byRun = await cli([
      "--run",
      summary.trackingRunId as string,
      "--json",
      "--out",
      join(cwd, "by-run"),
    ]);
    expect(byRun.code, byRun.stderr).toBe(0);
    const all = JSON.parse(byRun.stdout) as ReportJson;
    expect(all.symbols.map((s) => s.symbol)).toEqual(SYMBOLS);
    expect(all.portfolio.metrics).toEqual(fromDir.portfolio.metrics);

    const missing = await cli(["--model", "cryptoml-DOGEUSDT-gru"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/cryptoml-DOGEUSDT-gru/);
    const noAlias = await cli(["--model", "cryptoml-ETHUSDT-gru@staging"]);
    expect(noAlias.stderr).toMatch(/has no alias @staging/);
    const both = await cli(["--model", "cryptoml-ETHUSDT-gru", "--run-dir", runDir]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/only one of --run-dir, --run and --model/);
    expect((await cli([])).stderr).toMatch(/say which models to backtest/);
  }, 180_000);

  it("a bad strategy is a usage error", async () => {
    const result = await backtest(["--symbols", "BTCUSDT", "--strategy", "martingale"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--strategy martingale/);
  }, 60_000);
});
