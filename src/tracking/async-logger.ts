/**
 * Logging that never slows training: records are validated when logged (so mistakes surface at the
 * call), queued in memory and sent in the background in batches within MLflow's limits. When the store
 * is unreachable, the queue goes to a spool file on disk and is retried with backoff; a spool left by a
 * process that died is sent by the next one (`replaySpools`). Nothing logged is dropped.
 */
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { chunkBatch, type TrackingClient } from "./client.js";
import { isTransient } from "./errors.js";
import type { LogBatchInput } from "./store.js";
import type { Metric, Param, Tag } from "./types.js";
import { validateMetric, validateParam, validateTag } from "./validation.js";

export interface AsyncRunLoggerOptions {
  /** Where undelivered records wait while the store is unreachable. */
  readonly spoolDir: string;
  /** How often queued records are sent (ms). Default 1000. */
  readonly flushIntervalMs?: number;
  /** Longest wait between retries while the store is down (ms). Default 30000. */
  readonly maxRetryDelayMs?: number;
  /** Notices (store unreachable, records spooled, delivered again). */
  readonly log?: (line: string) => void;
}

type SpoolRecord = { runId: string } & LogBatchInput;

/** Sends every spool file in `spoolDir` (left by processes that could not deliver them); returns the runs sent. */
export async function replaySpools(client: TrackingClient, spoolDir: string): Promise<string[]> {
  const names = await readdir(spoolDir).catch(() => [] as string[]);
  const sent: string[] = [];
  for (const name of names.filter((n) => n.endsWith(".jsonl"))) {
    const file = join(spoolDir, name);
    const batch = await readSpool(file);
    for (const [runId, records] of batch) {
      for (const chunk of chunkBatch(records)) await client.store.logBatch(runId, chunk);
      sent.push(runId);
    }
    await rm(file, { force: true });
  }
  return sent;
}

/** One batch of the records of several chunks, in order. */
function mergeChunks(chunks: readonly LogBatchInput[]): { metrics: Metric[]; params: Param[]; tags: Tag[] } {
  const out = { metrics: [] as Metric[], params: [] as Param[], tags: [] as Tag[] };
  for (const chunk of chunks) {
    for (const m of chunk.metrics) out.metrics.push(m);
    for (const p of chunk.params) out.params.push(p);
    for (const t of chunk.tags) out.tags.push(t);
  }
  return out;
}

async function readSpool(file: string): Promise<Map<string, LogBatchInput>> {
  const byRun = new Map<string, { metrics: Metric[]; params: Param[]; tags: Tag[] }>();
  const text = await readFile(file, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    let record: SpoolRecord;
    try {
      record = JSON.parse(line) as SpoolRecord;
    } catch {
      continue; // the last line, torn by a crash while it was written
    }
    const entry = byRun.get(record.runId) ?? { metrics: [], params: [], tags: [] };
    // Not push(...list): a spool rewritten after a long outage holds more points than a call takes arguments.
    for (const m of record.metrics) entry.metrics.push(m);
    for (const p of record.params) entry.params.push(p);
    for (const t of record.tags) entry.tags.push(t);
    byRun.set(record.runId, entry);
  }
  return byRun;
}

export class AsyncRunLogger {
  readonly #client: TrackingClient;
  readonly #runId: string;
  readonly #options: Required<Omit<AsyncRunLoggerOptions, "log">> & { log: (line: string) => void };
  readonly #spoolFile: string;
  #metrics: Metric[] = [];
  #params: Param[] = [];
  #tags: Tag[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> = Promise.resolve();
  #spooled = false;
  #retryDelay = 500;
  #nextRetry = 0;
  #closed = false;
  #failure: unknown;
  /** Points delivered to the store (for progress and tests). */
  delivered = 0;

