import { CryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import { buildColumns, type ColumnLayout, describeSpec } from "./specs.js";
import type { FeatureFrame, FeatureSpec } from "./types.js";

/**
 * Computes every feature of `specs` over `series`, column by column, in spec order.
 *
 * Causal: the value at row i depends only on candles 0..i. Throws CryptomlError (code DATASET) when a spec
 * is invalid, two specs produce the same column name, or the series is too short for any row to be complete.
 * Candles are expected finite (the data layer validates them): a NaN candle makes the features that read it
 * NaN for as long as it stays in their window, and for ever in the EMA-based ones.
 */
export function computeFeatures(series: CandleSeries, specs: readonly FeatureSpec[]): FeatureFrame {
  if (specs.length === 0) {
    throw new CryptomlError("DATASET", "no features specified", {
      hint: "list at least one feature under `features:`, e.g. - { type: log_return, lags: [1] }",
    });
  }
  const layouts = specs.flatMap(describeSpec);
  const names = layouts.map((layout) => layout.name);
  requireUniqueNames(names);
  const slowest = requireEnoughRows(series, layouts);

  const columns = specs.flatMap((spec) => buildColumns(spec, series));
  const warmup = firstCompleteRow(columns, slowest.warmup, series.length);
  if (warmup === undefined) {
    const bad = names[columns.findIndex((column) => !column.some(Number.isFinite))] ?? names[0];
    throw new CryptomlError(
      "DATASET",
      `${series.symbol} ${series.interval}: no row of ${series.length} candles has every feature finite (first never-finite column: ${bad})`,
      {
        hint: "the candles contain NaN or infinite values (or zero prices); repair or drop them in the data step",
      },
    );
  }
  const lookbacks = layouts.map((layout) => layout.lookback);
  return {
    names,
    columns,
    rows: series.length,
    warmup,
    lookbacks,
    lookback: Math.max(...lookbacks),
    specs: structuredClone([...specs]),
  };
}

function requireUniqueNames(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      throw new CryptomlError("DATASET", `feature column "${name}" is produced twice`, {
        hint: "remove the duplicate spec, lag or window",
      });
    }
    seen.add(name);
  }
}

/** Returns the column with the longest warm-up; throws when the series does not get past it. */
function requireEnoughRows(series: CandleSeries, layouts: readonly ColumnLayout[]): ColumnLayout {
  const slowest = layouts.reduce((a, b) => (b.warmup > a.warmup ? b : a));
  if (series.length > slowest.warmup) return slowest;
  throw new CryptomlError(
    "DATASET",
    `${series.symbol} ${series.interval}: ${series.length} candles are too few for the features; ` +
      `${slowest.name} needs at least ${slowest.warmup + 1}`,
    { hint: "load a longer history, or shorten the indicator periods/windows" },
  );
}

/** First row from `from` on where every column is finite; undefined when there is none. */
function firstCompleteRow(columns: readonly Float64Array[], from: number, rows: number): number | undefined {
  for (let row = from; row < rows; row++) {
    if (columns.every((column) => Number.isFinite(column[row]))) return row;
  }
  return undefined;
}
