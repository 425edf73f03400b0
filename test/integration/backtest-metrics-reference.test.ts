/**
 * Reference test of src/backtest/metrics.ts against quantstats (test/peers/backtest_reference.py), on
 * seeded random return series, a strategy-like series (positions, costs on changes) and buy-and-hold of
 * the bundled 5m candles. Every metric quantstats defines — total return, CAGR, volatility, Sharpe,
 * Sortino (with and without a risk-free rate), max drawdown, Calmar — must agree to 1e-9 relative.
 * Needs the peers venv: `npm run test:peers` creates .venv-peers/.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buyAndHold,
  computeMetrics,
  periodsPerYear,
  type TradingMetrics,
} from "../../src/backtest/metrics.js";
import { loadBundled } from "../helpers/load-bundled.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = join(ROOT, ".venv-peers", "bin", "python");
const SCRIPT = join(ROOT, "test", "peers", "backtest_reference.py");
const TOLERANCE = 1e-9;
const MINUTE = 60_000;

type ReferenceKey = "total_return" | "cagr" | "volatility" | "sharpe" | "sortino" | "max_drawdown" | "calmar";
type Reference = Record<ReferenceKey, number | string>;

/** Which of our fields each quantstats value is compared with. */
const FIELDS: [ReferenceKey, keyof TradingMetrics][] = [
  ["total_return", "totalReturn"],
  ["cagr", "annualisedReturn"],
  ["volatility", "volatility"],
  ["sharpe", "sharpe"],
  ["sortino", "sortino"],
  ["max_drawdown", "maxDrawdown"],
  ["calmar", "calmar"],
];

interface Case {
  label: string;
  returns: Float64Array;
  positions: Float64Array;
  intervalMs: number;
  riskFreeRate: number;
}

/** mulberry32: a tiny seeded generator, so every run feeds the reference the same series. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normals(seed: number, n: number, drift: number, scale: number): Float64Array {
  const next = rng(seed);
  return Float64Array.from({ length: n }, () => {
    const u = Math.max(next(), 1e-12);
    return drift + scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  });
}

function closeToClose(pair: string): Float64Array {
  const { close } = loadBundled(pair);
  return Float64Array.from(
    { length: close.length - 1 },
    (_, i) => (close[i + 1] as number) / (close[i] as number) - 1,
  );
}

/** A strategy-like series: random −1/0/+1 positions on an asset, 10 bps charged per unit of |Δposition|. */
function strategy(seed: number, asset: Float64Array): { returns: Float64Array; positions: Float64Array } {
  const next = rng(seed);
  const positions = new Float64Array(asset.length);
  const returns = new Float64Array(asset.length);
  let previous = 0;
  asset.forEach((r, i) => {
    const position = next() < 0.05 ? Math.floor(next() * 3) - 1 : previous;
    positions[i] = position;
    returns[i] = position * r - 0.001 * Math.abs(position - previous);
    previous = position;
  });
  return { returns, positions };
}

function ones(n: number): Float64Array {
  return new Float64Array(n).fill(1);
}

function cases(): Case[] {
  const random = normals(7, 5000, 0.0001, 0.004);
  const btc = closeToClose("BTC_USDT");
  const eth = closeToClose("ETH_USDT");
  const traded = strategy(11, btc);
  return [
    {
      label: "random 5m",
      returns: random,
      positions: ones(random.length),
      intervalMs: 5 * MINUTE,
      riskFreeRate: 0,
    },
    {
      label: "random 1h, rf 5%",
      returns: normals(8, 3000, -0.0002, 0.01),
      positions: ones(3000),
      intervalMs: 60 * MINUTE,
      riskFreeRate: 0.05,
    },
    {
      label: "short 1d",
      returns: Float64Array.of(0.01, -0.03, 0.025),
      positions: ones(3),
      intervalMs: 1440 * MINUTE,
      riskFreeRate: 0,
    },
    { label: "BTC strategy 5m", ...traded, intervalMs: 5 * MINUTE, riskFreeRate: 0 },
    { label: "BTC strategy 5m, rf 3%", ...traded, intervalMs: 5 * MINUTE, riskFreeRate: 0.03 },
    {
      label: "BTC buy-and-hold 5m",
      returns: btc,
      positions: ones(btc.length),
      intervalMs: 5 * MINUTE,
      riskFreeRate: 0,
    },
    {
      label: "ETH buy-and-hold 5m",
      returns: eth,
      positions: ones(eth.length),
      intervalMs: 5 * MINUTE,
      riskFreeRate: 0,
    },
  ];
}

function runReference(all: Case[]): Promise<Reference[]> {
  const payload = all.map((c) => ({
    returns: Array.from(c.returns),
    periods: periodsPerYear(c.intervalMs),
    rf: c.riskFreeRate,
  }));
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [SCRIPT], { maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`backtest_reference.py failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as Reference[]);
    });
    child.stdin?.end(JSON.stringify(payload));
  });
}

function decode(value: number | string): number {
  return typeof value === "number" ? value : Number(value);
}

describe("backtest metrics match quantstats", () => {
  const all = cases();
  let references: Reference[] = [];

  beforeAll(async () => {
    if (!existsSync(PYTHON)) {
      throw new Error(
        `the Python peers venv is missing (${PYTHON}); run \`npm run test:peers\` once to create it, then rerun`,
      );
    }
    references = await runReference(all);
  }, 120_000);

  it.each(all.map((c, i) => [c.label, i] as const))("%s", (_label, i) => {
    const c = all[i] as Case;
    const ref = references[i] as Reference;
    const ours = computeMetrics({ ...c, startingBalance: 10_000 });
    const failures: string[] = [];
    for (const [key, field] of FIELDS) {
      const expected = decode(ref[key]);
      const actual = ours[field] as number;
      const ok = Number.isNaN(expected)
        ? Number.isNaN(actual)
        : Math.abs(actual - expected) <= TOLERANCE * Math.abs(expected);
      if (!ok) failures.push(`${field}: ours ${actual}, quantstats ${expected}`);
    }
    expect(failures).toEqual([]);
  });

  it("buyAndHold equals computeMetrics with a full long position on the bundled BTC candles", () => {
    const c = all.find((x) => x.label === "BTC buy-and-hold 5m") as Case;
    const viaHelper = buyAndHold({ returns: c.returns, intervalMs: c.intervalMs, startingBalance: 10_000 });
    expect(viaHelper).toEqual(computeMetrics({ ...c, startingBalance: 10_000 }));
    expect(viaHelper.trades).toBe(1);
    expect(viaHelper.exposure).toBe(1);
  });
});
