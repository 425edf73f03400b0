import { describe, expect, it } from "vitest";
import { UsageError } from "../core/errors.js";
import { formatDuration, MAX_DURATION_MS, parseDuration } from "./duration.js";

describe("parseDuration", () => {
  it.each([
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["8h", 28_800_000],
    ["2d", 172_800_000],
    ["1h30m", 5_400_000],
    ["1d2h3m4s", 93_784_000],
    [" 45m ", 2_700_000],
    ["01:02:03:04", 93_784_000],
    ["08:00:00", 28_800_000],
    ["1:30", 90_000],
    ["00:00:01", 1_000],
    ["36:00:00", 129_600_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    "",
    "8x",
    "8",
    "h",
    "-5m",
    "0s",
    "00:00",
    "0h0m",
    "1.5h",
    "30m1h",
    "8H",
    "1:60",
    "1:25:00:00",
    "1:2:3:4:5",
    "1::2",
    "366d",
    "99999999999999999999s",
  ])("%j is rejected with a UsageError quoting it", (text) => {
    let caught: unknown;
    try {
      parseDuration(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const error = caught as UsageError;
    expect(error.code).toBe("USAGE");
    expect(error.message).toContain(JSON.stringify(text));
    expect(error.hint).toContain("DD:HH:MM:SS");
  });

  it("accepts the maximum and nothing above it", () => {
    expect(parseDuration("365d")).toBe(MAX_DURATION_MS);
    expect(() => parseDuration("365d1s")).toThrow(/maximum/);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [12_500, "12.5s"],
    [59_000, "59s"],
    [59_990, "1m"],
    [90_000, "1m 30s"],
    [5_400_000, "1h 30m"],
    [172_800_000 + 300_000, "2d 5m"],
    [-90_000, "-1m 30s"],
    [Number.POSITIVE_INFINITY, "Infinity"],
  ])("%d ms is %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it("round-trips through parseDuration for whole seconds", () => {
    for (const ms of [1_000, 61_000, 3_723_000, 93_784_000]) {
      expect(parseDuration(formatDuration(ms).replaceAll(" ", ""))).toBe(ms);
    }
  });
});
