/**
 * `cryptoml data download` end to end: the real command (commander + config + downloader + import)
 * against a real HTTP server serving archives built from real Binance candles.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type DownloadCommandDeps, registerDownloadCommand } from "../../src/cli/commands/data-download.js";
import type { CliContext } from "../../src/cli/context.js";
import { type CryptomlError, UsageError } from "../../src/core/errors.js";
import { formatBytes } from "../../src/data/download/index.js";
import { ArrowFileCandleStore } from "../../src/data/store/arrow-file-store.js";
import {
  type ArchiveOptions,
  adabtcFixtureCsv,
  DataDumpServer,
  klineCsv,
  loadBundledCandles,
  rowsIn,
  type WrittenArchive,
  writeArchive,
} from "../helpers/data-dump-server.js";

const PAST = new Date("2021-07-20T10:00:00Z");
const btc = loadBundledCandles("BTC_USDT");
const eth = loadBundledCandles("ETH_USDT");

let root: string;
let remote: string;
let out: string;
let server: DataDumpServer;
let env: NodeJS.ProcessEnv;

interface Run {
  error: CryptomlError | undefined;
  stdout: string;
  stderr: string;
}

/** Runs `cryptoml data download <args>` through commander with a captured context. */
async function download(args: string[], deps: DownloadCommandDeps = {}): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const text = { stdout: "", stderr: "" };
  stdout.on("data", (chunk: Buffer) => (text.stdout += chunk.toString()));
  stderr.on("data", (chunk: Buffer) => (text.stderr += chunk.toString()));
  const context: CliContext = {
    configDir: join(root, "config"),
    verbose: false,
    stdout,
    stderr,
    env,
    interactive: false,
  };
  const program = new Command("cryptoml").exitOverride();
  const data = program.command("data");
  registerDownloadCommand(data, () => context, { now: () => PAST, sleep: async () => {}, ...deps });
  let error: CryptomlError | undefined;
  try {
    await program.parseAsync(["data", "download", ...args], { from: "user" });
  } catch (caught) {
    error = caught as CryptomlError;
  }
  return { error, ...text };
}

function publishMonth(symbol: "BTCUSDT" | "ETHUSDT", month: string, options: ArchiveOptions = {}) {
  const rows = rowsIn(symbol === "BTCUSDT" ? btc : eth, month);
  const path = `data/spot/monthly/klines/${symbol}/5m/${symbol}-5m-${month}.zip`;
  return writeArchive(remote, path, klineCsv(rows), options);
}

const localOf = (archive: WrittenArchive) => join(out, archive.urlPath.replace(/^\/data\//, ""));
const twoByTwo = ["--symbols", "BTCUSDT,ETHUSDT", "--interval", "5m", "--from", "2021-01", "--to", "2021-02"];

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "cryptoml-download-"));
  remote = join(root, "remote");
  out = join(root, "downloads");
  server = await DataDumpServer.start(remote);
  env = { CRYPTOML_DATA__STORE_DIR: join(root, "store") };
});