  constructor(client: TrackingClient, runId: string, options: AsyncRunLoggerOptions) {
    this.#client = client;
    this.#runId = runId;
    this.#options = {
      spoolDir: options.spoolDir,
      flushIntervalMs: options.flushIntervalMs ?? 1000,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
      log: options.log ?? (() => {}),
    };
    this.#spoolFile = join(options.spoolDir, `${runId}.jsonl`);
    this.#timer = setInterval(() => {
      void this.#kick();
    }, this.#options.flushIntervalMs);
    this.#timer.unref();
  }

  get pending(): number {
    return this.#metrics.length + this.#params.length + this.#tags.length;
  }

  logMetric(key: string, value: number, step: number, timestamp = Date.now()): void {
    const metric = { key, value, step, timestamp };
    validateMetric(metric);
    this.#metrics.push(metric);
    if (this.#metrics.length >= 1000) void this.#kick();
  }

  logParams(params: Readonly<Record<string, string>>): void {
    const list = Object.entries(params).map(([key, value]) => ({ key, value }));
    list.forEach(validateParam);
    this.#params.push(...list);
  }

  setTags(tags: Readonly<Record<string, string>>): void {
    const list = Object.entries(tags).map(([key, value]) => ({ key, value }));
    list.forEach(validateTag);
    this.#tags.push(...list);
  }

  /** Starts a send unless one is running; the returned promise settles when that send is done. */
  #kick(): Promise<void> {
    // A store error that no retry cures (the server refused a record) is kept for flush() to throw:
    // the background timer must never leave an unhandled rejection behind.
    this.#sending = this.#sending
      .then(() => this.#send())
      .catch((error: unknown) => {
        this.#failure ??= error;
      });
    return this.#sending;
  }

  async #send(): Promise<void> {
    if (this.#spooled && Date.now() < this.#nextRetry) {
      await this.#spool();
      return;
    }
    const batch: LogBatchInput = { metrics: this.#metrics, params: this.#params, tags: this.#tags };
    this.#metrics = [];
    this.#params = [];
    this.#tags = [];
    const chunks = chunkBatch(batch);
    let sent = 0;
    try {
      if (this.#spooled) await this.#deliverSpool();
      for (const chunk of chunks) {
        if (chunk.metrics.length + chunk.params.length + chunk.tags.length > 0) {
          await this.#client.store.logBatch(this.#runId, chunk);
          this.delivered += chunk.metrics.length;
        }
        sent += 1;
      }
    } catch (error) {
      if (!isTransient(error)) throw error;
      // Undelivered records (only the chunks not yet accepted) go to disk, in order; retries back off.
      const rest = mergeChunks(chunks.slice(sent));
      this.#metrics = [...rest.metrics, ...this.#metrics];
      this.#params = [...rest.params, ...this.#params];
      this.#tags = [...rest.tags, ...this.#tags];
      if (!this.#spooled) {
        this.#options.log(
          `tracking: ${this.#client.uri} is unreachable; buffering records in ${this.#spoolFile}`,
        );
      }
      this.#spooled = true;
      this.#nextRetry = Date.now() + this.#retryDelay;
      this.#retryDelay = Math.min(this.#retryDelay * 2, this.#options.maxRetryDelayMs);
      await this.#spool();
    }
  }

  /** Moves the in-memory queue to the spool file. */
  async #spool(): Promise<void> {
    if (this.pending === 0) return;
    const record: SpoolRecord = {
      runId: this.#runId,
      metrics: this.#metrics,
      params: this.#params,
      tags: this.#tags,
    };
    // Emptied before the writes: records logged while they are in flight stay queued for the next send.
    this.#metrics = [];
    this.#params = [];
    this.#tags = [];
    await mkdir(this.#options.spoolDir, { recursive: true });
    await appendFile(this.#spoolFile, `${JSON.stringify(record)}\n`);
  }

  /** Sends the spool file; it is removed only once every chunk was accepted. */
  async #deliverSpool(): Promise<void> {
    const spooled = (await readSpool(this.#spoolFile)).get(this.#runId);
    if (spooled !== undefined) {
      const chunks = chunkBatch(spooled);
      let sent = 0;
      try {
        for (const chunk of chunks) {
          await this.#client.store.logBatch(this.#runId, chunk);
          this.delivered += chunk.metrics.length;
          sent += 1;
        }
      } catch (error) {
        // Keep only what was not accepted, rewritten once (not after every chunk: that was quadratic).
        if (sent > 0) {
          const rest = mergeChunks(chunks.slice(sent));
          await writeFile(this.#spoolFile, `${JSON.stringify({ runId: this.#runId, ...rest })}\n`);
        }
        throw error;
      }
    }
    await rm(this.#spoolFile, { force: true });
    this.#spooled = false;
    this.#retryDelay = 500;
    this.#options.log(`tracking: ${this.#client.uri} is reachable again; buffered records delivered`);
  }

  /**
   * Sends everything logged so far. With `waitMs`, keeps retrying while the store is unreachable for up
   * to that long; returns true when everything was delivered (otherwise it stays in the spool file).
   */
  async flush(waitMs = 0): Promise<boolean> {
    const until = Date.now() + waitMs;
    await this.#kick();
    while (this.#spooled && Date.now() < until) {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(500, Math.max(0, this.#nextRetry - Date.now()))),
      );
      this.#nextRetry = 0;
      await this.#kick();
    }
    if (this.#failure !== undefined) throw this.#failure;
    return !this.#spooled && this.pending === 0;
  }

  /** Stops the background timer after a final flush (see `flush`). */
  async close(waitMs = 0): Promise<boolean> {
    if (this.#closed) return !this.#spooled;
    this.#closed = true;
    clearInterval(this.#timer);
    return this.flush(waitMs);
  }
}
