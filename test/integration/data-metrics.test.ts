/**
 * The data metrics end to end: real archives fetched over HTTP from the local data-dump server, read,
 * validated and written into a real Arrow store, with a real metrics registry — and the `data download`
 * and `data import` commands serving /metrics while they run.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { registerDownloadCommand } from "../../src/cli/commands/data-download.js";
import type { CliContext } from "../../src/cli/context.js";
import { downloadArchives, planDownloads } from "../../src/data/download/index.js";
import { importFiles } from "../../src/data/import.js";
import { ArrowFileCandleStore } from "../../src/data/store/arrow-file-store.js";
import { dataMetricsObserver } from "../../src/monitoring/data-metrics.js";
import { type CryptomlMetrics, createMetricsRegistry } from "../../src/monitoring/registry.js";
import {
  DataDumpServer,
  klineCsv,
  loadBundledCandles,
  rowsIn,
  writeArchive,
} from "../helpers/data-dump-server.js";
import { runCli } from "../helpers/run-cli.js";

const ARRIVED_MS = 1_700_000_000_000;
const btc = loadBundledCandles("BTC_USDT");
const eth = loadBundledCandles("ETH_USDT");

let root: string;
let server: DataDumpServer;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "cryptoml-data-metrics-"));
  server = await DataDumpServer.start(join(root, "remote"));
});

afterEach(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

function publish(symbol: "BTCUSDT" | "ETHUSDT", month: string): void {
  const rows = rowsIn(symbol === "BTCUSDT" ? btc : eth, month);
  writeArchive(
    join(root, "remote"),
    `data/spot/monthly/klines/${symbol}/5m/${symbol}-5m-${month}.zip`,
    klineCsv(rows),
  );
}

/** The value of `series` (name and labels as exposed) in one scrape; undefined when absent. */
function valueIn(body: string, series: string): number | undefined {
  const line = body.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A stream for a command's output, and what was written to it so far. */
function captured(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

async function scrape(metrics: CryptomlMetrics): Promise<string> {
  return (await metrics.exposition()).body;
}

describe("data metrics of a download and import", () => {
  it("count every imported candle, each store operation and each stage, and stamp the heartbeat", async () => {
    publish("BTCUSDT", "2021-01");
    publish("ETHUSDT", "2021-01");
    const metrics = createMetricsRegistry({ command: "data download", version: "0", defaultMetrics: false });
    const observer = dataMetricsObserver(metrics, { clock: () => ARRIVED_MS });
    const plan = planDownloads({
      symbols: ["BTCUSDT", "ETHUSDT"],
      interval: "5m",
      from: { year: 2021, month: 1 },
      now: new Date("2021-07-20T00:00:00Z"),
    });
    const report = await downloadArchives(plan, {
      outDir: join(root, "downloads"),
      baseUrl: server.baseUrl,
      observer,
    });
    expect(report.verified).toHaveLength(2);
    const storeDir = join(root, "store");
    const importOnce = () =>
      importFiles(report.verified, {
        storeDir,
        store: new ArrowFileCandleStore(storeDir, { observer }),
        observer,
        sourceOf: () => "binance-data-dump",
      });
    await importOnce();

    let body = await scrape(metrics);
    const candles = (symbol: string) =>
      valueIn(body, `cryptoml_data_candles_total{symbol="${symbol}",source="binance-data-dump"}`);
    expect(candles("BTCUSDT")).toBe(rowsIn(btc, "2021-01").length);
    expect(candles("ETHUSDT")).toBe(rowsIn(eth, "2021-01").length);
    for (const symbol of ["BTCUSDT", "ETHUSDT"]) {
      expect(valueIn(body, `cryptoml_data_last_update_timestamp_seconds{symbol="${symbol}"}`)).toBe(
        ARRIVED_MS / 1000,
      );
    }
    const operations = (operation: string) =>
      valueIn(body, `cryptoml_data_store_operations_total{store="arrow-file",operation="${operation}"}`);
    // One read of what was stored and one write per series.
    expect(operations("read")).toBe(2);
    expect(operations("write")).toBe(2);
    const observations = (stage: string) =>
      valueIn(body, `cryptoml_data_processing_seconds_count{stage="${stage}"}`);
    expect(observations("download")).toBe(4); // a .CHECKSUM and a zip per archive
    expect(observations("parse")).toBe(2); // one per archive
    expect(observations("validate")).toBe(4); // checksum and row order per archive
    expect(observations("store")).toBe(1); // one import
    expect(valueIn(body, 'cryptoml_data_processing_seconds_sum{stage="parse"}')).toBeGreaterThan(0);

    // The same files again: read again, counted again (they arrived again), but nothing to write.
    await importOnce();
    body = await scrape(metrics);
    expect(candles("BTCUSDT")).toBe(2 * rowsIn(btc, "2021-01").length);
    expect(operations("read")).toBe(4);
    expect(operations("write")).toBe(2);
    expect(observations("store")).toBe(2);
  });
});

describe("data commands serve /metrics while they run", () => {
  it("`data download` exposes its download stage mid-run on --metrics-port 0", async () => {
    publish("BTCUSDT", "2021-01");
    publish("BTCUSDT", "2021-02");
    // February's zip fails once, so the command waits to retry: the moment to scrape it.
    server.fail("/data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2021-02.zip", 503, { times: 1 });
    const stdout = captured();
    const stderr = captured();
    const context: CliContext = {
      configDir: join(root, "config"),
      verbose: false,
      stdout: stdout.stream,
      stderr: stderr.stream,
      env: { CRYPTOML_DATA__STORE_DIR: join(root, "store") },
      interactive: false,
    };
    const scrapes: string[] = [];
    const sleep = async () => {
      const url = /metrics: (http:\/\/\S+\/metrics)/.exec(stderr.text())?.[1];
      if (url !== undefined) scrapes.push(await (await fetch(url)).text());
    };
    const program = new Command("cryptoml").exitOverride();
    registerDownloadCommand(program.command("data"), () => context, {
      now: () => new Date("2021-07-20T00:00:00Z"),
      sleep,
    });
    await program.parseAsync(
      [
        "data",
        "download",
        ...["--symbols", "BTCUSDT", "--interval", "5m", "--from", "2021-01", "--to", "2021-02"],
        ...["--base-url", server.baseUrl, "--out", join(root, "downloads"), "--concurrency", "1"],
        ...["--metrics-port", "0"],
      ],
      { from: "user" },
    );

    expect(scrapes).toHaveLength(1);
    const body = scrapes[0] as string;
    expect(body).toMatch(/cryptoml_build_info\{version="[^"]+",command="data download"\} 1/);
    // January's .CHECKSUM and zip, February's .CHECKSUM; the failed zip fetch is not an observation.
    expect(valueIn(body, 'cryptoml_data_processing_seconds_count{stage="download"}')).toBe(3);
    // Nothing is imported before every archive is in.
    expect(body).not.toContain("cryptoml_data_candles_total{");
    expect(stdout.text()).toContain("imported 2 file(s)");
  });

  it("`data import` serves on --metrics-port 0, and not at all with --no-metrics", async () => {
    const file = join(root, "BTCUSDT-5m-2021-01.csv");
    writeFileSync(file, klineCsv(rowsIn(btc, "2021-01")));
    const env = { CRYPTOML_DATA__STORE_DIR: join(root, "store") };

    const served = await runCli(["data", "import", "--metrics-port", "0", file], env);
    expect(served.code).toBe(0);
    expect(served.stderr).toMatch(/metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(served.stdout).toContain(`BTCUSDT 5m: ${rowsIn(btc, "2021-01").length} candles stored`);

    const quiet = await runCli(["data", "import", "--no-metrics", file], env);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toMatch(/metrics: /);
  });
});
