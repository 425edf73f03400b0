import { performance } from "node:perf_hooks";
import type { Writable } from "node:stream";
import type { ArchiveResult, DownloadEvent } from "./downloader.js";

export interface ProgressOptions {
  readonly stream: Writable;
  /** Redraw one status line in place (a TTY); otherwise print periodic plain lines. */
  readonly interactive: boolean;
  /** Archives in the plan. */
  readonly total: number;
  /** Time between overall lines when not interactive. Default 5000 ms; interactive redraws every 100 ms. */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

/**
 * Turns download events into human progress: a line per finished archive (name, size, rate, resume offset)
 * and an overall line (files done/total, bytes, rate, ETA), redrawn in place on a TTY.
 */
export class DownloadProgress {
  private readonly stream: Writable;
  private readonly interactive: boolean;
  private readonly total: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly started: number;
  private readonly inFlight = new Map<string, { received: number; total: number | undefined }>();
  /** Archives that came to an end: downloaded, up to date, not available or failed. */
  private finished = 0;
  /** Archives stopped by Ctrl-C: not finished, and the run is not done. */
  private interrupted = 0;
  /** The run was interrupted, possibly between two archives (set by `finish`). */
  private stopped = false;
  private transferred = 0;
  private lastStatus = Number.NEGATIVE_INFINITY;
  private statusShown = false;

  constructor(options: ProgressOptions) {
    this.stream = options.stream;
    this.interactive = options.interactive;
    this.total = options.total;
    this.intervalMs = options.intervalMs ?? (options.interactive ? 100 : 5000);
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
  }

  handle(event: DownloadEvent): void {
    switch (event.type) {
      case "start":
        this.inFlight.set(event.archive.localPath, { received: 0, total: undefined });
        break;
      case "progress":
        this.transferred += event.delta;
        this.inFlight.set(event.archive.localPath, { received: event.received, total: event.total });
        break;
      case "retry": {
        const { notice } = event;
        this.line(
          `retrying ${event.archive.fileName} in ${formatDuration(notice.delayMs)} ` +
            `(try ${notice.attempt}): ${notice.reason}`,
        );
        break;
      }
      case "done":
        this.inFlight.delete(event.result.archive.localPath);
        if (event.result.status === "interrupted") this.interrupted++;
        else this.finished++;
        this.line(describeResult(event.result));
        break;
    }
    this.maybeStatus();
  }

  /**
   * Clears the status line and prints the last overall line; `interrupted` (the report's flag) makes it
   * say so even when Ctrl-C came between two archives.
   */
  finish(options: { readonly interrupted?: boolean } = {}): void {
    this.stopped ||= options.interrupted === true;
    this.clearStatus();
    this.stream.write(`${this.statusText()}\n`);
  }

  /** Overall progress: `[3/8 files] 1.2 MB, 600 kB/s, ETA 5 s`; `…, interrupted` after Ctrl-C. */
  statusText(): string {
    const elapsed = this.now() - this.started;
    const rate = elapsed > 0 ? (this.transferred * 1000) / elapsed : 0;
    let fraction = this.finished;
    for (const file of this.inFlight.values()) {
      if (file.total) fraction += Math.min(1, file.received / file.total);
    }
    fraction /= Math.max(1, this.total);
    const eta =
      this.stopped || this.interrupted > 0
        ? "interrupted"
        : fraction >= 1
          ? "done"
          : fraction > 0
            ? `ETA ${formatDuration((elapsed / fraction) * (1 - fraction))}`
            : "ETA ?";
    return `[${this.finished}/${this.total} files] ${formatBytes(this.transferred)}, ${formatRate(rate)}, ${eta}`;
  }

  private maybeStatus(): void {
    const now = this.now();
    if (now - this.lastStatus < this.intervalMs) return;
    this.lastStatus = now;
    if (this.interactive) {
      this.stream.write(`\r\x1b[2K${this.statusText()}`);
      this.statusShown = true;
    } else if (this.finished + this.interrupted < this.total) {
      this.stream.write(`${this.statusText()}\n`);
    }
  }

  private line(text: string): void {
    this.clearStatus();
    this.stream.write(`${text}\n`);
  }

  private clearStatus(): void {
    if (!this.statusShown) return;
    this.stream.write("\r\x1b[2K");
    this.statusShown = false;
    // Redraw right after the line that replaced it, so the status stays visible.
    this.lastStatus = Number.NEGATIVE_INFINITY;
  }
}

/** One line per archive: what happened, size, rate, and the resume offset when it continued a `.part`. */
export function describeResult(result: ArchiveResult): string {
  const name = result.archive.fileName;
  switch (result.status) {
    case "downloaded": {
      const rate = result.elapsedMs > 0 ? (result.transferred * 1000) / result.elapsedMs : 0;
      const resumed = result.resumedFrom > 0 ? `, resumed from ${result.resumedFrom} bytes` : "";
      return `downloaded ${name}  ${formatBytes(result.bytes)} in ${formatDuration(result.elapsedMs)} (${formatRate(rate)})${resumed}`;
    }
    case "up-to-date":
      return `up to date ${name}  ${formatBytes(result.bytes)}`;
    case "not-available":
      return `not available ${name} (not published)`;
    case "interrupted":
      return (
        `interrupted ${name}  ${formatBytes(result.transferred)} received in ${formatDuration(result.elapsedMs)}, ` +
        `${formatBytes(result.bytes)} kept as .part`
      );
    case "failed":
      return `FAILED ${name}: ${result.error?.message ?? "unknown error"}`;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = "B";
  for (const next of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = next;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${unit}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** `850 ms`, `4.2 s`, `3 min 5 s`, `2 h 10 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
