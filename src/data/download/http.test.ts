import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  adabtcFixtureCsv,
  DataDumpServer,
  klineCsv,
  loadBundledCandles,
  rowsIn,
  type WrittenArchive,
  writeArchive,
} from "../../../test/helpers/data-dump-server.js";
import { NetworkError } from "../../core/errors.js";
import {
  DEFAULT_RETRY,
  DownloadInterruptedError,
  downloadToPart,
  fetchText,
  type HttpOptions,
  NotPublishedError,
  parseRetryAfter,
  type RetryNotice,
} from "./http.js";

let root: string;
let server: DataDumpServer;
let archive: WrittenArchive;
let sleeps: number[];
let retries: RetryNotice[];

function options(overrides: Partial<HttpOptions> = {}): HttpOptions {
  return {
    retry: DEFAULT_RETRY,
    stallTimeoutMs: 5000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onRetry: (notice) => retries.push(notice),
    ...overrides,
  };
}

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "cryptoml-http-"));
  const csv = klineCsv(rowsIn(loadBundledCandles("BTC_USDT"), "2021-01"));
  archive = writeArchive(
    join(root, "remote"),
    "data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2021-01.zip",
    csv,
  );
  server = await DataDumpServer.start(join(root, "remote"));
  sleeps = [];
  retries = [];
});

afterEach(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

const url = () => `${server.baseUrl}${archive.urlPath}`;
const part = () => join(root, "x.zip.part");

describe("downloadToPart", () => {
  it("downloads a whole file", async () => {
    const result = await downloadToPart(url(), part(), options());
    expect(readFileSync(part()).equals(archive.bytes)).toBe(true);
    expect(result).toEqual({
      bytes: archive.bytes.length,
      resumedFrom: 0,
      transferred: archive.bytes.length,
    });
    expect(server.requestsFor(".zip")[0]?.range).toBeUndefined();
  });

  it("continues an existing .part with a Range request", async () => {
    writeFileSync(part(), archive.bytes.subarray(0, 70_000));
    const result = await downloadToPart(url(), part(), options());
    expect(server.requestsFor(".zip").map((r) => r.range)).toEqual(["bytes=70000-"]);
    expect(readFileSync(part()).equals(archive.bytes)).toBe(true);
    expect(result.resumedFrom).toBe(70_000);
    expect(result.transferred).toBe(archive.bytes.length - 70_000);
  });

  it("starts again from 0 when the server ignores the range (200)", async () => {
    server.rangeSupport = false;
    writeFileSync(part(), Buffer.from("stale bytes that must not survive"));
    const result = await downloadToPart(url(), part(), options());
    expect(readFileSync(part()).equals(archive.bytes)).toBe(true);
    expect(result.resumedFrom).toBe(0);
  });

  it("retries a cut connection from where it stopped", async () => {
    server.cutAfter(archive.urlPath, 50_000);
    await downloadToPart(url(), part(), options());
    const ranges = server.requestsFor(".zip").map((r) => r.range);
    expect(ranges[0]).toBeUndefined();
    expect(ranges[1]).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(ranges[1] ?? "")?.[0])).toBeGreaterThan(0);
    expect(readFileSync(part()).equals(archive.bytes)).toBe(true);
    expect(retries).toHaveLength(1);
  });

  it("keeps the partial bytes when it runs out of tries", async () => {
    server.cutAfter(archive.urlPath, 50_000);
    await expect(
      downloadToPart(url(), part(), options({ retry: { ...DEFAULT_RETRY, attempts: 1 } })),
    ).rejects.toThrow(NetworkError);
    const kept = statSync(part()).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(archive.bytes.length);
  });

  it("drops a stalled connection and resumes it", async () => {
    server.stallAfter(archive.urlPath, 30_000);
    await downloadToPart(url(), part(), options({ stallTimeoutMs: 300 }));
    expect(readFileSync(part()).equals(archive.bytes)).toBe(true);
    expect(retries[0]?.reason).toMatch(/no data received/);
    expect(server.requestsFor(".zip")[1]?.range).toBe("bytes=30000-");
  });

  it("backs off on 5xx, doubling the wait, and gives up after the bounded number of tries", async () => {
    server.fail(archive.urlPath, 503, { times: 2 });
    await downloadToPart(url(), part(), options());
    expect(sleeps).toEqual([1000, 2000]);
    server.fail(archive.urlPath, 500);
    rmSync(part());
    await expect(downloadToPart(url(), part(), options())).rejects.toThrow(/HTTP 500/);
  });

  it("honours Retry-After on 429 and refuses a wait beyond the bound", async () => {
    server.fail(archive.urlPath, 429, { times: 1, headers: { "Retry-After": "7" } });
    await downloadToPart(url(), part(), options());
    expect(sleeps).toEqual([7000]);
    server.fail(archive.urlPath, 418, { times: 1, headers: { "Retry-After": "86400" } });
    rmSync(part());
    const failure = downloadToPart(url(), part(), options());
    await expect(failure).rejects.toThrow(/418.*86400 s/);
  });

  it("reports 404 as not published, without retrying", async () => {
    await expect(downloadToPart(`${server.baseUrl}/data/nothing.zip`, part(), options())).rejects.toThrow(
      NotPublishedError,
    );
    expect(sleeps).toEqual([]);
  });

  it("accepts a .part that is already complete (416)", async () => {
    writeFileSync(part(), archive.bytes);
    const result = await downloadToPart(url(), part(), options());
    expect(result.bytes).toBe(archive.bytes.length);
    expect(readFileSync(part()).equals(archive.bytes)).toBe(true);
  });

  it("stops at once when aborted, keeping the .part", async () => {
    server.stallAfter(archive.urlPath, 20_000);
    const controller = new AbortController();
    const download = downloadToPart(url(), part(), {
      ...options({ signal: controller.signal }),
      onProgress: () => setTimeout(() => controller.abort(), 50),
    });
    await expect(download).rejects.toThrow(DownloadInterruptedError);
    expect(statSync(part()).size).toBe(20_000);
  });
});

describe("fetchText", () => {
  it("fetches a CHECKSUM file", async () => {
    expect(await fetchText(`${url()}.CHECKSUM`, options())).toBe(
      `${archive.sha256}  BTCUSDT-5m-2021-01.zip\n`,
    );
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", Date.UTC(2015, 9, 21, 7, 28, 0))).toBe(10_000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
  });
});

// Keep the real ADABTC fixture reachable from here too: it must be served byte-for-byte.
it("serves the real ADABTC fixture in a zip", async () => {
  const adabtc = writeArchive(
    root,
    "data/spot/daily/klines/ADABTC/1m/ADABTC-1m-2021-11-27.zip",
    adabtcFixtureCsv(),
  );
  const local = await DataDumpServer.start(root);
  try {
    await downloadToPart(`${local.baseUrl}${adabtc.urlPath}`, part(), options());
    expect(readFileSync(part()).equals(adabtc.bytes)).toBe(true);
  } finally {
    await local.close();
  }
});
