import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, runCli, spawnCli } from "../helpers/run-cli.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();
const PEER_PYTHON = join(REPO_ROOT, ".venv-peers", "bin", "python");

// The six outages documented in ../shared/data/binance/README.md and data/bundled/README.md.
const DOCUMENTED_OUTAGES = [
  ["2020-12-21T14:05:00.000Z", "2020-12-21T18:00:00.000Z"],
  ["2020-12-25T01:55:00.000Z", "2020-12-25T03:00:00.000Z"],
  ["2021-02-11T03:40:00.000Z", "2021-02-11T05:00:00.000Z"],
  ["2021-03-06T01:55:00.000Z", "2021-03-06T03:30:00.000Z"],
  ["2021-04-20T01:55:00.000Z", "2021-04-20T04:30:00.000Z"],
  ["2021-04-25T04:00:00.000Z", "2021-04-25T08:45:00.000Z"],
];

describe("cryptoml data import/inspect on the bundled candles", () => {
  let storeDir = "";
  let env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    // Shared by the tests below, so it outlives each test (tempDir() dirs are removed after every test).
    storeDir = join(mkdtempSync(join(tmpdir(), "cryptoml-cli-")), "store");
    env = { CRYPTOML_DATA__STORE_DIR: storeDir };
    const imported = await runCli(["data", "import", "--bundled"], env);
    expect(imported.stderr).not.toMatch(/error/);
    expect(imported.code).toBe(0);
  });
  afterAll(() => rmSync(join(storeDir, ".."), { recursive: true, force: true }));

  it("reports 65,741 BTCUSDT rows from 2020-12-01 and exactly the six documented outages", async () => {
    const result = await runCli(
      ["data", "inspect", "--symbol", "BTCUSDT", "--interval", "5m", "--json"],
      env,
    );
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      symbol: "BTCUSDT",
      interval: "5m",
      rows: 65741,
      first: "2020-12-01T00:00:00.000Z",
      last: "2021-07-17T21:05:00.000Z",
      zeroVolume: 28,
      ohlcViolations: 0,
      duplicates: 0,
    });
    expect(report.gaps.map((g: { from: string; to: string }) => [g.from, g.to])).toEqual(DOCUMENTED_OUTAGES);
    expect(report.gaps.map((g: { missing: number }) => g.missing)).toEqual([46, 12, 15, 18, 30, 56]);
  });

  it("imports the bundled data a second time without changing anything", async () => {
    const again = await runCli(["data", "import", "--bundled"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/BTCUSDT 5m: 65741 candles stored \(0 added, 0 replaced, 65741 unchanged\)/);
  });

  it("lists the three series", async () => {
    const listed = JSON.parse((await runCli(["data", "list", "--json"], env)).stdout);
    expect(listed.map((s: { symbol: string; rows: number }) => [s.symbol, s.rows])).toEqual([
      ["ADAUSDT", 65740],
      ["BTCUSDT", 65741],
      ["ETHUSDT", 65742],
    ]);
  });

  it("writes a standard Arrow IPC file that pandas reads", () => {
    expect(existsSync(PEER_PYTHON), "Python test peers missing: run `npm run test:peers`").toBe(true);
    const script = [
      "import sys, pandas as pd",
      "df = pd.read_feather(sys.argv[1])",
      "print(len(df), df['open_time'].iloc[0].isoformat(), df['close'].iloc[-1], str(df['open_time'].dtype))",
    ].join("\n");
    const result = spawnSync(PEER_PYTHON, ["-c", script, join(storeDir, "BTCUSDT", "5m.arrow")], {
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toMatch(
      /^65741 2020-12-01T00:00:00\+00:00 \d+(\.\d+)? datetime64\[ms, UTC\]$/,
    );
  });

  it("builds the datasets of the three symbols with descriptions, scalers and folds", async () => {
    const result = await runCli(["dataset", "build", "--json"], env);
    expect(result.code).toBe(0);
    const [btc] = JSON.parse(result.stdout);
    // A sample ending at t needs rows t-63-48 .. t+12 gap-free (window 64, the features' lookback 48,
    // horizon 12): each of the six outages removes 64 + 48 + 12 - 1 end rows. Gaps are never filled.
    expect(btc.counts).toMatchObject({ droppedForGaps: 6 * (64 + 48 + 12 - 1) });
    expect(btc.counts.samples).toBe(
      btc.split.train.count +
        btc.split.validation.count +
        btc.split.test.count +
        btc.counts.droppedForPurge +
        btc.counts.droppedForEmbargo +
        btc.split.unused.count,
    );
    expect(btc.folds).toHaveLength(5);
    expect(btc.scaler.kind).toBe("standard");
    expect(Date.parse(btc.split.train.lastLabelTime)).toBeLessThan(
      Date.parse(btc.split.validation.firstFeatureTime),
    );
    const saved = JSON.parse(
      readFileSync(join(storeDir, "..", "datasets", "BTCUSDT-5m", "description.json"), "utf8"),
    );
    expect(saved.fingerprint).toBe(btc.fingerprint);
    expect(saved.featureSpecs).toHaveLength(9);
    const shown = await runCli(["dataset", "show", "--symbol", "BTCUSDT"], env);
    expect(JSON.parse(shown.stdout).fingerprint).toBe(btc.fingerprint);
  });

  it("inspects a raw file, counting duplicates and disorder", async () => {
    const path = join(tempDir(), "BTC_USDT-5m.json");
    const t0 = Date.UTC(2021, 0, 1);
    const row = (k: number) => [t0 + k * 300_000, 1, 2, 0.5, 1.5, k === 2 ? 0 : 10];
    writeFileSync(path, JSON.stringify([row(0), row(2), row(1), row(2), row(5)]));
    const report = JSON.parse((await runCli(["data", "inspect", "--file", path, "--json"], env)).stdout);
    expect(report).toMatchObject({ rows: 4, duplicates: 1, nonMonotonic: 1, zeroVolume: 1 });
    expect(report.gaps).toEqual([expect.objectContaining({ missing: 2 })]);
  });

  it("explains a missing series and wrong usage", async () => {
    const missing = await runCli(["data", "inspect", "--symbol", "DOGEUSDT", "--interval", "5m"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error \[NOT_FOUND\]: no DOGEUSDT 5m candles in the store/);
    expect(missing.stderr).toMatch(/hint: import them first/);
    const usage = await runCli(["data", "inspect", "--symbol", "BTCUSDT"], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/inspect needs --symbol and --interval/);
  });
});

describe("the cryptoml executable", () => {
  it("lists every command with a purpose in --help", () => {
    const result = spawnCli(["--help"]);
    expect(result.code).toBe(0);
    const leaves = [
      "config check",
      "config show",
      "data import",
      "data inspect",
      "data list",
      "data download",
      "dataset build",
      "dataset show",
    ];
    for (const command of leaves) expect(result.stdout).toMatch(new RegExp(`\\n  ${command} +\\w.{10,}`));
  });

  it("prints errors without a stack trace, and with one under --verbose", () => {
    const storeDir = tempDir();
    const plain = spawnCli(["data", "import", "/nonexistent/file.csv"], {
      env: { CRYPTOML_DATA__STORE_DIR: storeDir },
    });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toBe("error [NOT_FOUND]: /nonexistent/file.csv: no such file\n");
    const verbose = spawnCli(["--verbose", "data", "import", "/nonexistent/file.csv"], {
      env: { CRYPTOML_DATA__STORE_DIR: storeDir },
    });
    expect(verbose.stderr).toMatch(/at readCandleFile/);
  });
});
