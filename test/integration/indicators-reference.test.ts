/**
 * Reference test of src/features against Python's `ta` (RSI, MACD, Bollinger %B, ATR) and pandas/numpy
 * (returns, rolling std, z-score, calendar), on the bundled 5m candles (65,741 BTCUSDT rows, and ETH, ADA).
 * Needs the peers venv: `npm run test:peers` creates .venv-peers/.
 *
 * Every row is compared from the column's first finite value on (which must be ta's first finite row too),
 * so `frame.warmup` and everything after it is covered, with a plain relative tolerance:
 * |ours − ref| ≤ 1e-6 · |ref|. The only exceptions are the values {@link NEAR_ZERO} lists, which are zero
 * (or pass through zero) by construction and get an absolute bound inside a narrow band around 0.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CandleSeries } from "../../src/data/candles.js";
import { computeFeatures, type FeatureFrame, type FeatureSpec } from "../../src/features/index.js";
import { bundledPath, loadBundled } from "../helpers/load-bundled.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = join(ROOT, ".venv-peers", "bin", "python");
const SCRIPT = join(ROOT, "test", "peers", "ta_reference.py");
const TOLERANCE = 1e-6;

/**
 * Where a relative error means nothing, because the exact value is 0 or the result is a small difference
 * of two large operands: within `below` of 0, |ours − ref| ≤ `absolute` instead. Every other value of every
 * column is held to the plain relative tolerance.
 */
const NEAR_ZERO: { pattern: RegExp; below: number; absolute: number }[] = [
  // sin/cos of the time of day are exactly 0 at quarter turns (00:00, 06:00, 12:00, 18:00). The angle
  // 2π·s/86400 is rounded, so both sides return rounding residue of either sign (measured ≤ 4.5e-16);
  // the smallest true nonzero value on a one-second grid is sin(2π/86400) ≈ 7e-5, far above `below`.
  { pattern: /^time_of_day_(sin|cos)$/, below: 1e-12, absolute: 1e-15 },
  // %B = (close − lower) / (upper − lower) crosses 0 whenever the close crosses the lower band, where it is
  // the small difference of two price-scale numbers. The reference's band moves with pandas' rolling std,
  // which drifts by up to 3e-9 relative (docs/features.md), shifting %B by ~1.5e-9 in absolute terms however
  // small %B is (measured ≤ 2e-9). 1e-8 absolute below |%B| = 0.01 meets 1e-6 relative exactly at 0.01.
  { pattern: /^bollinger_pct_b_/, below: 1e-2, absolute: 1e-8 },
];

const DEFAULT_SPECS: FeatureSpec[] = [
  { type: "log_return", lags: [1, 3, 12, 48] },
  { type: "realized_volatility", windows: [12, 48] },
  { type: "rsi", period: 14 },
  { type: "macd", fast: 12, slow: 26, signal: 9, relative: false },
  { type: "bollinger_pct_b", period: 20, std_dev: 2 },
  { type: "atr", period: 14, relative: false },
  { type: "volume_zscore", window: 48 },
  { type: "time_of_day" },
  { type: "day_of_week" },
];

/** Other parameters and the relative variants, so a parameter wired to the wrong place is caught. */
const VARIANT_SPECS: FeatureSpec[] = [
  { type: "log_return", lags: [2, 288] },
  { type: "realized_volatility", windows: [2, 288] },
  { type: "rsi", period: 30 },
  { type: "macd", fast: 5, slow: 35, signal: 5, relative: true },
  { type: "bollinger_pct_b", period: 50, std_dev: 1.5 },
  { type: "atr", period: 7, relative: true },
  { type: "volume_zscore", window: 12 },
];

interface Reference {
  rows: number;
  columns: Record<string, (number | null)[]>;
}

interface ColumnReport {
  name: string;
  from: number;
  maxRelative: number;
  /** Largest absolute error among the values compared with the absolute bound, and how many there were. */
  maxNearZero: number;
  nearZero: number;
  failures: string[];
}

const run = promisify(execFile);
let workDir = "";

async function reference(pair: string, specs: FeatureSpec[]): Promise<Reference> {
  const out = join(workDir, `${pair}-${Math.random().toString(36).slice(2)}.json`);
  await run(PYTHON, [SCRIPT, bundledPath(pair), out, JSON.stringify(specs)], { maxBuffer: 16 << 20 });
  return JSON.parse(readFileSync(out, "utf8")) as Reference;
}

