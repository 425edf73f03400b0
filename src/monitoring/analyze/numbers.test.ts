import { describe, expect, it } from "vitest";
import { ceilSignificant, formatPct, formatRate, formatSeconds, median, niceCeil } from "./numbers.js";

describe("number formats", () => {
  it("writes rates, seconds and percentages at a readable precision", () => {
    expect([formatRate(812.4), formatRate(12_345), formatRate(1_250_000)]).toEqual(["812", "12.3k", "1.25M"]);
    expect([formatSeconds(0.0421), formatSeconds(3.254), formatSeconds(125.4)]).toEqual([
      "0.042s",
      "3.25s",
      "125s",
    ]);
    expect(formatPct(12.345)).toBe("12.3%");
  });

  it("rounds suggested settings up to numbers people type", () => {
    expect([niceCeil(4), niceCeil(25), niceCeil(120), niceCeil(121)]).toEqual([5, 30, 120, 180]);
    expect([ceilSignificant(500), ceilSignificant(523), ceilSignificant(7.01), ceilSignificant(0)]).toEqual([
      500, 530, 7.1, 0,
    ]);
  });

  it("takes the median of odd and even counts", () => {
    expect([median([3, 1, 2]), median([4, 1, 3, 2]), median([])]).toEqual([2, 2.5, Number.NaN]);
  });
});
