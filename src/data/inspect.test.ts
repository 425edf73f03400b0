import { describe, expect, it } from "vitest";
import { allocateSeries } from "./candles.js";
import { inspectSeries } from "./inspect.js";

function hourly(times: number[]) {
  const s = allocateSeries("TESTUSDT", "1h", times.length);
  times.forEach((hour, i) => {
    s.openTime[i] = Date.UTC(2021, 0, 1, hour);
    s.open[i] = 10;
    s.high[i] = 11;
    s.low[i] = 9;
    s.close[i] = 10.5;
    s.volume[i] = 1;
  });
  return s;
}

describe("inspectSeries", () => {
  it("reports every gap with its bounds and missing count, never filling it", () => {
    const report = inspectSeries(hourly([0, 1, 2, 5, 6, 10]));
    expect(report.rows).toBe(6);
    expect(report.expectedRows).toBe(11);
    expect(report.gaps).toEqual([
      {
        from: "2021-01-01T02:00:00.000Z",
        to: "2021-01-01T05:00:00.000Z",
        missing: 2,
        firstMissing: "2021-01-01T03:00:00.000Z",
        lastMissing: "2021-01-01T04:00:00.000Z",
      },
      {
        from: "2021-01-01T06:00:00.000Z",
        to: "2021-01-01T10:00:00.000Z",
        missing: 3,
        firstMissing: "2021-01-01T07:00:00.000Z",
        lastMissing: "2021-01-01T09:00:00.000Z",
      },
    ]);
  });

  it("counts zero volume, OHLC violations and non-positive prices", () => {
    const s = hourly([0, 1, 2, 3]);
    s.volume[1] = 0;
    s.high[2] = 8; // below low and open
    s.close[3] = 12; // above high
    s.low[0] = 0;
    const report = inspectSeries(s);
    expect(report.zeroVolume).toBe(1);
    expect(report.ohlcViolations).toBe(2);
    expect(report.ohlcViolationSamples).toEqual([
      { time: "2021-01-01T02:00:00.000Z", problem: "low 9 > high 8" },
      { time: "2021-01-01T03:00:00.000Z", problem: "close 12 outside [low 9, high 11]" },
    ]);
    expect(report.nonPositivePrices).toBe(1);
  });

  it("handles an empty series and monthly candles", () => {
    expect(inspectSeries(allocateSeries("X", "5m", 0))).toMatchObject({ rows: 0, first: null, gaps: [] });
    const monthly = allocateSeries("X", "1mo", 2);
    monthly.openTime[0] = Date.UTC(2021, 0, 1);
    monthly.openTime[1] = Date.UTC(2021, 3, 1);
    expect(inspectSeries(monthly).gaps[0]).toMatchObject({
      missing: 2,
      firstMissing: "2021-02-01T00:00:00.000Z",
    });
  });
});
