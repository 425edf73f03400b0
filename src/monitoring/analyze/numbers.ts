/** Number formats shared by the analysis's messages and its table. */

/** Samples per second for people: `812`, `12.3k`, `1.25M`. */
export function formatRate(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (Math.abs(value) >= 1e4) return `${(value / 1e3).toPrecision(3)}k`;
  return Math.round(value).toString();
}

/** Seconds with a precision that suits their size: `0.042s`, `3.25s`, `125s`. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds >= 100) return `${Math.round(seconds)}s`;
  if (seconds >= 1) return `${seconds.toFixed(2)}s`;
  return `${Number(seconds.toPrecision(2))}s`;
}

/** A percentage with one decimal: `12.5%`. */
export function formatPct(pct: number): string {
  return `${pct.toFixed(1)}%`;
}

const NICE_STEPS = [1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120];

/**
 * The smallest "round" number at or above `value`, for suggested settings people would type:
 * 1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, then multiples of 60.
 */
export function niceCeil(value: number): number {
  for (const step of NICE_STEPS) if (step >= value) return step;
  return Math.ceil(value / 60) * 60;
}

/** The median of `values` (NaN when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** `value` rounded up to two significant digits (`523` → `530`), for suggested counts. */
export function ceilSignificant(value: number): number {
  if (!(value > 0)) return 0;
  const scale = 10 ** (Math.floor(Math.log10(value)) - 1);
  // toPrecision drops the float noise of the scaling (7.1000000000000005).
  return Number((Math.ceil(Math.round((value / scale) * 1e9) / 1e9) * scale).toPrecision(2));
}
