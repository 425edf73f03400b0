import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type ArchiveOptions,
  DataDumpServer,
  klineCsv,
  loadBundledCandles,
  rowsIn,
  type WrittenArchive,
  writeArchive,
} from "../../../test/helpers/data-dump-server.js";
import { ChecksumError, DataFormatError, NotFoundError } from "../../core/errors.js";
import {
  DOWNLOAD_LOCK_FILE,
  type DownloadEvent,
  type DownloadOptions,
  downloadArchives,
} from "./downloader.js";
import { DownloadInterruptedError } from "./http.js";
import { DownloadFailedError, downloadOutcomeError } from "./outcome.js";
import { type ArchiveSpec, archiveSpec } from "./plan.js";

let root: string;
let remote: string;
let out: string;
let server: DataDumpServer;
const published = new Map<string, WrittenArchive>();

const btc = loadBundledCandles("BTC_USDT");
const jan = archiveSpec("BTCUSDT", "5m", "monthly", "2021-01");
const feb = archiveSpec("BTCUSDT", "5m", "monthly", "2021-02");
const mar = archiveSpec("BTCUSDT", "5m", "monthly", "2021-03");

function publish(spec: ArchiveSpec, options: ArchiveOptions = {}): WrittenArchive {
  const written = writeArchive(remote, spec.remotePath, klineCsv(rowsIn(btc, spec.period)), options);
  published.set(spec.fileName, written);
  return written;
}

function options(extra: Partial<DownloadOptions> = {}): DownloadOptions {
  return { outDir: out, baseUrl: server.baseUrl, sleep: async () => {}, ...extra };
}

const local = (spec: ArchiveSpec) => join(out, spec.localPath);

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "cryptoml-dl-"));
  remote = join(root, "remote");
  out = join(root, "out");
  server = await DataDumpServer.start(remote);
});

