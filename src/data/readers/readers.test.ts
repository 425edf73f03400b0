import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { strToU8, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/helpers/temp-dir.js";
import { readCandleFile } from "./index.js";

const tempDir = useTempDirs();
const RAW_SAMPLE = join(import.meta.dirname, "../../../test/fixtures/ADABTC-1m-2021-11-27.csv");
// The example row of Binance's data-dump README for spot files from 2025-01-01 on (microseconds).
const DOCUMENTED_US_ROW =
  "1735689600000000,4.15070000,4.15870000,4.15060000,4.15540000,539.23000000,1735693199999999,2240.39860900,13,401.82000000,1669.98121300,0";
const HEADER =
  "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore";

function write(name: string, content: string | Uint8Array): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return path;
}

describe("Binance data-dump CSV", () => {
  it("reads the real 12-column sample (no header, milliseconds)", async () => {
    const [result] = await readCandleFile(RAW_SAMPLE);
    expect(result?.symbol).toBe("ADABTC");
    expect(result?.interval).toBe("1m");
    expect(result?.series.length).toBe(10);
    expect(result?.series.openTime[0]).toBe(1637971200000);
    expect(result?.series.close[0]).toBe(0.00002854);
    expect(result?.series.trades[0]).toBe(79);
    expect(result?.series.takerBuyQuoteVolume[0]).toBe(0.55694227);
  });

  it("detects microsecond timestamps (the documented 2025 example row)", async () => {
    const path = write("BTCUSDT-1h-2025-01-01.csv", `${DOCUMENTED_US_ROW}\n`);
    const [result] = await readCandleFile(path);
    expect(result?.series.openTime[0]).toBe(1735689600000);
    expect(new Date(result?.series.openTime[0] as number).toISOString()).toBe("2025-01-01T00:00:00.000Z");
    expect(result?.series.open[0]).toBe(4.1507);
    expect(result?.series.quoteVolume[0]).toBe(2240.398609);
  });

  it("skips a header row", async () => {
    const path = write("BTCUSDT-1h-2025-01-01.csv", `${HEADER}\n${DOCUMENTED_US_ROW}\n`);
    const [result] = await readCandleFile(path);
    expect(result?.series.length).toBe(1);
  });

  it("rejects a wrong column count naming file and line", async () => {
    const lines = readFileSync(RAW_SAMPLE, "utf8").split("\n");
    lines[3] = lines[3]?.split(",").slice(0, 11).join(",") ?? "";
    const path = write("ADABTC-1m-2021-11-27.csv", lines.join("\n"));
    await expect(readCandleFile(path)).rejects.toThrow(
      `${path}:4: expected 12 comma-separated columns (Binance kline layout), found 11`,
    );
  });

  it("rejects text in a price column naming line and column", async () => {
    const text = readFileSync(RAW_SAMPLE, "utf8").replace("0.00002860,0.00002854", "abc,0.00002854");
    const path = write("ADABTC-1m-2021-11-27.csv", text);
    await expect(readCandleFile(path)).rejects.toThrow(`${path}:2: column 3 (high): "abc" is not a number`);
  });

  it("rejects timestamps going backwards", async () => {
    const lines = readFileSync(RAW_SAMPLE, "utf8").trim().split("\n");
    [lines[4], lines[5]] = [lines[5] as string, lines[4] as string];
    const path = write("ADABTC-1m-2021-11-27.csv", lines.join("\n"));
    await expect(readCandleFile(path)).rejects.toThrow(
      /ADABTC-1m-2021-11-27.csv:6: timestamps go backwards: open time 2021-11-27T00:04:00.000Z comes after line 5/,
    );
  });

  it("drops an identical repeated row but rejects a conflicting one", async () => {
    const lines = readFileSync(RAW_SAMPLE, "utf8").trim().split("\n");
    const repeated = write(
      "ADABTC-1m-2021-11-27.csv",
      [...lines.slice(0, 3), lines[2], ...lines.slice(3)].join("\n"),
    );
    const [result] = await readCandleFile(repeated);
    expect(result?.series.length).toBe(10);
    expect(result?.ordering.duplicates).toBe(1);
    const conflicting = write(
      "ADABTC-1m-2021-11-27.csv",
      [
        ...lines.slice(0, 3),
        lines[2]
          ?.split(",")
          .map((f, i) => (i === 4 ? "0.1" : f))
          .join(","),
        ...lines.slice(3),
      ].join("\n"),
    );
    await expect(readCandleFile(conflicting)).rejects.toThrow(
      /ADABTC-1m-2021-11-27.csv:4: duplicate open time .* differ from line 3/,
    );
  });

  it("rejects candles of another interval than the one asked for", async () => {
    const unnamed = write("sample.csv", readFileSync(RAW_SAMPLE));
    await expect(readCandleFile(unnamed, { symbol: "ADABTC", interval: "5m" })).rejects.toThrow(
      `${unnamed}:1: close time 2021-11-27T00:00:59.999Z does not fit a 5m candle opening at 2021-11-27T00:00:00.000Z`,
    );
    const minutes = [0, 1].map((m) => [Date.UTC(2021, 0, 1, 0, m), 1, 2, 0.5, 1.5, 10]);
    const offGrid = write("BTC_USDT-5m.json", JSON.stringify(minutes));
    await expect(readCandleFile(offGrid)).rejects.toThrow(
      `${offGrid}: row 2: open time 2021-01-01T00:01:00.000Z is not on the 5m grid`,
    );
    // On the grid, but each candle closes an hour after it opens: a 1h file named as 5m.
    const hourly = "1609459200000,1,2,0.5,1.5,10,1609462799999,15,3,5,7.5,0\n";
    const misnamed = write("BTCUSDT-5m-2021-01.csv", hourly);
    await expect(readCandleFile(misnamed)).rejects.toThrow(
      `${misnamed}:1: close time 2021-01-01T00:59:59.999Z does not fit a 5m candle opening at 2021-01-01T00:00:00.000Z (expected 2021-01-01T00:04:59.999Z)`,
    );
  });

  it("refuses a --symbol or --interval that contradicts the file name", async () => {
    await expect(readCandleFile(RAW_SAMPLE, { interval: "5m" })).rejects.toThrow(
      "the file name says interval 1m, but --interval says 5m",
    );
    await expect(readCandleFile(RAW_SAMPLE, { symbol: "ethbtc" })).rejects.toThrow(
      "the file name says symbol ADABTC, but --symbol says ETHBTC",
    );
    await expect(readCandleFile(RAW_SAMPLE, { symbol: "../etc" })).rejects.toThrow(
      /is not a Binance spot symbol/,
    );
  });

  it("refuses a directory with a usage error", async () => {
    await expect(readCandleFile(tempDir())).rejects.toThrow(/not a file/);
  });

  it("counts disorder instead of failing in lenient mode", async () => {
    const lines = readFileSync(RAW_SAMPLE, "utf8").trim().split("\n");
    const path = write("ADABTC-1m-2021-11-27.csv", [lines[1], lines[0], ...lines.slice(1)].join("\n"));
    const [result] = await readCandleFile(path, { mode: "lenient" });
    expect(result?.ordering).toMatchObject({ nonMonotonic: 1, duplicates: 1 });
    expect(result?.series.length).toBe(10);
  });
});

