import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ArchiveResult } from "./downloader.js";
import { archiveSpec } from "./plan.js";
import { DownloadProgress, describeResult, formatBytes, formatDuration } from "./progress.js";

const CLEAR_LINE = "\r\x1b[2K";
const archive = archiveSpec("BTCUSDT", "5m", "monthly", "2021-01");

function result(fields: Partial<ArchiveResult>): ArchiveResult {
  return {
    archive,
    status: "downloaded",
    path: "/x",
    bytes: 0,
    transferred: 0,
    resumedFrom: 0,
    elapsedMs: 0,
    ...fields,
  };
}

function capture() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

describe("formatting", () => {
  it("formats sizes and durations", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(254_300)).toBe("254.3 kB");
    expect(formatBytes(1_500_000)).toBe("1.50 MB");
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(4200)).toBe("4.2 s");
    expect(formatDuration(185_000)).toBe("3 min 5 s");
    expect(formatDuration(7_800_000)).toBe("2 h 10 min");
  });

  it("describes each outcome, with the resume offset when a .part was continued", () => {
    const done = describeResult(
      result({ bytes: 250_000, transferred: 150_000, resumedFrom: 100_000, elapsedMs: 1000 }),
    );
    expect(done).toBe(
      "downloaded BTCUSDT-5m-2021-01.zip  250.0 kB in 1.0 s (150.0 kB/s), resumed from 100000 bytes",
    );
    expect(describeResult(result({ status: "up-to-date", bytes: 2000 }))).toBe(
      "up to date BTCUSDT-5m-2021-01.zip  2.00 kB",
    );
    expect(describeResult(result({ status: "not-available" }))).toMatch(/^not available/);
    expect(describeResult(result({ status: "failed", error: new Error("boom") }))).toBe(
      "FAILED BTCUSDT-5m-2021-01.zip: boom",
    );
  });

  it("describes an interrupted archive with the bytes it received and kept", () => {
    const line = describeResult(
      result({ status: "interrupted", bytes: 740_000, transferred: 640_000, elapsedMs: 1700 }),
    );
    expect(line).toBe(
      "interrupted BTCUSDT-5m-2021-01.zip  640.0 kB received in 1.7 s, 740.0 kB kept as .part",
    );
  });
});

describe("DownloadProgress", () => {
  it("prints per-file lines and overall lines with files, bytes, rate and ETA", () => {
    const out = capture();
    let now = 0;
    const progress = new DownloadProgress({
      stream: out.stream,
      interactive: false,
      total: 2,
      intervalMs: 0,
      now: () => now,
    });
    progress.handle({ type: "start", archive });
    now = 1000;
    progress.handle({ type: "progress", archive, delta: 500_000, received: 500_000, total: 1_000_000 });
    expect(out.text()).toContain("[0/2 files] 500.0 kB, 500.0 kB/s, ETA 3.0 s");
    now = 2000;
    progress.handle({
      type: "done",
      result: result({ bytes: 1_000_000, transferred: 1_000_000, elapsedMs: 2000 }),
    });
    expect(out.text()).toContain("downloaded BTCUSDT-5m-2021-01.zip  1.00 MB in 2.0 s (500.0 kB/s)");
    expect(out.text()).toContain("[1/2 files]");
  });

  it("redraws one status line in place on a terminal", () => {
    const out = capture();
    let now = 0;
    const progress = new DownloadProgress({
      stream: out.stream,
      interactive: true,
      total: 1,
      now: () => now,
    });
    progress.handle({ type: "start", archive });
    now = 500;
    progress.handle({ type: "progress", archive, delta: 10, received: 10, total: 100 });
    expect(out.text()).toContain(`${CLEAR_LINE}[0/1 files]`);
    progress.handle({ type: "done", result: result({}) });
    progress.finish();
    // The status line is wiped before each permanent line, and the final summary ends the output.
    expect(out.text()).toContain(`${CLEAR_LINE}downloaded BTCUSDT`);
    expect(out.text().endsWith("done\n")).toBe(true);
  });
});

describe("DownloadProgress after Ctrl-C", () => {
  it("counts the bytes of an interrupted archive and does not call the run done", () => {
    const out = capture();
    let now = 0;
    const progress = new DownloadProgress({
      stream: out.stream,
      interactive: false,
      total: 1,
      intervalMs: 0,
      now: () => now,
    });
    progress.handle({ type: "start", archive });
    now = 1700;
    progress.handle({ type: "progress", archive, delta: 640_000, received: 640_000, total: 1_300_000 });
    progress.handle({
      type: "done",
      result: result({ status: "interrupted", bytes: 640_000, transferred: 640_000, elapsedMs: 1700 }),
    });
    progress.finish({ interrupted: true });
    const last = out.text().trimEnd().split("\n").at(-1);
    expect(last).toMatch(/^\[0\/1 files\] 640\.0 kB, .*, interrupted$/);
    expect(out.text()).not.toMatch(/, done\n/);
  });

  it("says interrupted when Ctrl-C came between two archives", () => {
    const out = capture();
    const progress = new DownloadProgress({ stream: out.stream, interactive: false, total: 2, now: () => 0 });
    progress.handle({ type: "start", archive });
    progress.handle({ type: "done", result: result({}) });
    progress.finish({ interrupted: true });
    expect(out.text().trimEnd().split("\n").at(-1)).toMatch(/^\[1\/2 files\] .*, interrupted$/);
  });
});
