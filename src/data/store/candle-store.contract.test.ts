import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/helpers/temp-dir.js";
import { allocateSeries, type CandleSeries } from "../candles.js";
import { ArrowFileCandleStore } from "./arrow-file-store.js";
import type { CandleStore } from "./candle-store.js";
import { MemoryCandleStore } from "./memory-store.js";

const tempDir = useTempDirs();

function series(symbol: string, start: number, length: number): CandleSeries {
  const s = allocateSeries(symbol, "5m", length);
  for (let i = 0; i < length; i++) {
    s.openTime[i] = start + i * 300_000;
    s.open[i] = 100 + i;
    s.high[i] = 101 + i;
    s.low[i] = 99 + i;
    s.close[i] = 100.5 + i;
    s.volume[i] = i % 3;
    if (i % 2 === 0) s.trades[i] = i;
  }
  return s;
}

const implementations: [string, () => CandleStore][] = [
  ["memory", () => new MemoryCandleStore()],
  ["arrow files", () => new ArrowFileCandleStore(tempDir())],
];

describe.each(implementations)("CandleStore contract: %s", (_name, make) => {
  it("is empty at first and reads undefined for unknown series", async () => {
    const store = make();
    expect(await store.list()).toEqual([]);
    expect(await store.read("BTCUSDT", "5m")).toBeUndefined();
  });

  it("round-trips every column exactly, NaN included", async () => {
    const store = make();
    const original = series("BTCUSDT", 1_606_780_800_000, 50);
    await store.replace([original]);
    const back = await store.read("BTCUSDT", "5m");
    expect(back?.length).toBe(50);
    expect(Array.from(back?.openTime ?? [])).toEqual(Array.from(original.openTime));
    expect(Array.from(back?.close ?? [])).toEqual(Array.from(original.close));
    expect(Array.from(back?.trades ?? [])).toEqual(Array.from(original.trades));
  });

  it("lists series with their ranges, sorted", async () => {
    const store = make();
    await store.replace([series("ETHUSDT", 0, 3), series("BTCUSDT", 300_000, 2)]);
    const listed = await store.list();
    expect(listed.map(({ symbol, rows, first, last }) => ({ symbol, rows, first, last }))).toEqual([
      { symbol: "BTCUSDT", rows: 2, first: 300_000, last: 600_000 },
      { symbol: "ETHUSDT", rows: 3, first: 0, last: 600_000 },
    ]);
  });

  it("replaces a whole series", async () => {
    const store = make();
    await store.replace([series("BTCUSDT", 0, 10)]);
    await store.replace([series("BTCUSDT", 0, 4)]);
    expect((await store.read("BTCUSDT", "5m"))?.length).toBe(4);
  });

  it("does not let a reader change what is stored", async () => {
    const store = make();
    await store.replace([series("BTCUSDT", 0, 3)]);
    const copy = await store.read("BTCUSDT", "5m");
    copy?.close.fill(0);
    expect((await store.read("BTCUSDT", "5m"))?.close[0]).toBe(100.5);
  });

  it("serialises writers", async () => {
    const store = make();
    const order: string[] = [];
    const slow = store.withWriteLock(async () => {
      order.push("a-start");
      await new Promise((r) => setTimeout(r, 30));
      order.push("a-end");
    });
    await new Promise((r) => setTimeout(r, 5));
    const second = store
      .withWriteLock(async () => order.push("b"))
      .catch((error: Error) => order.push(`b-refused: ${error.message}`));
    await Promise.all([slow, second]);
    // Either the second writer waited, or it was refused with a clear message; never interleaved.
    expect(order[0]).toBe("a-start");
    expect(order.indexOf("a-end")).toBe(1);
  });
});