describe("data-dump zip archives", () => {
  function archive(dir: string, checksumOf?: Uint8Array): string {
    const zip = zipSync({ "ADABTC-1m-2021-11-27.csv": new Uint8Array(readFileSync(RAW_SAMPLE)) });
    const path = join(dir, "ADABTC-1m-2021-11-27.zip");
    writeFileSync(path, zip);
    const digest = createHash("sha256")
      .update(checksumOf ?? zip)
      .digest("hex");
    writeFileSync(`${path}.CHECKSUM`, `${digest}  ADABTC-1m-2021-11-27.zip\n`);
    return path;
  }

  it("reads a zip whose CHECKSUM matches", async () => {
    const [result] = await readCandleFile(archive(tempDir()));
    expect(result?.checksum).toBe("verified");
    expect(result?.series.length).toBe(10);
  });

  it("rejects a zip whose CHECKSUM does not match", async () => {
    const path = archive(tempDir(), strToU8("something else"));
    await expect(readCandleFile(path)).rejects.toThrow(
      new RegExp(`${path}: SHA-256 is [0-9a-f]{64} but its .CHECKSUM says`),
    );
  });

  it("rejects a truncated zip", async () => {
    const dir = tempDir();
    const path = archive(dir);
    const bytes = readFileSync(path);
    const truncated = join(dir, "ADABTC-1m-2021-11-28.zip");
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 30));
    await expect(readCandleFile(truncated)).rejects.toThrow(
      /ADABTC-1m-2021-11-28.zip: not a readable zip archive/,
    );
  });

  it("marks a zip without CHECKSUM as unverified", async () => {
    const dir = tempDir();
    const path = archive(dir);
    const copy = join(tempDir(), "ADABTC-1m-2021-11-27.zip");
    copyFileSync(path, copy);
    const [result] = await readCandleFile(copy);
    expect(result?.checksum).toBe("absent");
  });
});

