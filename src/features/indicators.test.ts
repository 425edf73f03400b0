import fc from "fast-check";
import { BollingerBands } from "trading-signals";
import { describe, expect, it } from "vitest";
import { dayOfWeek, timeOfDay } from "./calendar.js";
import { macd, rsi } from "./momentum.js";
import { logReturn, realizedVolatility } from "./returns.js";
import { atr, bollingerPctB } from "./volatility.js";
import { volumeZScore } from "./volume.js";

const col = (...values: number[]) => Float64Array.from(values);

/** Expects `actual` to equal `expected` row for row, NaN where expected is NaN, else to 12 digits. */
function expectColumn(actual: Float64Array, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((value, t) => {
    if (Number.isNaN(value)) expect(actual[t], `row ${t}`).toBeNaN();
    else expect(actual[t], `row ${t}`).toBeCloseTo(value, 12);
  });
}

const NaN_ = Number.NaN;

describe("log returns and realized volatility", () => {
  it("logReturn is ln(close[t] / close[t - lag])", () => {
    expectColumn(logReturn(col(100, 110, 99), 1), [NaN_, Math.log(1.1), Math.log(0.9)]);
    expectColumn(logReturn(col(100, 110, 99), 2), [NaN_, NaN_, Math.log(0.99)]);
  });

  it("realizedVolatility is the population std of the last `window` one-candle returns", () => {
    const r1 = Math.log(1.1);
    const r2 = Math.log(0.9);
    // Population std of two values is half their distance.
    expectColumn(realizedVolatility(col(100, 110, 99, 99), 2), [
      NaN_,
      NaN_,
      Math.abs(r1 - r2) / 2,
      Math.abs(r2) / 2,
    ]);
  });
});

describe("RSI (Wilder, as ta)", () => {
  it("smooths up/down moves by 1/period from a zero move at row 0; first value at row period − 1", () => {
    // Moves 0 (row 0), +1, +2, -1, +2 with alpha 1/2:
    // up 0, 0.5, 1.25, 0.625, 1.3125; down 0, 0, 0, 0.5, 0.25.
    // Row 1: down 0 -> 100. Row 3: RS 1.25 -> 100 - 100/2.25. Row 4: RS 5.25 -> 84.
    expectColumn(rsi(col(1, 2, 4, 3, 5), { period: 2 }), [NaN_, 100, 100, 100 - 100 / 2.25, 84]);
  });

  it("defaults to period 14: first value at row 13", () => {
    const close = Float64Array.from({ length: 20 }, (_, t) => 100 + Math.sin(t));
    const values = rsi(close);
    expect(values[12]).toBeNaN();
    expect(values[13]).toBeGreaterThan(0);
  });

  it("stays NaN after a non-finite close", () => {
    const values = rsi(col(1, 2, Number.NaN, 3, 4, 5), { period: 2 });
    expect(values[1]).toBe(100);
    for (let t = 2; t < 6; t++) expect(values[t], `row ${t}`).toBeNaN();
  });
});

describe("MACD", () => {
  // fast 2 (alpha 2/3), slow 3 (alpha 1/2), signal 2: EMAs seeded with the first input.
  // fast EMA: 1, 5/3, 23/9, 95/27; slow EMA: 1, 3/2, 9/4, 25/8.
  // macd row 2 = 23/9 - 9/4 = 11/36, row 3 = 95/27 - 25/8 = 85/216.
  // signal (seeded with macd at row 2): row 3 = 11/36 / 3 + 85/216 * 2/3 = 59/162.
  const close = col(1, 2, 3, 4);

  it("macd = EMA(fast) - EMA(slow); signal = EMA(macd); histogram = macd - signal", () => {
    const lines = macd(close, { fast: 2, slow: 3, signal: 2 });
    expectColumn(lines.macd, [NaN_, NaN_, 11 / 36, 85 / 216]);
    expectColumn(lines.signal, [NaN_, NaN_, NaN_, 59 / 162]);
    expectColumn(lines.histogram, [NaN_, NaN_, NaN_, 85 / 216 - 59 / 162]);
  });

  it("relative divides every line by close[t]", () => {
    const lines = macd(close, { fast: 2, slow: 3, signal: 2, relative: true });
    expectColumn(lines.macd, [NaN_, NaN_, 11 / 36 / 3, 85 / 216 / 4]);
    expectColumn(lines.histogram, [NaN_, NaN_, NaN_, (85 / 216 - 59 / 162) / 4]);
  });

  it("rejects fast >= slow", () => {
    expect(() => macd(close, { fast: 3, slow: 3 })).toThrow("macd.fast=3 must be < macd.slow=3");
  });
});

