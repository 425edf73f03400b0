import { describe, expect, it } from "vitest";
import { UsageError } from "../../core/errors.js";
import { archiveUrl, parseSymbols, parseYearMonth, planDownloads } from "./plan.js";

const NOW = new Date("2021-11-28T09:30:00Z");

describe("parseYearMonth", () => {
  it("reads YYYY-MM", () => {
    expect(parseYearMonth("2021-01")).toEqual({ year: 2021, month: 1 });
    expect(parseYearMonth(" 2021-12 ")).toEqual({ year: 2021, month: 12 });
  });

  it.each(["2021-13", "2021-00", "2021-1", "21-01", "2021/01", "january"])(
    "rejects %s naming the flag",
    (text) => {
      expect(() => parseYearMonth(text, "--from")).toThrow(UsageError);
      expect(() => parseYearMonth(text, "--from")).toThrow(/--from/);
    },
  );
});

describe("parseSymbols", () => {
  it("upper-cases, trims and de-duplicates", () => {
    expect(parseSymbols("btcusdt, ETHUSDT,BTCUSDT")).toEqual(["BTCUSDT", "ETHUSDT"]);
  });

  it("explains the ccxt spelling", () => {
    expect(() => parseSymbols("BTC/USDT")).toThrow(UsageError);
    try {
      parseSymbols("BTC/USDT");
    } catch (error) {
      expect((error as UsageError).hint).toContain("BTCUSDT");
    }
  });

  it("rejects empty lists and odd characters", () => {
    expect(() => parseSymbols(" , ")).toThrow(/no symbols/);
    expect(() => parseSymbols("BTC USDT")).toThrow(UsageError);
  });
});

describe("planDownloads", () => {
  it("uses one monthly archive per past month and symbol, in order", () => {
    const plan = planDownloads({
      symbols: ["BTCUSDT", "ETHUSDT"],
      interval: "5m",
      from: { year: 2020, month: 12 },
      to: { year: 2021, month: 2 },
      now: NOW,
    });
    expect(plan.archives.map((a) => a.remotePath)).toEqual([
      "data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2020-12.zip",
      "data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2021-01.zip",
      "data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2021-02.zip",
      "data/spot/monthly/klines/ETHUSDT/5m/ETHUSDT-5m-2020-12.zip",
      "data/spot/monthly/klines/ETHUSDT/5m/ETHUSDT-5m-2021-01.zip",
      "data/spot/monthly/klines/ETHUSDT/5m/ETHUSDT-5m-2021-02.zip",
    ]);
    expect(plan.archives[0]?.localPath).toBe("spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2020-12.zip");
    expect(plan.notes).toEqual([]);
  });

  it("defaults --to to --from", () => {
    const plan = planDownloads({
      symbols: ["BTCUSDT"],
      interval: "1h",
      from: { year: 2021, month: 3 },
      now: NOW,
    });
    expect(plan.archives.map((a) => a.fileName)).toEqual(["BTCUSDT-1h-2021-03.zip"]);
  });

  it("uses daily archives up to yesterday (UTC) for the current month", () => {
    const plan = planDownloads({
      symbols: ["ADABTC"],
      interval: "1m",
      from: { year: 2021, month: 10 },
      to: { year: 2021, month: 11 },
      now: NOW,
    });
    expect(plan.archives[0]?.remotePath).toBe("data/spot/monthly/klines/ADABTC/1m/ADABTC-1m-2021-10.zip");
    const daily = plan.archives.slice(1);
    expect(daily).toHaveLength(27);
    expect(daily[0]?.remotePath).toBe("data/spot/daily/klines/ADABTC/1m/ADABTC-1m-2021-11-01.zip");
    expect(daily.at(-1)?.fileName).toBe("ADABTC-1m-2021-11-27.zip");
    expect(daily.every((a) => a.granularity === "daily")).toBe(true);
    expect(plan.notes.join()).toMatch(/current month/);
  });

  it("plans nothing for the current month on its first day, and says why", () => {
    const plan = planDownloads({
      symbols: ["BTCUSDT"],
      interval: "5m",
      from: { year: 2021, month: 11 },
      now: new Date("2021-11-01T23:59:59Z"),
    });
    expect(plan.archives).toEqual([]);
    expect(plan.notes.join()).toMatch(/no complete day/);
  });

  it("takes the month from UTC, not local time", () => {
    // 2021-12-01 00:30 UTC: November is complete even where it is still November locally.
    const plan = planDownloads({
      symbols: ["BTCUSDT"],
      interval: "5m",
      from: { year: 2021, month: 11 },
      now: new Date("2021-12-01T00:30:00Z"),
    });
    expect(plan.archives.map((a) => a.granularity)).toEqual(["monthly"]);
  });

  it("rejects future months and reversed ranges", () => {
    const base = { symbols: ["BTCUSDT"], interval: "5m" as const, now: NOW };
    expect(() => planDownloads({ ...base, from: { year: 2021, month: 12 } })).toThrow(/future/);
    expect(() =>
      planDownloads({ ...base, from: { year: 2021, month: 5 }, to: { year: 2021, month: 2 } }),
    ).toThrow(/--from 2021-05 is after --to 2021-02/);
  });

  it("builds URLs with or without a trailing slash on the base", () => {
    const [archive] = planDownloads({
      symbols: ["BTCUSDT"],
      interval: "5m",
      from: { year: 2021, month: 1 },
      now: NOW,
    }).archives;
    if (!archive) throw new Error("no archive");
    const expected = "https://data.binance.vision/data/spot/monthly/klines/BTCUSDT/5m/BTCUSDT-5m-2021-01.zip";
    expect(archiveUrl("https://data.binance.vision/", archive)).toBe(expected);
    expect(archiveUrl("https://data.binance.vision", archive, ".CHECKSUM")).toBe(`${expected}.CHECKSUM`);
  });
});