function compareColumn(name: string, ours: Float64Array, theirs: (number | null)[]): ColumnReport {
  const from = firstFinite(ours);
  const band = NEAR_ZERO.find((entry) => entry.pattern.test(name));
  const report: ColumnReport = { name, from, maxRelative: 0, maxNearZero: 0, nearZero: 0, failures: [] };
  if (from < 0) report.failures.push("never finite");
  for (let t = Math.max(from, 0); t < theirs.length; t++) {
    const a = ours[t] as number;
    const b = theirs[t];
    if (b === null || b === undefined || !Number.isFinite(a)) {
      report.failures.push(`row ${t}: ours ${a}, ta ${b}`);
      continue;
    }
    const error = Math.abs(a - b);
    if (band !== undefined && Math.abs(b) < band.below) {
      report.nearZero++;
      report.maxNearZero = Math.max(report.maxNearZero, error);
      if (error > band.absolute)
        report.failures.push(`row ${t}: ours ${a}, ta ${b}, absolute error ${error} near 0`);
      continue;
    }
    const relative = error === 0 ? 0 : error / Math.abs(b);
    report.maxRelative = Math.max(report.maxRelative, relative);
    if (relative > TOLERANCE)
      report.failures.push(`row ${t}: ours ${a}, ta ${b}, relative error ${relative}`);
  }
  return report;
}

function firstFinite(values: ArrayLike<number | null>): number {
  for (let t = 0; t < values.length; t++) if (Number.isFinite(values[t])) return t;
  return -1;
}

function checkAgainst(label: string, frame: FeatureFrame, ref: Reference): void {
  expect(ref.rows).toBe(frame.rows);
  expect(Object.keys(ref.columns).sort()).toEqual([...frame.names].sort());
  const reports = frame.names.map((name, k) =>
    compareColumn(name, frame.columns[k] as Float64Array, ref.columns[name] ?? []),
  );
  console.log(
    `${label}: max error vs ta/pandas from each column's first value (frame.warmup = ${frame.warmup})\n` +
      reports
        .map(
          (r) =>
            `  ${r.name.padEnd(26)} from row ${String(r.from).padStart(3)}  relative ${r.maxRelative.toExponential(2)}` +
            (r.nearZero > 0
              ? `  near 0: ${r.nearZero} values, absolute ${r.maxNearZero.toExponential(2)}`
              : ""),
        )
        .join("\n"),
  );
  frame.names.forEach((name, k) => {
    const report = reports[k] as ColumnReport;
    // Starting where ta starts, and by frame.warmup at the latest, so no compared row is skipped.
    expect(report.from, `${label} ${name} first finite row`).toBe(firstFinite(ref.columns[name] ?? []));
    expect(report.from, `${label} ${name} first finite row`).toBeLessThanOrEqual(frame.warmup);
    const detail = report.failures.slice(0, 3).join("; ");
    expect(report.failures.length, `${label} ${name} diverges from the reference: ${detail}`).toBe(0);
  });
}

/** BTC with both spec sets; ETH and ADA (prices near 0.1–2, thin volume) add different magnitudes cheaply. */
const CASES: { label: string; pair: string; specs: FeatureSpec[] }[] = [
  { label: "BTCUSDT 5m, default specs", pair: "BTC_USDT", specs: DEFAULT_SPECS },
  { label: "BTCUSDT 5m, other parameters and relative MACD/ATR", pair: "BTC_USDT", specs: VARIANT_SPECS },
  { label: "ETHUSDT 5m, other parameters and relative MACD/ATR", pair: "ETH_USDT", specs: VARIANT_SPECS },
  { label: "ADAUSDT 5m, default specs", pair: "ADA_USDT", specs: DEFAULT_SPECS },
];

describe("features match ta / pandas on the bundled candles", () => {
  const references = new Map<string, Reference>();

  beforeAll(async () => {
    if (!existsSync(PYTHON)) {
      throw new Error(
        `the Python peers venv is missing (${PYTHON}); run \`npm run test:peers\` once to create it, then rerun`,
      );
    }
    workDir = mkdtempSync(join(tmpdir(), "cryptoml-ta-"));
    // The Python runs go in parallel (about 2 s each); a spec set is computed once per pair.
    const results = await Promise.all(CASES.map((c) => reference(c.pair, c.specs)));
    for (const [i, c] of CASES.entries()) references.set(c.label, results[i] as Reference);
  }, 120_000);

  afterAll(() => {
    if (workDir !== "") rmSync(workDir, { recursive: true, force: true });
  });

  it.each(CASES)("$label", ({ label, pair, specs }) => {
    const series: CandleSeries = loadBundled(pair);
    checkAgainst(label, computeFeatures(series, specs), references.get(label) as Reference);
  });
});