describe("Bollinger %B", () => {
  it("is 0.5 + (close - SMA) / (2 · stdDev · std), std with ddof 0", () => {
    expectColumn(bollingerPctB(col(1, 2, 3, 6), { period: 3, stdDev: 2 }), [
      NaN_,
      NaN_,
      0.5 + 1 / (4 * Math.sqrt(2 / 3)),
      0.5 + 7 / 3 / (4 * (Math.sqrt(26) / 3)),
    ]);
  });

  it("is 0.5 when the band has zero width", () => {
    expectColumn(bollingerPctB(col(5, 5, 5, 6), { period: 3 }), [
      NaN_,
      NaN_,
      0.5,
      0.5 + 2 / 3 / ((4 * Math.sqrt(2)) / 3),
    ]);
  });

  it("agrees with trading-signals' BollingerBands", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 1e5, noNaN: true }), { minLength: 25, maxLength: 60 }),
        (prices) => {
          const ours = bollingerPctB(Float64Array.from(prices), { period: 20, stdDev: 2 });
          const bands = new BollingerBands(20, 2);
          for (const [t, price] of prices.entries()) {
            const band = bands.add(price);
            if (band === null) {
              expect(ours[t]).toBeNaN();
              continue;
            }
            const width = band.upper - band.lower;
            // Flat windows: the library's two-pass std is rounding residue rather than exactly 0.
            if (width <= 1e-9 * band.middle) continue;
            expect(Math.abs((ours[t] as number) - (price - band.lower) / width)).toBeLessThan(1e-10);
          }
        },
      ),
    );
  });
});

describe("ATR (Wilder)", () => {
  // True ranges: 2 (row 0: high - low), 3, 1, 4.5. Seed (2 + 3) / 2 = 2.5, then 1.75, 3.125.
  const high = col(10, 12, 11, 15);
  const low = col(8, 9, 10, 11);
  const close = col(9, 11, 10.5, 14);

  it("smooths the true range by 1/period after a simple-mean seed", () => {
    expectColumn(atr(high, low, close, { period: 2 }), [NaN_, 2.5, 1.75, 3.125]);
  });

  it("relative divides by close[t]", () => {
    expectColumn(atr(high, low, close, { period: 2, relative: true }), [
      NaN_,
      2.5 / 11,
      1.75 / 10.5,
      3.125 / 14,
    ]);
  });

  it("rejects columns of different lengths", () => {
    expect(() => atr(high, low, col(1, 2))).toThrow("differ in length");
  });
});

describe("volume z-score", () => {
  it("is (v - mean) / std over the trailing window, ddof 0", () => {
    expectColumn(volumeZScore(col(1, 2, 3, 6), 3), [NaN_, NaN_, 1 / Math.sqrt(2 / 3), 7 / Math.sqrt(26)]);
  });

  it("is 0 when the window's volume is constant", () => {
    expectColumn(volumeZScore(col(0, 0, 0, 0), 3), [NaN_, NaN_, 0, 0]);
  });
});

describe("calendar features", () => {
  it("encodes 06:00 UTC on a Monday as a quarter turn of the day and weekday 0", () => {
    const monday = col(Date.UTC(2021, 0, 4, 6));
    const day = timeOfDay(monday);
    const week = dayOfWeek(monday);
    expect(day.sin[0]).toBeCloseTo(1, 15);
    expect(day.cos[0]).toBeCloseTo(0, 15);
    expect(week.sin[0]).toBe(0);
    expect(week.cos[0]).toBe(1);
  });

  it("agrees with Date's UTC fields for any open time, before 1970 too", () => {
    fc.assert(
      fc.property(fc.integer({ min: -4e12, max: 4e12 }), (ms) => {
        const date = new Date(ms);
        const seconds =
          date.getUTCHours() * 3600 +
          date.getUTCMinutes() * 60 +
          date.getUTCSeconds() +
          date.getUTCMilliseconds() / 1000;
        const weekday = (date.getUTCDay() + 6) % 7;
        const day = timeOfDay(col(ms));
        const week = dayOfWeek(col(ms));
        expect(day.sin[0]).toBeCloseTo(Math.sin((2 * Math.PI * seconds) / 86400), 9);
        expect(day.cos[0]).toBeCloseTo(Math.cos((2 * Math.PI * seconds) / 86400), 9);
        expect(week.sin[0]).toBeCloseTo(Math.sin((2 * Math.PI * weekday) / 7), 12);
        expect(week.cos[0]).toBeCloseTo(Math.cos((2 * Math.PI * weekday) / 7), 12);
      }),
    );
  });
});

describe("parameter checks", () => {
  it.each([
    ["log_return.lag=0 must be an integer >= 1", () => logReturn(col(1, 2), 0)],
    ["realized_volatility.window=1 must be an integer >= 2", () => realizedVolatility(col(1, 2), 1)],
    ["rsi.period=1.5 must be an integer >= 2", () => rsi(col(1, 2), { period: 1.5 })],
    ["rsi.period=1 must be an integer >= 2", () => rsi(col(1, 2), { period: 1 })],
    ["bollinger_pct_b.std_dev=0 must be a finite number > 0", () => bollingerPctB(col(1, 2), { stdDev: 0 })],
    ["atr.period=0 must be an integer >= 1", () => atr(col(1), col(1), col(1), { period: 0 })],
    ["volume_zscore.window=-3 must be an integer >= 2", () => volumeZScore(col(1, 2), -3)],
  ])("throws DATASET: %s", (message, call) => {
    expect(call).toThrow(expect.objectContaining({ code: "DATASET", message }));
  });
});
