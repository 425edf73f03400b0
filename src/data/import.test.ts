import { createHash } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/helpers/temp-dir.js";
import { importFiles } from "./import.js";
import type { DataObserver } from "./observer.js";
import { ArrowFileCandleStore } from "./store/arrow-file-store.js";
import { MemoryCandleStore } from "./store/memory-store.js";

const tempDir = useTempDirs();
const RAW_SAMPLE = join(import.meta.dirname, "../../test/fixtures/ADABTC-1m-2021-11-27.csv");
const sampleLines = readFileSync(RAW_SAMPLE, "utf8").trim().split("\n");

/** An observer that writes down what it is told, one string per call. */
function recordingObserver(): DataObserver & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    candlesReceived: (symbol, source, count) => calls.push(`candles ${symbol} ${source} ${count}`),
    stageTimed: (stage, seconds) => calls.push(`${stage} ${seconds >= 0 ? "timed" : "negative"}`),
    storeOperation: (store, operation) => calls.push(`${store} ${operation}`),
  };
}

function csv(dir: string, name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

/** The same candle a day later: shifts the open and close times. */
function nextDay(line: string): string {
  return line
    .split(",")
    .map((field, k) => (k === 0 || k === 6 ? String(Number(field) + 86_400_000) : field))
    .join(",");
}

describe("importFiles", () => {
  it("imports a zipped microsecond-timestamp file with a header (Binance spot from 2025 on)", async () => {
    // The documented example row of 2025-01-01 and the two hours after it, in microseconds.
    const hour = 3_600_000_000;
    const rows = [0, 1, 2].map((k) =>
      [
        1735689600000000 + k * hour,
        4.1507 + k / 100,
        4.1587,
        4.1506,
        4.1554,
        539.23,
        1735693199999999 + k * hour,
        2240.398609,
        13,
        401.82,
        1669.981213,
        0,
      ].join(","),
    );
    const header =
      "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore";
    const dir = tempDir();
    const zip = join(dir, "BTCUSDT-1h-2025-01-01.zip");
    const bytes = zipSync({ "BTCUSDT-1h-2025-01-01.csv": strToU8([header, ...rows].join("\n")) });
    writeFileSync(zip, bytes);
    writeFileSync(
      `${zip}.CHECKSUM`,
      `${createHash("sha256").update(bytes).digest("hex")}  BTCUSDT-1h-2025-01-01.zip\n`,
    );
    const storeDir = tempDir();
    const report = await importFiles([zip], { storeDir });
    expect(report.unverifiedArchives).toEqual([]);
    const stored = await new ArrowFileCandleStore(storeDir).read("BTCUSDT", "1h");
    expect(Array.from(stored?.openTime ?? [])).toEqual([1735689600000, 1735693200000, 1735696800000]);
    expect(stored?.open[1]).toBe(4.1507 + 1 / 100);
  });

  it("imports, and importing the same data again changes nothing", async () => {
    const storeDir = tempDir();
    const first = await importFiles([RAW_SAMPLE], { storeDir });
    expect(first.series).toEqual([
      { symbol: "ADABTC", interval: "1m", rows: 10, added: 10, replaced: 0, unchanged: 0 },
    ]);
    const file = new ArrowFileCandleStore(storeDir).pathOf("ADABTC", "1m");
    const before = { bytes: readFileSync(file), mtime: statSync(file).mtimeMs };
    const again = await importFiles([RAW_SAMPLE], { storeDir });
    expect(again.series[0]).toMatchObject({ rows: 10, added: 0, replaced: 0, unchanged: 10 });
    expect(readFileSync(file).equals(before.bytes)).toBe(true);
    expect(statSync(file).mtimeMs).toBe(before.mtime);
  });

  it("merges overlapping imports without duplicates", async () => {
    const dir = tempDir();
    const storeDir = tempDir();
    const a = csv(dir, "ADABTC-1m-2021-11-27.csv", sampleLines.slice(0, 6));
    const b = csv(tempDir(), "ADABTC-1m-2021-11-27.csv", sampleLines.slice(4));
    await importFiles([a], { storeDir });
    const report = await importFiles([b], { storeDir });
    expect(report.series[0]).toMatchObject({ rows: 10, added: 4, unchanged: 2, replaced: 0 });
    const stored = await new ArrowFileCandleStore(storeDir).read("ADABTC", "1m");
    const times = Array.from(stored?.openTime ?? []);
    expect(new Set(times).size).toBe(10);
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });

  it("joins disjoint and merges overlapping files given in one import", async () => {
    const disjoint = [
      csv(tempDir(), "ADABTC-1m-2021-11-27.csv", sampleLines.slice(5)),
      csv(tempDir(), "ADABTC-1m-2021-11-27.csv", sampleLines.slice(0, 5)),
    ];
    const joined = await importFiles(disjoint, { storeDir: tempDir() });
    expect(joined.series[0]).toMatchObject({ rows: 10, added: 10, replaced: 0, unchanged: 0 });
    const overlapping = [
      csv(tempDir(), "ADABTC-1m-2021-11-27.csv", sampleLines.slice(3)),
      csv(tempDir(), "ADABTC-1m-2021-11-27.csv", sampleLines.slice(0, 6)),
    ];
    const merged = await importFiles(overlapping, { storeDir: tempDir() });
    expect(merged.series[0]).toMatchObject({ rows: 10, added: 10, unchanged: 3 });
  });

  it("lets newer data replace differing candles and counts them", async () => {
    const storeDir = tempDir();
    await importFiles([RAW_SAMPLE], { storeDir });
    const corrected = sampleLines.map((line, i) =>
      i === 2
        ? line
            .split(",")
            .map((f, k) => (k === 5 ? "1.5" : f))
            .join(",")
        : line,
    );
    const report = await importFiles([csv(tempDir(), "ADABTC-1m-2021-11-27.csv", corrected)], { storeDir });
    expect(report.series[0]).toMatchObject({ replaced: 1, unchanged: 9, added: 0 });
    expect((await new ArrowFileCandleStore(storeDir).read("ADABTC", "1m"))?.volume[2]).toBe(1.5);
  });

  it("keeps columns a later ccxt import does not carry", async () => {
    const storeDir = tempDir();
    await importFiles([RAW_SAMPLE], { storeDir });
    const ohlcv = sampleLines.map((line) => line.split(",").slice(0, 6).map(Number));
    const json = join(tempDir(), "ADA_BTC-1m.json");
    writeFileSync(json, JSON.stringify(ohlcv));
    const report = await importFiles([json], { storeDir });
    expect(report.series[0]).toMatchObject({ unchanged: 10, replaced: 0 });
    expect((await new ArrowFileCandleStore(storeDir).read("ADABTC", "1m"))?.trades[0]).toBe(79);
  });

  it("leaves the store untouched when any file is bad", async () => {
    const storeDir = tempDir();
    await importFiles([RAW_SAMPLE], { storeDir });
    const file = new ArrowFileCandleStore(storeDir).pathOf("ADABTC", "1m");
    const before = readFileSync(file);
    const good = csv(tempDir(), "ADABTC-1m-2021-11-28.csv", sampleLines.map(nextDay));
    const bad = csv(tempDir(), "ADABTC-1m-2021-11-29.csv", [...sampleLines.slice(0, 3), "1637971380000,1,2"]);
    await expect(importFiles([good, bad], { storeDir })).rejects.toThrow(
      /ADABTC-1m-2021-11-29.csv:4: expected 12/,
    );
    expect(readFileSync(file).equals(before)).toBe(true);
    expect((await new ArrowFileCandleStore(storeDir).list()).map((s) => s.rows)).toEqual([10]);
  });

  it("tells its observer each stage, each store operation and, once stored, the candles per file", async () => {
    const observer = recordingObserver();
    const store = new MemoryCandleStore({ observer });
    const json = join(tempDir(), "ADA_BTC-1m.json");
    writeFileSync(json, JSON.stringify(sampleLines.map((line) => line.split(",").slice(0, 6).map(Number))));
    await importFiles([RAW_SAMPLE, json], {
      storeDir: tempDir(),
      store,
      observer,
      sourceOf: (path, format) => (path === json ? "bundled" : format),
    });
    expect(observer.calls).toEqual([
      "parse timed",
      "validate timed",
      "parse timed",
      "validate timed",
      "memory read",
      "memory write",
      "store timed",
      "candles ADABTC binance-csv 10",
      "candles ADABTC bundled 10",
    ]);
  });

  it("reports no candles and no store stage when the import fails", async () => {
    const observer = recordingObserver();
    const bad = csv(tempDir(), "ADABTC-1m-2021-11-29.csv", [...sampleLines.slice(0, 3), "1637971380000,1,2"]);
    await expect(importFiles([RAW_SAMPLE, bad], { storeDir: tempDir(), observer })).rejects.toThrow();
    expect(observer.calls).toEqual(["parse timed", "validate timed"]);
  });
});
