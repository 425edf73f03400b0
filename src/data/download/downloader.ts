import { randomBytes } from "node:crypto";
import { access, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { ChecksumError, CryptomlError } from "../../core/errors.js";
import { parseChecksumFile, sha256File } from "../checksum.js";
import { type DataObserver, NO_DATA_OBSERVER, timeStage } from "../observer.js";
import { withFileLock } from "../store/lock.js";
import {
  DEFAULT_RETRY,
  DownloadInterruptedError,
  downloadToPart,
  fetchText,
  type HttpOptions,
  NotPublishedError,
  type RetryNotice,
  type RetryPolicy,
  realSleep,
  type Sleep,
} from "./http.js";
import { type ArchiveSpec, archiveUrl, type DownloadPlan } from "./plan.js";

/** The public Binance data dump. */
export const DEFAULT_BASE_URL = "https://data.binance.vision";
export const DEFAULT_CONCURRENCY = 2;
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
/** The lock file, in the download directory, that keeps two runs from appending to the same `.part`. */
export const DOWNLOAD_LOCK_FILE = ".download.lock";

export type ArchiveStatus = "downloaded" | "up-to-date" | "not-available" | "failed" | "interrupted";

export interface ArchiveResult {
  readonly archive: ArchiveSpec;
  readonly status: ArchiveStatus;
  /** Local path of the zip (for a checksum failure, the zip's name; the bytes are in `<path>.corrupt`). */
  readonly path: string;
  /** Size of the local file (of the `.part` file for an archive that was interrupted or failed mid-transfer). */
  readonly bytes: number;
  /** Bytes transferred for it in this run, including those of an interrupted or failed transfer. */
  readonly transferred: number;
  /** Bytes a `.part` file already held when this run continued it; 0 when it started afresh. */
  readonly resumedFrom: number;
  readonly elapsedMs: number;
  /** Why it failed or is not available. */
  readonly error?: Error;
}

export interface DownloadReport {
  /** One per archive that was started, in plan order. */
  readonly results: readonly ArchiveResult[];
  /** Local paths of every verified archive (downloaded or already up to date), in plan order: what to import. */
  readonly verified: readonly string[];
  readonly failures: readonly ArchiveResult[];
  readonly notAvailable: readonly ArchiveResult[];
  /** Archives never started because the run was interrupted. */
  readonly pending: number;
  readonly transferred: number;
  readonly elapsedMs: number;
  readonly interrupted: boolean;
}

/** What a progress display needs to know; emitted synchronously, in order, per archive. */
export type DownloadEvent =
  | { readonly type: "start"; readonly archive: ArchiveSpec }
  | {
      readonly type: "progress";
      readonly archive: ArchiveSpec;
      readonly delta: number;
      readonly received: number;
      readonly total: number | undefined;
    }
  | { readonly type: "retry"; readonly archive: ArchiveSpec; readonly notice: RetryNotice }
  | { readonly type: "done"; readonly result: ArchiveResult };

export interface DownloadOptions {
  /** Root of the local mirror; archives land at `<outDir>/spot/monthly/klines/<SYMBOL>/<interval>/…`. */
  readonly outDir: string;
  /** Default {@link DEFAULT_BASE_URL}. */
  readonly baseUrl?: string;
  /** Parallel downloads. Default 2, which is polite to the server and enough to fill most links. */
  readonly concurrency?: number;
  /** Abort (Ctrl-C): in-flight requests stop, `.part` files stay, the report says `interrupted`. */
  readonly signal?: AbortSignal;
  /** Defaults: {@link DEFAULT_RETRY}. */
  readonly retry?: Partial<RetryPolicy>;
  /** Default 30 000 ms without a byte before a connection is dropped and retried. */
  readonly stallTimeoutMs?: number;
  readonly sleep?: Sleep;
  readonly onEvent?: (event: DownloadEvent) => void;
  /**
   * How long to wait for another process that is downloading into the same `outDir` (it holds
   * `<outDir>/.download.lock`) before failing with an error naming its pid. Default 0: fail at once,
   * since the other run may take hours. Runs in the same process queue behind each other instead.
   */
  readonly lockTimeoutMs?: number;
  /** Told how long each completed HTTP fetch (an archive, a `.CHECKSUM`) took, as stage `download`. Default: nobody. */
  readonly observer?: DataObserver;
}

/**
 * Downloads the archives of `plan` with their `.CHECKSUM` files into a local mirror of the data dump.
 * Resumes `.part` files, skips archives already present and verified, verifies each download's SHA-256
 * and moves a mismatching one to `<file>.corrupt`. Never throws for one archive's trouble: every
 * outcome is in the report (`downloadOutcomeError` in outcome.ts turns it into the command's error).
 * Holds `<outDir>/.download.lock` for the whole run and throws a `STORE` error naming the holder's pid
 * when another process is downloading into the same directory (see `lockTimeoutMs`).
 */
export async function downloadArchives(
  plan: Pick<DownloadPlan, "archives">,
  options: DownloadOptions,
): Promise<DownloadReport> {
  try {
    await mkdir(options.outDir, { recursive: true });
  } catch (error) {
    throw new CryptomlError("STORE", `cannot create the download directory ${options.outDir}`, {
      hint: "check --out (config data.download_dir) and that its parent is writable",
      cause: error,
    });
  }
  // One run per directory: two runs would both append to the same `.part` file and corrupt it.
  return withFileLock(
    join(options.outDir, DOWNLOAD_LOCK_FILE),
    `download directory ${options.outDir}`,
    () => runPlan(plan, options),
    { timeoutMs: options.lockTimeoutMs ?? 0 },
  );
}

async function runPlan(
  plan: Pick<DownloadPlan, "archives">,
  options: DownloadOptions,
): Promise<DownloadReport> {
  const started = performance.now();
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_CONCURRENCY));
  const results: (ArchiveResult | undefined)[] = new Array(plan.archives.length).fill(undefined);
  let next = 0;
  const worker = async () => {
    while (next < plan.archives.length && !options.signal?.aborted) {
      const index = next++;
      const archive = plan.archives[index] as ArchiveSpec;
      options.onEvent?.({ type: "start", archive });
      const result = await processArchive(archive, options);
      results[index] = result;
      options.onEvent?.({ type: "done", result });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, plan.archives.length) }, worker));

  const done = results.filter((r): r is ArchiveResult => r !== undefined);
  return {
    results: done,
    verified: done.filter((r) => r.status === "downloaded" || r.status === "up-to-date").map((r) => r.path),
    failures: done.filter((r) => r.status === "failed"),
    notAvailable: done.filter((r) => r.status === "not-available"),
    pending: plan.archives.length - done.length,
    transferred: done.reduce((sum, r) => sum + r.transferred, 0),
    elapsedMs: performance.now() - started,
    interrupted: Boolean(options.signal?.aborted),
  };
}

