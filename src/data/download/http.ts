import { open, stat } from "node:fs/promises";
import { CryptomlError, NetworkError, NotFoundError } from "../../core/errors.js";

/** How hard to try before giving an archive up. */
export interface RetryPolicy {
  /** Tries per request, the first included. Default 3. A try that received bytes does not count. */
  readonly attempts: number;
  /** Wait before the second try; doubles per try. Default 1000 ms. */
  readonly baseDelayMs: number;
  /** Longest backoff wait. Default 30 000 ms. */
  readonly maxDelayMs: number;
  /** Longest `Retry-After` (429/418) honoured; a longer one fails the request instead. Default 120 000 ms. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

/** Abortable wait; injectable so tests need not sleep. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", aborted, { once: true });
  });

export interface RetryNotice {
  readonly url: string;
  /** The try that comes next, 2-based. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
}

export interface HttpOptions {
  /** Ctrl-C: aborts the request in flight and every wait. */
  readonly signal?: AbortSignal | undefined;
  readonly retry: RetryPolicy;
  /** A connection that delivers no byte for this long is dropped and retried. */
  readonly stallTimeoutMs: number;
  readonly sleep: Sleep;
  readonly onRetry?: ((notice: RetryNotice) => void) | undefined;
}

/** The server says the file does not exist (404): not published, or the symbol was not listed then. */
export class NotPublishedError extends NotFoundError {
  readonly url: string;
  constructor(url: string) {
    super(`${url} is not published (HTTP 404)`);
    this.url = url;
  }
}

/** Raised instead of a network error once the caller's signal has aborted (Ctrl-C). */
export class DownloadInterruptedError extends CryptomlError {
  constructor(hint = "run the same command again to resume") {
    super("INTERRUPTED", "download interrupted; partial files were kept as .part", { hint });
  }
}

/** A failure worth another try; `retryAfterMs` overrides the backoff (server's `Retry-After`). */
class TransientError extends NetworkError {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    cause?: unknown,
  ) {
    super(message, {
      cause,
      hint: "check the network connection and --base-url, then run the command again",
    });
  }
}

/** Fetches a small text file (a `.CHECKSUM`) with retries. */
export async function fetchText(url: string, options: HttpOptions): Promise<string> {
  return withRetries(url, options, async () => {
    const { response, watchdog } = await request(url, {}, options);
    try {
      checkStatus(url, response, options.retry);
      const text = await response.text();
      return text;
    } catch (error) {
      throw translate(error, watchdog, options);
    } finally {
      watchdog.stop();
    }
  });
}

export interface PartProgress {
  /** Bytes received since the previous notice. */
  readonly delta: number;
  /** Bytes now in the `.part` file. */
  readonly received: number;
  /** Full size of the file when the server said so. */
  readonly total: number | undefined;
}

export interface PartResult {
  /** Size of the completed file. */
  readonly bytes: number;
  /** Bytes that were already in the `.part` file when this download began (0 for a fresh one). */
  readonly resumedFrom: number;
  /** Bytes actually transferred in this run. */
  readonly transferred: number;
}

/**
 * Downloads `url` into `partPath`, continuing an existing `.part` with `Range: bytes=N-`.
 * A server that ignores the range (200) restarts the file from 0; a broken or stalled connection is
 * retried from wherever the `.part` file got to. On an error the `.part` file is left for the next run.
 */
export async function downloadToPart(
  url: string,
  partPath: string,
  options: HttpOptions & { readonly onProgress?: (progress: PartProgress) => void },
): Promise<PartResult> {
  let resumedFrom = await sizeOf(partPath);
  let transferred = 0;
  const bytes = await withRetries(url, options, async (madeProgress) => {
    const offset = await sizeOf(partPath);
    const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    const { response, watchdog } = await request(url, headers, options);
    try {
      if (offset > 0 && response.status === 416) return await rangeNotSatisfiable(response, partPath, offset);
      checkStatus(url, response, options.retry);
      const start = response.status === 206 ? contentRangeStart(response) : 0;
      // A 200, or a 206 that does not start where we asked, means the whole file: begin again.
      const append = response.status === 206 && start === offset;
      if (!append && response.status === 206) {
        void response.body?.cancel();
        await truncate(partPath);
        throw new TransientError(
          `${url}: the server sent another range than asked; starting the file again`,
          0,
        );
      }
      if (!append) resumedFrom = 0;
      const length = Number(response.headers.get("content-length") ?? Number.NaN);
      const total = Number.isFinite(length) ? (append ? offset : 0) + length : undefined;
      const handle = await open(partPath, append ? "a" : "w");
      let received = append ? offset : 0;
      try {
        const reader = (response.body as ReadableStream<Uint8Array>).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          watchdog.arm();
          await handle.write(value);
          received += value.byteLength;
          transferred += value.byteLength;
          madeProgress();
          options.onProgress?.({ delta: value.byteLength, received, total });
        }
      } finally {
        await handle.close();
      }
      if (total !== undefined && received !== total) {
        throw new TransientError(`${url}: connection closed after ${received} of ${total} bytes`);
      }
      return received;
    } catch (error) {
      throw translate(error, watchdog, options);
    } finally {
      watchdog.stop();
    }
  });
  return { bytes, resumedFrom, transferred };
}