afterEach(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe("downloadArchives", () => {
  it("mirrors the remote layout and keeps the .CHECKSUM beside each archive", async () => {
    const a = publish(jan);
    publish(feb);
    const events: DownloadEvent["type"][] = [];
    const report = await downloadArchives(
      { archives: [jan, feb] },
      options({ onEvent: (e) => events.push(e.type) }),
    );
    expect(report.results.map((r) => r.status)).toEqual(["downloaded", "downloaded"]);
    expect(report.verified).toEqual([local(jan), local(feb)]);
    expect(readFileSync(local(jan)).equals(a.bytes)).toBe(true);
    expect(readFileSync(`${local(jan)}.CHECKSUM`, "utf8")).toBe(`${a.sha256}  ${jan.fileName}\n`);
    expect(existsSync(`${local(jan)}.part`)).toBe(false);
    expect(events.filter((e) => e === "done")).toHaveLength(2);
    expect(events).toContain("progress");
    expect(downloadOutcomeError(report)).toBeUndefined();
  });

  it("skips archives already present and verified, without fetching anything", async () => {
    publish(jan);
    await downloadArchives({ archives: [jan] }, options());
    server.requests.length = 0;
    const report = await downloadArchives({ archives: [jan] }, options());
    expect(report.results[0]?.status).toBe("up-to-date");
    expect(report.verified).toEqual([local(jan)]);
    expect(server.requests).toEqual([]);
  });

  it("verifies a present archive whose .CHECKSUM is missing against the published one", async () => {
    const a = publish(jan);
    mkdirSync(dirname(local(jan)), { recursive: true });
    writeFileSync(local(jan), a.bytes);
    const report = await downloadArchives({ archives: [jan] }, options());
    expect(report.results[0]?.status).toBe("up-to-date");
    expect(server.requestsFor(".zip")).toEqual([]);
    expect(existsSync(`${local(jan)}.CHECKSUM`)).toBe(true);
  });

  it("downloads again a present archive that no longer matches its checksum", async () => {
    const a = publish(jan);
    await downloadArchives({ archives: [jan] }, options());
    writeFileSync(local(jan), "bit rot");
    const report = await downloadArchives({ archives: [jan] }, options());
    expect(report.results[0]?.status).toBe("downloaded");
    expect(readFileSync(local(jan)).equals(a.bytes)).toBe(true);
  });

  it("resumes an interrupted archive on the next run and ends byte-identical", async () => {
    const a = publish(jan);
    server.cutAfter(`/${jan.remotePath}`, 60_000);
    const first = await downloadArchives({ archives: [jan] }, options({ retry: { attempts: 1 } }));
    expect(first.results[0]?.status).toBe("failed");
    expect(existsSync(`${local(jan)}.part`)).toBe(true);
    expect(existsSync(local(jan))).toBe(false);

    const second = await downloadArchives({ archives: [jan] }, options());
    const result = second.results[0];
    expect(result?.status).toBe("downloaded");
    expect(result?.resumedFrom).toBeGreaterThan(0);
    expect(server.requestsFor(".zip").at(-1)?.range).toBe(`bytes=${result?.resumedFrom}-`);
    expect(result?.transferred).toBe(a.bytes.length - (result?.resumedFrom ?? 0));
    expect(readFileSync(local(jan)).equals(a.bytes)).toBe(true);
  });

  it("moves an archive that fails its checksum to .corrupt and carries on with the others", async () => {
    const bad = publish(jan, { wrongChecksum: true });
    publish(feb);
    const report = await downloadArchives({ archives: [jan, feb] }, options());
    expect(report.results.map((r) => r.status)).toEqual(["failed", "downloaded"]);
    expect(report.failures[0]?.error).toBeInstanceOf(ChecksumError);
    expect(report.failures[0]?.error?.message).toContain(jan.fileName);
    expect(readFileSync(`${local(jan)}.corrupt`).equals(bad.bytes)).toBe(true);
    expect(existsSync(local(jan))).toBe(false);
    expect(report.verified).toEqual([local(feb)]);
    const outcome = downloadOutcomeError(report);
    expect(outcome).toBeInstanceOf(DownloadFailedError);
    expect(outcome?.code).toBe("CHECKSUM_MISMATCH");
    expect(outcome?.message).toContain(jan.fileName);
  });

  it("reports archives that are not published, and fails only when none is", async () => {
    publish(jan);
    const report = await downloadArchives({ archives: [jan, mar] }, options());
    expect(report.results.map((r) => r.status)).toEqual(["downloaded", "not-available"]);
    expect(downloadOutcomeError(report)).toBeUndefined();
    // Only the CHECKSUM was asked for: no point requesting a zip whose checksum is not published.
    expect(server.requestsFor(mar.fileName)).toEqual([]);

    const none = await downloadArchives({ archives: [mar] }, options());
    expect(downloadOutcomeError(none)).toBeInstanceOf(NotFoundError);
  });

  it("stops on abort, keeps the .part files and starts nothing more", async () => {
    publish(jan);
    publish(feb);
    server.stallAfter(`/${jan.remotePath}`, 40_000);
    const controller = new AbortController();
    const report = await downloadArchives(
      { archives: [jan, feb] },
      options({
        concurrency: 1,
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === "progress") controller.abort();
        },
      }),
    );
    expect(report.interrupted).toBe(true);
    expect(report.results.map((r) => r.status)).toEqual(["interrupted"]);
    expect(report.pending).toBe(1);
    expect(existsSync(`${local(jan)}.part`)).toBe(true);
    expect(downloadOutcomeError(report)).toBeInstanceOf(DownloadInterruptedError);
    // The bytes that did arrive are counted, for the archive and for the run.
    const partSize = statSync(`${local(jan)}.part`).size;
    expect(partSize).toBeGreaterThan(0);
    expect(report.results[0]?.transferred).toBe(partSize);
    expect(report.results[0]?.bytes).toBe(partSize);
    expect(report.transferred).toBe(partSize);
  });

  it("counts the bytes of a transfer that failed midway", async () => {
    publish(jan);
    server.cutAfter(`/${jan.remotePath}`, 60_000);
    const report = await downloadArchives({ archives: [jan] }, options({ retry: { attempts: 1 } }));
    expect(report.results[0]?.status).toBe("failed");
    expect(report.results[0]?.transferred).toBe(60_000);
    expect(report.transferred).toBe(60_000);
  });

  it("runs downloads in parallel up to the concurrency", async () => {
    for (const spec of [jan, feb]) {
      publish(spec);
      server.stallAfter(`/${spec.remotePath}`, 1000);
    }
    let zipRequestsAtFirstRetry = -1;
    const onEvent = (e: DownloadEvent) => {
      if (e.type === "retry" && zipRequestsAtFirstRetry < 0) {
        zipRequestsAtFirstRetry = server.requestsFor(".zip").length;
      }
    };
    const report = await downloadArchives(
      { archives: [jan, feb] },
      options({ concurrency: 2, stallTimeoutMs: 300, onEvent }),
    );
    expect(report.results.map((r) => r.status)).toEqual(["downloaded", "downloaded"]);
    // Both archives were in flight before the first stall timed out.
    expect(zipRequestsAtFirstRetry).toBe(2);
  });
});

