/** Small helpers the benchmarks share: order statistics, numeric flags, thousands separators. */

/** The median of `values` (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The nearest-rank `q` quantile (0..1) of `values`; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** The positive number after `name` in `args`, else `fallback`; `integer` demands a whole number. */
export function numberArg(args: readonly string[], name: string, fallback: number, integer = false): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!(integer ? Number.isInteger(value) : Number.isFinite(value)) || value <= 0) {
    throw new Error(`${name} needs a positive ${integer ? "integer" : "number"}`);
  }
  return value;
}

/** `n` rounded, with thousands separators: 12,345. */
export const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