async function processArchive(archive: ArchiveSpec, options: DownloadOptions): Promise<ArchiveResult> {
  const started = performance.now();
  const path = join(options.outDir, archive.localPath);
  const part = `${path}.part`;
  // Counted from the progress notices, so that an interrupted or failed transfer still reports its bytes.
  let transferred = 0;
  const finish = (fields: Partial<ArchiveResult> & { status: ArchiveStatus }): ArchiveResult => ({
    archive,
    path,
    bytes: 0,
    transferred,
    resumedFrom: 0,
    ...fields,
    elapsedMs: performance.now() - started,
  });
  const http = httpOptions(archive, options);
  const baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
  const observer = options.observer ?? NO_DATA_OBSERVER;
  const fetchChecksum = (url: string) => timeStage(observer, "download", () => fetchText(url, http));
  try {
    await mkdir(dirname(path), { recursive: true });
    const upToDate = await verifiedLocalCopy(archive, path, baseUrl, fetchChecksum);
    if (upToDate !== undefined) return finish({ status: "up-to-date", bytes: upToDate });

    const checksumUrl = archiveUrl(baseUrl, archive, ".CHECKSUM");
    const checksumText = await fetchChecksum(checksumUrl);
    const expected = parseChecksumFile(checksumUrl, checksumText, archive.fileName);
    const transfer = await timeStage(observer, "download", () =>
      downloadToPart(archiveUrl(baseUrl, archive), part, {
        ...http,
        onProgress: (p) => {
          transferred += p.delta;
          options.onEvent?.({ type: "progress", archive, ...p });
        },
      }),
    );
    const fields = {
      bytes: transfer.bytes,
      transferred: transfer.transferred,
      resumedFrom: transfer.resumedFrom,
    };
    const actual = await sha256File(part);
    if (actual !== expected) {
      await rename(part, `${path}.corrupt`);
      const error = new ChecksumError(path, expected, actual, {
        hint: `kept as ${path}.corrupt for inspection; run the command again to download it afresh`,
      });
      return finish({ status: "failed", error, ...fields });
    }
    // The .CHECKSUM goes first: a zip without one is re-verified next run, never trusted blindly.
    await writeAtomically(`${path}.CHECKSUM`, checksumText);
    await rename(part, path);
    return finish({ status: "downloaded", ...fields });
  } catch (error) {
    const bytes = await sizeOf(part);
    if (options.signal?.aborted || error instanceof DownloadInterruptedError) {
      return finish({ status: "interrupted", bytes, error: new DownloadInterruptedError() });
    }
    if (error instanceof NotPublishedError) return finish({ status: "not-available", error });
    const cause = error instanceof Error ? error : new Error(String(error));
    return finish({ status: "failed", bytes, error: cause });
  }
}

/**
 * Size of the local archive when it is present and matches its checksum (the local `.CHECKSUM`,
 * else the published one, which is then saved); undefined when it must be downloaded.
 */
async function verifiedLocalCopy(
  archive: ArchiveSpec,
  path: string,
  baseUrl: string,
  fetchChecksum: (url: string) => Promise<string>,
): Promise<number | undefined> {
  if (!(await exists(path))) return undefined;
  const checksumPath = `${path}.CHECKSUM`;
  const local = (await exists(checksumPath)) ? await readFile(checksumPath, "utf8") : undefined;
  const checksumUrl = archiveUrl(baseUrl, archive, ".CHECKSUM");
  const text = local ?? (await fetchChecksum(checksumUrl));
  // A malformed checksum is named by where it came from: the local file, or the URL it was fetched from.
  const expected = parseChecksumFile(
    local === undefined ? checksumUrl : checksumPath,
    text,
    archive.fileName,
  );
  if ((await sha256File(path)) !== expected) return undefined;
  if (local === undefined) await writeAtomically(checksumPath, text);
  return (await stat(path)).size;
}

function httpOptions(archive: ArchiveSpec, options: DownloadOptions): HttpOptions {
  return {
    signal: options.signal,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
    sleep: options.sleep ?? realSleep,
    onRetry: (notice) => options.onEvent?.({ type: "retry", archive, notice }),
  };
}

/** Write-then-rename, so a crash never leaves a half-written `.CHECKSUM` behind. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

/** Size of a file, 0 when it does not exist. */
async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