describe("downloadArchives: a malformed .CHECKSUM", () => {
  const checksumUrl = (spec: ArchiveSpec) => `${server.baseUrl}/${spec.remotePath}.CHECKSUM`;

  it("names the published checksum's URL when a local zip has no .CHECKSUM, and is a DATA_FORMAT error", async () => {
    const a = publish(jan, { malformedChecksum: true });
    mkdirSync(dirname(local(jan)), { recursive: true });
    writeFileSync(local(jan), a.bytes);
    const report = await downloadArchives({ archives: [jan] }, options());
    const error = report.failures[0]?.error;
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error?.message.startsWith(`${checksumUrl(jan)}:1: expected "<64 hex digits>`)).toBe(true);
    expect((error as DataFormatError).file).toBe(checksumUrl(jan));
    const outcome = downloadOutcomeError(report);
    expect(outcome?.code).toBe("DATA_FORMAT");
    expect(outcome?.message).toContain(checksumUrl(jan));
    expect(outcome?.hint).toMatch(/--base-url/);
    // Nothing was trusted or saved on the strength of it.
    expect(existsSync(`${local(jan)}.CHECKSUM`)).toBe(false);
  });

  it("names the checksum's URL for a fresh download and downloads no zip", async () => {
    publish(jan, { malformedChecksum: true });
    const report = await downloadArchives({ archives: [jan] }, options());
    expect(report.failures[0]?.error?.message.startsWith(`${checksumUrl(jan)}:1:`)).toBe(true);
    expect(downloadOutcomeError(report)?.code).toBe("DATA_FORMAT");
    expect(server.requestsFor(".zip")).toEqual([]);
  });

  it("names the local .CHECKSUM file when that is the malformed one", async () => {
    const a = publish(jan);
    mkdirSync(dirname(local(jan)), { recursive: true });
    writeFileSync(local(jan), a.bytes);
    writeFileSync(`${local(jan)}.CHECKSUM`, "not a checksum\n");
    const report = await downloadArchives({ archives: [jan] }, options());
    expect(report.failures[0]?.error?.message.startsWith(`${local(jan)}.CHECKSUM:1:`)).toBe(true);
    expect(downloadOutcomeError(report)?.code).toBe("DATA_FORMAT");
  });

  it("keeps NETWORK for a mix of network and format failures", async () => {
    publish(jan, { malformedChecksum: true });
    server.fail(`/${feb.remotePath}.CHECKSUM`, 500);
    const report = await downloadArchives({ archives: [jan, feb] }, options({ retry: { attempts: 1 } }));
    expect(report.failures).toHaveLength(2);
    expect(downloadOutcomeError(report)?.code).toBe("NETWORK");
  });
});

describe("downloadArchives: one run per download directory", () => {
  it("makes a second run in the same process wait for the first, then find its archive in place", async () => {
    const a = publish(jan);
    server.stallAfter(`/${jan.remotePath}`, 40_000);
    const first = downloadArchives({ archives: [jan] }, options({ stallTimeoutMs: 300 }));
    while (!existsSync(`${local(jan)}.part`)) await new Promise((done) => setTimeout(done, 10));
    const second = await downloadArchives({ archives: [jan] }, options());
    expect((await first).results[0]?.status).toBe("downloaded");
    // The second run started only once the first had finished: nothing was fetched twice into the .part.
    expect(second.results[0]?.status).toBe("up-to-date");
    expect(server.requestsFor(".zip")).toHaveLength(2); // the stalled try and its resume, both by the first run
    expect(readFileSync(local(jan)).equals(a.bytes)).toBe(true);
    expect(existsSync(join(out, DOWNLOAD_LOCK_FILE))).toBe(false);
  });

  it("fails at once, naming the holder's pid, when a live process holds the directory", async () => {
    publish(jan);
    mkdirSync(out, { recursive: true });
    // A lock as another process leaves it: its pid (our parent's, which is alive) and nothing else.
    writeFileSync(join(out, DOWNLOAD_LOCK_FILE), `${process.ppid}\n`);
    const attempt = downloadArchives({ archives: [jan] }, options());
    await expect(attempt).rejects.toThrow(`pid ${process.ppid}`);
    await expect(attempt).rejects.toThrow(`download directory ${out}`);
    expect(server.requests).toEqual([]);
    expect(existsSync(`${local(jan)}.part`)).toBe(false);
  });
});