/**
 * Runs `attempt` until it succeeds, waiting between tries. `madeProgress` lets a try that received
 * bytes reset the count, so a flaky connection that still moves data eventually finishes the file.
 */
async function withRetries<T>(
  url: string,
  options: HttpOptions,
  attempt: (madeProgress: () => void) => Promise<T>,
): Promise<T> {
  let failures = 0;
  for (let tries = 1; ; tries++) {
    let progressed = false;
    try {
      return await attempt(() => {
        progressed = true;
      });
    } catch (error) {
      if (!(error instanceof TransientError)) throw error;
      failures = progressed ? 1 : failures + 1;
      if (failures >= options.retry.attempts) throw error;
      const backoff = options.retry.baseDelayMs * 2 ** (failures - 1);
      const delayMs = error.retryAfterMs ?? Math.min(options.retry.maxDelayMs, backoff);
      options.onRetry?.({ url, attempt: tries + 1, delayMs, reason: error.message });
      try {
        await options.sleep(delayMs, options.signal);
      } catch {
        throw new DownloadInterruptedError();
      }
    }
  }
}

interface Watchdog {
  readonly signal: AbortSignal;
  /** (Re)starts the countdown; called on every chunk received. */
  arm(): void;
  stop(): void;
  readonly fired: () => boolean;
}

/** Drops a connection on which nothing arrives for `ms`: the headers, or the next chunk of the body. */
function watchdogFor(ms: number): Watchdog {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let fired = false;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      fired = true;
      controller.abort();
    }, ms);
  };
  arm();
  return { signal: controller.signal, arm, stop: () => clearTimeout(timer), fired: () => fired };
}

async function request(url: string, headers: Record<string, string>, options: HttpOptions) {
  if (options.signal?.aborted) throw new DownloadInterruptedError();
  const watchdog = watchdogFor(options.stallTimeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, watchdog.signal]) : watchdog.signal;
  try {
    const response = await fetch(url, { headers, signal });
    return { response, watchdog };
  } catch (error) {
    watchdog.stop();
    throw translate(error, watchdog, options);
  }
}

/** Maps fetch's assorted failures onto our taxonomy: interrupted, transient (retry) or final. */
function translate(error: unknown, watchdog: Watchdog, options: HttpOptions): unknown {
  if (options.signal?.aborted) return new DownloadInterruptedError();
  if (error instanceof CryptomlError) return error;
  if (watchdog.fired()) {
    return new TransientError(`no data received for ${options.stallTimeoutMs / 1000} s`, undefined, error);
  }
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  return new TransientError(`network error: ${detail}`, undefined, error);
}

function checkStatus(url: string, response: Response, retry: RetryPolicy): void {
  const status = response.status;
  if (status === 200 || status === 206) return;
  void response.body?.cancel();
  if (status === 404) throw new NotPublishedError(url);
  if (status === 429 || status === 418) {
    const waitMs = parseRetryAfter(response.headers.get("retry-after")) ?? retry.baseDelayMs;
    if (waitMs > retry.maxRetryAfterMs) {
      throw new NetworkError(
        `${url}: HTTP ${status}, the server asks to wait ${Math.ceil(waitMs / 1000)} s`,
        {
          hint:
            status === 418
              ? "this IP is banned for sending too many requests; wait that long, then run the command again"
              : "too many requests; wait that long, or lower --concurrency, then run the command again",
        },
      );
    }
    throw new TransientError(`HTTP ${status} (rate limited)`, waitMs);
  }
  if (status >= 500) throw new TransientError(`HTTP ${status} ${response.statusText}`.trim());
  throw new NetworkError(`${url}: HTTP ${status} ${response.statusText}`.trim(), {
    hint: "check --base-url; it should be the root of a Binance data dump, e.g. https://data.binance.vision",
  });
}

/** `Retry-After` is seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function contentRangeStart(response: Response): number {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
  return match ? Number(match[1]) : -1;
}

/**
 * 416 on a resume: the `.part` file is already as long as the remote file (a run that died before
 * renaming) or longer (a different file). Keep the first, checksum verification follows; restart the second.
 */
async function rangeNotSatisfiable(response: Response, partPath: string, offset: number): Promise<number> {
  void response.body?.cancel();
  const total = Number(/^bytes \*\/(\d+)$/.exec(response.headers.get("content-range") ?? "")?.[1]);
  if (total === offset) return offset;
  await truncate(partPath);
  throw new TransientError("the partial file is longer than the remote file; starting it again", 0);
}

async function truncate(path: string): Promise<void> {
  await (await open(path, "w")).close();
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
}
