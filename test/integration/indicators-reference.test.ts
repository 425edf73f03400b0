/**
 * Reference test of src/features against Python's `ta` (RSI, MACD, Bollinger %B, ATR) and pandas/numpy
 * (returns, rolling std, z-score, calendar), on the bundled 5m candles (65,741 BTCUSDT rows, and ETH, ADA).
 * Needs the peers venv: `npm run test:peers` creates .venv-peers/.
 *
 * Tolerance: |ours − ta| ≤ 1e-6 · max(|ta|, floor), floor = the column's mean |value| over the compared rows.
 * A relative error is meaningless where a value crosses zero (a MACD histogram, a z-score, a return of 0):
 * the rounding error there comes from the operands (prices near 30,000, EMAs, window sums), whose scale is
 * the column's typical magnitude, not from the tiny result. So near zero the bound becomes 1e-6 of that
 * typical magnitude; at typical or larger values it is a plain 1e-6 relative bound.
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
 * Rows compared start here. EMA/Wilder recursions seeded differently (ta's RSI starts from the first gain,
 * trading-signals' from the mean of `period` gains) differ by (1 − 1/period)^t, below 1e-13 after 1000 rows
 * even for period 30; the start of every column is checked separately below.
 */
const SKIP_ROWS = 1000;

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

/** Where a column's first finite row legitimately differs from ta's: ta's RSI counts row 0 as a 0 gain. */
const START_OFFSET: Record<string, number> = { rsi_14: 1, rsi_30: 1 };

interface Reference {
  rows: number;
  columns: Record<string, (number | null)[]>;
}

interface ColumnReport {
  name: string;
  maxRelative: number;
  maxAbsolute: number;
  floor: number;
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
  let sumAbs = 0;
  for (let t = SKIP_ROWS; t < theirs.length; t++) sumAbs += Math.abs(theirs[t] ?? 0);
  const floor = sumAbs / (theirs.length - SKIP_ROWS);
  const report: ColumnReport = { name, maxRelative: 0, maxAbsolute: 0, floor, failures: [] };
  for (let t = SKIP_ROWS; t < theirs.length; t++) {
    const a = ours[t] as number;
    const b = theirs[t];
    if (b === null || b === undefined || !Number.isFinite(a)) {
      report.failures.push(`row ${t}: ours ${a}, ta ${b}`);
      continue;
    }
    const error = Math.abs(a - b);
    const relative = error / Math.max(Math.abs(b), floor);
    report.maxAbsolute = Math.max(report.maxAbsolute, error);
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
    `${label}: max error vs ta/pandas over rows ${SKIP_ROWS}..${frame.rows - 1}\n` +
      reports
        .map(
          (r) =>
            `  ${r.name.padEnd(26)} relative ${r.maxRelative.toExponential(2)}  absolute ${r.maxAbsolute.toExponential(2)}  (floor ${r.floor.toExponential(2)})`,
        )
        .join("\n"),
  );
  for (const report of reports) {
    const detail = report.failures.slice(0, 3).join("; ");
    expect(report.failures.length, `${label} ${report.name} diverges from the reference: ${detail}`).toBe(0);
  }
  frame.names.forEach((name, k) => {
    const expected = firstFinite(ref.columns[name] ?? []) + (START_OFFSET[name] ?? 0);
    expect(firstFinite(frame.columns[k] as Float64Array), `${label} ${name} first finite row`).toBe(expected);
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