afterEach(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe("cryptoml data download", () => {
  it("downloads 2 symbols × 2 months, verifies them and imports them into the store", async () => {
    const archives = [
      publishMonth("BTCUSDT", "2021-01"),
      publishMonth("BTCUSDT", "2021-02"),
      publishMonth("ETHUSDT", "2021-01"),
      publishMonth("ETHUSDT", "2021-02"),
    ];
    const run = await download([...twoByTwo, "--base-url", server.baseUrl, "--out", out]);
    expect(run.error).toBeUndefined();
    for (const archive of archives) {
      expect(readFileSync(localOf(archive)).equals(archive.bytes)).toBe(true);
      expect(existsSync(`${localOf(archive)}.CHECKSUM`)).toBe(true);
    }
    expect(run.stderr).toMatch(/downloaded BTCUSDT-5m-2021-01\.zip {2}\d+(\.\d+)? kB in .* \(.*\/s\)/);
    expect(run.stderr).toMatch(/\[4\/4 files\] .*, done/);
    expect(run.stdout).toMatch(/downloaded 4, up to date 0, not available 0, failed 0/);

    const btcRows = rowsIn(btc, "2021-01").length + rowsIn(btc, "2021-02").length;
    expect(run.stdout).toContain(`BTCUSDT 5m: ${btcRows} candles stored (${btcRows} added`);
    const stored = await new ArrowFileCandleStore(join(root, "store")).read("ETHUSDT", "5m");
    expect(stored?.length).toBe(rowsIn(eth, "2021-01").length + rowsIn(eth, "2021-02").length);
    expect(stored?.close[0]).toBe(rowsIn(eth, "2021-01")[0]?.[4]);

    // A second run finds everything in place: no archive is fetched again, nothing changes in the store.
    server.requests.length = 0;
    const again = await download([...twoByTwo, "--base-url", server.baseUrl, "--out", out]);
    expect(again.error).toBeUndefined();
    expect(server.requests.filter((r) => r.path.endsWith(".zip"))).toEqual([]);
    expect(again.stdout).toMatch(/downloaded 0, up to date 4/);
    expect(again.stdout).toContain(
      `BTCUSDT 5m: ${btcRows} candles stored (0 added, 0 replaced, ${btcRows} unchanged)`,
    );
  });

  it("takes the current month as daily archives up to yesterday, from the injected clock", async () => {
    const day = writeArchive(
      remote,
      "data/spot/daily/klines/ADABTC/1m/ADABTC-1m-2021-11-27.zip",
      adabtcFixtureCsv(),
    );
    const now = () => new Date("2021-11-28T12:00:00Z");
    const run = await download(
      [
        "--symbols",
        "ADABTC",
        "--interval",
        "1m",
        "--from",
        "2021-11",
        "--base-url",
        server.baseUrl,
        "--out",
        out,
      ],
      { now },
    );
    expect(run.error).toBeUndefined();
    const asked = server.requests.filter((r) => r.path.endsWith(".CHECKSUM")).map((r) => r.path);
    asked.sort();
    expect(asked).toHaveLength(27);
    expect(asked[0]).toBe("/data/spot/daily/klines/ADABTC/1m/ADABTC-1m-2021-11-01.zip.CHECKSUM");
    expect(asked.some((p) => p.includes("2021-11-28"))).toBe(false);
    expect(readFileSync(localOf(day)).equals(day.bytes)).toBe(true);
    expect(run.stdout).toMatch(/downloaded 1, up to date 0, not available 26, failed 0/);
    expect(run.stdout).toContain("not available: data/spot/daily/klines/ADABTC/1m/ADABTC-1m-2021-11-01.zip");
    expect(run.stderr).toMatch(/current month/);
    expect(run.stdout).toContain("ADABTC 1m: 10 candles stored");
  });

  it("resumes an interrupted download with a Range request and ends byte-identical", async () => {
    const jan = publishMonth("BTCUSDT", "2021-01");
    server.cutAfter(jan.urlPath, 100_000);
    const args = [
      "--symbols",
      "BTCUSDT",
      "--from",
      "2021-01",
      "--base-url",
      server.baseUrl,
      "--out",
      out,
      "--no-import",
    ];
    const first = await download(args, { retry: { attempts: 1 } });
    expect(first.error?.code).toBe("NETWORK");
    expect(first.error?.message).toContain("BTCUSDT-5m-2021-01.zip");
    expect(existsSync(`${localOf(jan)}.part`)).toBe(true);
    expect(existsSync(localOf(jan))).toBe(false);

    const second = await download(args);
    expect(second.error).toBeUndefined();
    const range = server.requestsFor(".zip").at(-1)?.range ?? "";
    const offset = Number(/^bytes=(\d+)-$/.exec(range)?.[1]);
    expect(offset).toBeGreaterThan(0);
    expect(second.stderr).toContain(`resumed from ${offset} bytes`);
    expect(readFileSync(localOf(jan)).equals(jan.bytes)).toBe(true);
    expect(existsSync(`${localOf(jan)}.part`)).toBe(false);
  });

  it("keeps a file that fails its checksum as .corrupt, finishes the others and exits with an error", async () => {
    const good = [
      publishMonth("BTCUSDT", "2021-01"),
      publishMonth("BTCUSDT", "2021-02"),
      publishMonth("ETHUSDT", "2021-01"),
    ];
    const bad = publishMonth("ETHUSDT", "2021-02", { wrongChecksum: true });
    const run = await download([...twoByTwo, "--base-url", server.baseUrl, "--out", out]);
    expect(run.error?.code).toBe("CHECKSUM_MISMATCH");
    expect(run.error?.message).toContain("ETHUSDT-5m-2021-02.zip");
    expect(run.error?.hint).toMatch(/\.corrupt/);
    expect(readFileSync(`${localOf(bad)}.corrupt`).equals(bad.bytes)).toBe(true);
    expect(existsSync(localOf(bad))).toBe(false);
    for (const archive of good) expect(readFileSync(localOf(archive)).equals(archive.bytes)).toBe(true);
    // The verified archives were still imported; the corrupt one was not.
    expect(run.stdout).toContain(`ETHUSDT 5m: ${rowsIn(eth, "2021-01").length} candles stored`);
  });

  it("fails with DATA_FORMAT naming the checksum URL when a local zip meets a malformed .CHECKSUM", async () => {
    const jan = publishMonth("BTCUSDT", "2021-01", { malformedChecksum: true });
    // The zip is already here (copied by hand, say) but its .CHECKSUM is not: the published one is fetched.
    mkdirSync(join(localOf(jan), ".."), { recursive: true });
    writeFileSync(localOf(jan), jan.bytes);
    const run = await download([
      "--symbols",
      "BTCUSDT",
      "--from",
      "2021-01",
      "--base-url",
      server.baseUrl,
      "--out",
      out,
      "--no-import",
    ]);
    expect(run.error?.code).toBe("DATA_FORMAT");
    expect(run.error?.message).toContain(
      `${server.baseUrl}${jan.urlPath}.CHECKSUM:1: expected "<64 hex digits>`,
    );
    expect(run.error?.message).not.toContain(`${server.baseUrl}:1:`);
    expect(run.error?.hint).toMatch(/--base-url/);
  });

  it("reports an unpublished month and downloads the rest; fails when nothing is published", async () => {
    publishMonth("BTCUSDT", "2021-01");
    publishMonth("BTCUSDT", "2021-02");
    server.fail("/data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2021-03.zip.CHECKSUM", 404);
    const args = [
      "--symbols",
      "BTCUSDT",
      "--from",
      "2021-01",
      "--to",
      "2021-03",
      "--base-url",
      server.baseUrl,
    ];
    const run = await download([...args, "--out", out, "--no-import"]);
    expect(run.error).toBeUndefined();
    expect(run.stdout).toMatch(/downloaded 2, up to date 0, not available 1, failed 0/);
    expect(run.stderr).toContain("not available BTCUSDT-5m-2021-03.zip");

    const none = await download([
      "--symbols",
      "XRPUSDT",
      "--from",
      "2021-01",
      "--base-url",
      server.baseUrl,
      "--out",
      out,
    ]);
    expect(none.error?.code).toBe("NOT_FOUND");
    expect(none.error?.hint).toMatch(/symbol/);
  });

  it("takes --out, --base-url and --interval defaults from the configuration", async () => {
    const jan = publishMonth("BTCUSDT", "2021-01");
    env.CRYPTOML_DATA__DOWNLOAD_DIR = out;
    env.CRYPTOML_DATA__BASE_URL = server.baseUrl;
    const run = await download(["--symbols", "BTCUSDT", "--from", "2021-01", "--no-import"]);
    expect(run.error).toBeUndefined();
    expect(readFileSync(localOf(jan)).equals(jan.bytes)).toBe(true);
  });

  it("stops on Ctrl-C, keeps the .part file, imports nothing and says how to resume", async () => {
    const jan = publishMonth("BTCUSDT", "2021-01");
    server.stallAfter(jan.urlPath, 50_000);
    const before = new Set(process.listeners("SIGINT"));
    const running = download([
      "--symbols",
      "BTCUSDT",
      "--from",
      "2021-01",
      "--base-url",
      server.baseUrl,
      "--out",
      out,
    ]);
    // Wait until the body is flowing, then deliver "SIGINT" to the handler the command installed.
    while (!existsSync(`${localOf(jan)}.part`)) await new Promise((done) => setTimeout(done, 20));
    const handler = process.listeners("SIGINT").find((listener) => !before.has(listener));
    expect(handler).toBeDefined();
    (handler as () => void)();
    const run = await running;
    expect(run.error?.code).toBe("INTERRUPTED");
    expect(run.error?.message).toMatch(/interrupted/);
    // The summary counts what did arrive and does not call the run done.
    const kept = statSync(`${localOf(jan)}.part`).size;
    expect(kept).toBeGreaterThanOrEqual(50_000);
    expect(run.stdout).toMatch(/^downloaded 0, up to date 0, not available 0, failed 0, interrupted 1: /m);
    expect(run.stdout).not.toMatch(/: 0 B in /);
    expect(run.stdout).toContain(`: ${formatBytes(kept)} in `);
    expect(run.stderr).toMatch(/interrupted BTCUSDT-5m-2021-01\.zip {2}\d+(\.\d+)? kB received in /);
    expect(run.stderr).toMatch(/\[0\/1 files\] \d+(\.\d+)? kB, .*, interrupted\n/);
    expect(run.stderr).not.toMatch(/, done\n/);
    expect(run.error?.hint).toContain(
      `cryptoml data download --symbols BTCUSDT --from 2021-01 --base-url ${server.baseUrl}`,
    );
    expect(existsSync(`${localOf(jan)}.part`)).toBe(true);
    expect(existsSync(join(root, "store"))).toBe(false);
    expect(process.listeners("SIGINT")).toEqual([...before]);
  });

  it.each([
    [["--symbols", "BTCUSDT", "--from", "2021-13"], /--from "2021-13" is not a month/],
    [["--symbols", "BTCUSDT", "--from", "2021-03", "--to", "2021-01"], /is after --to/],
    [["--symbols", "BTCUSDT", "--from", "2021-08"], /in the future/],
    [["--symbols", "BTCUSDT", "--from", "2021-01", "--interval", "7m"], /unknown interval "7m"/],
    [["--symbols", "BTC/USDT", "--from", "2021-01"], /not a Binance spot symbol/],
    [["--symbols", "BTCUSDT"], /--from is required/],
    [["--symbols", "BTCUSDT", "--from", "2021-01", "--concurrency", "0"], /--concurrency 0/],
    [["--symbols", "BTCUSDT", "--from", "2021-01", "--base-url", "ftp://x"], /must be http or https/],
  ])("rejects %j with a usage error before any request", async (args, message) => {
    const run = await download([...args, "--out", out]);
    expect(run.error).toBeInstanceOf(UsageError);
    expect(run.error?.message).toMatch(message);
    expect(server.requests).toEqual([]);
  });
});
