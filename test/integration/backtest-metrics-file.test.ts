/**
 * `cryptoml backtest --metrics-file FILE`: a backtest ends before Prometheus could scrape it, so its
 * trading metrics are written as a Prometheus text file (for node_exporter's textfile collector or a
 * Pushgateway). The file must parse as text 0.0.4 and hold the `--json` report's numbers per symbol.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunSummary } from "../../src/training/run/summary.js";
import { REPO_ROOT, runCli } from "../helpers/run-cli.js";

const CONFIG_DIR = join(REPO_ROOT, "config");
const SYMBOLS = ["BTCUSDT", "ETHUSDT"];
const HAS_PROMTOOL = spawnSync("promtool", ["--version"]).status === 0;
const SMALL = { CRYPTOML_MODELS__GRU__HIDDEN_SIZE: "16", CRYPTOML_DATASET__WINDOW: "32" };
let cwd: string;
let previousCwd: string;
let runDir: string;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "cryptoml-backtest-metrics-"));
  previousCwd = process.cwd();
  process.chdir(cwd);
  const imported = await runCli(["--config-dir", CONFIG_DIR, "data", "import", "--bundled"]);
  expect(imported.code, imported.stderr).toBe(0);
  const trained = await runCli(
    [
      ...["--config-dir", CONFIG_DIR, "train", "--duration", "4s"],
      ...["--symbols", SYMBOLS.join(","), "--model", "gru", "--no-track", "--no-metrics", "--json"],
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

interface Family {
  type: string;
  samples: { labels: Record<string, string>; value: number }[];
}

/** Parses Prometheus text 0.0.4 strictly enough to catch a malformed line: each sample after its TYPE. */
function parseExposition(body: string): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const line of body.split("\n")) {
    if (line === "") continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][\w:]*) (.+)$/.exec(line);
    if (comment !== null) {
      if (comment[1] === "TYPE")
        families.set(comment[2] as string, { type: comment[3] as string, samples: [] });
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)\{((?:\w+="[^"\\\n]*",?)*)\} (\S+)$/.exec(line);
    if (sample === null) throw new Error(`not Prometheus text 0.0.4: ${line}`);
    const family = families.get(sample[1] as string);
    if (family === undefined) throw new Error(`sample before its TYPE line: ${line}`);
    const labels = Object.fromEntries(
      [...(sample[2] as string).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]),
    );
    const value = sample[3] === "NaN" ? Number.NaN : Number(sample[3]);
    if (sample[3] !== "NaN" && !Number.isFinite(value) && !/^[+-]Inf$/.test(sample[3] as string))
      throw new Error(`bad value: ${line}`);
    family.samples.push({ labels, value });
  }
  return families;
}

interface ReportJson {
  startingBalance: number;
  strategy: { kind: string };
  symbols: { symbol: string; metrics: Record<string, number | null> }[];
}

describe("cryptoml backtest --metrics-file", () => {
  it("writes every symbol's trading metrics as Prometheus text equal to the report's numbers", async () => {
    const dir = join(cwd, "textfile");
    const file = join(dir, "cryptoml_backtest.prom");
    const result = await runCli(
      [
        ...["--config-dir", CONFIG_DIR, "backtest", "--run-dir", runDir],
        ...["--json", "--no-track", "--metrics-file", file],
      ],
      SMALL,
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as ReportJson;
    const body = await readFile(file, "utf8");
    expect(body.endsWith("\n")).toBe(true);
    // Replaced atomically: no temporary file is left beside it.
    expect(await readdir(dir)).toEqual(["cryptoml_backtest.prom"]);
    if (HAS_PROMTOOL) {
      // Prometheus' own parser and linter, as the textfile collector and Pushgateway parse it.
      const checked = spawnSync("promtool", ["check", "metrics"], { input: body, encoding: "utf8" });
      expect(checked.status, `${checked.stdout}${checked.stderr}`).toBe(0);
    }
    const families = parseExposition(body);
    // Only what a backtest measures: no process metrics, no empty histogram.
    expect([...families.keys()].some((name) => name.startsWith("process_"))).toBe(false);
    expect(families.has("cryptoml_trading_order_execution_seconds")).toBe(false);
    expect(families.get("cryptoml_build_info")?.samples[0]?.labels.command).toBe("backtest");
    const value = (name: string, symbol: string) => {
      const family = families.get(name);
      expect(family?.type, name).toBe(name.endsWith("_total") ? "counter" : "gauge");
      const found = family?.samples.filter(
        (s) => s.labels.symbol === symbol && s.labels.strategy === report.strategy.kind,
      );
      expect(found, `${name}{symbol="${symbol}"}`).toHaveLength(1);
      return found?.[0]?.value as number;
    };
    expect(report.symbols.map((s) => s.symbol)).toEqual(SYMBOLS);
    for (const { symbol, metrics } of report.symbols) {
      const finalBalance = metrics.finalBalance as number;
      expect(value("cryptoml_trading_balance", symbol)).toBeCloseTo(finalBalance, 6);
      expect(value("cryptoml_trading_pnl", symbol)).toBeCloseTo(finalBalance - report.startingBalance, 6);
      const sharpe = value("cryptoml_trading_sharpe_ratio", symbol);
      if (metrics.sharpe === null) expect(sharpe).toBeNaN();
      else expect(sharpe).toBeCloseTo(metrics.sharpe as number, 9);
      expect(value("cryptoml_trading_trades_total", symbol)).toBe(metrics.trades);
    }
    const inSample = await runCli(
      [
        ...["--config-dir", CONFIG_DIR, "backtest", "--run-dir", runDir],
        ...["--in-sample", "--no-track", "--metrics-file", join(dir, "in-sample.prom")],
      ],
      SMALL,
    );
    expect(inSample.code).toBe(2);
    expect(inSample.stderr).toMatch(/--metrics-file exports out-of-sample results only/);
    expect(await readdir(dir)).toEqual(["cryptoml_backtest.prom"]);
  }, 120_000);
});