describe("JSON layouts", () => {
  const ohlcv = [
    [1606780800000, 19695.87, 19720.0, 19578.96, 19607.03, 794.500517],
    [1606781100000, 19607.02, 19607.02, 19505.9, 19537.95, 710.941254],
  ];

  it("reads ccxt/freqtrade OHLCV arrays, plain and gzip", async () => {
    const plain = write("BTC_USDT-5m.json", JSON.stringify(ohlcv));
    const gz = write("BTC_USDT-5m.json.gz", gzipSync(JSON.stringify(ohlcv)));
    for (const path of [plain, gz]) {
      const [result] = await readCandleFile(path);
      expect(result?.symbol).toBe("BTCUSDT");
      expect(Array.from(result?.series.close ?? [])).toEqual([19607.03, 19537.95]);
      expect(Number.isNaN(result?.series.trades[0])).toBe(true);
    }
  });

  it("reads the REST /api/v3/klines layout", async () => {
    const rest = [
      [
        1499040000000,
        "0.01634790",
        "0.80000000",
        "0.01575800",
        "0.01577100",
        "148976.11427815",
        1499644799999,
        "2434.19055334",
        308,
        "1756.87402397",
        "28.46694368",
        "0",
      ],
    ];
    const path = write("klines.json", JSON.stringify(rest));
    const [result] = await readCandleFile(path, { symbol: "BNBBTC", interval: "1w" });
    expect(result?.series.high[0]).toBe(0.8);
    expect(result?.series.trades[0]).toBe(308);
  });

  it("names the row of a bad value and the truncation of a gzip", async () => {
    const bad = write("BTC_USDT-5m.json", JSON.stringify([ohlcv[0], [1606781100000, "x", 1, 1, 1, 1]]));
    await expect(readCandleFile(bad)).rejects.toThrow(`${bad}: row 2: column 2 (open): "x" is not a number`);
    const truncated = write("BTC_USDT-5m.json.gz", gzipSync(JSON.stringify(ohlcv)).subarray(0, 20));
    await expect(readCandleFile(truncated)).rejects.toThrow(/not a readable gzip file/);
  });

  it("rejects OHLCV arrays whose spacing is not the interval", async () => {
    const hourly = [0, 1, 2, 4].map((h) => [Date.UTC(2021, 0, 1, h), 1, 2, 0.5, 1.5, 10]);
    const path = write("BTC_USDT-5m.json", JSON.stringify(hourly));
    await expect(readCandleFile(path)).rejects.toThrow(
      `${path}: candles are usually 1h apart, but the interval is 5m (5m)`,
    );
  });

  it("asks for --symbol when the name says nothing", async () => {
    const path = write("candles.json", JSON.stringify(ohlcv));
    await expect(readCandleFile(path)).rejects.toThrow(/cannot tell the symbol from the file name/);
  });
});
