import { CryptomlError } from "../core/errors.js";

/**
 * Parameter checks shared by the indicator functions. Errors quote the parameter, the value and the rule
 * (`rsi.period=0 must be an integer >= 1`) with code DATASET, because a bad feature spec makes the dataset
 * impossible to build.
 */

const HINT = "fix the feature spec under `features:` in the training config (see docs/features.md)";

/** Throws unless `value` is an integer >= `min`. `name` is `indicator.param`, e.g. `rsi.period`. */
export function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new CryptomlError("DATASET", `${name}=${String(value)} must be an integer >= ${min}`, {
      hint: HINT,
    });
  }
}

/** Throws unless `value` is a finite number > 0. */
export function requirePositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new CryptomlError("DATASET", `${name}=${String(value)} must be a finite number > 0`, {
      hint: HINT,
    });
  }
}

/** Throws unless every input column has the same length (they are rows of one candle series). */
export function requireSameLength(name: string, ...columns: readonly Float64Array[]): number {
  const length = columns[0]?.length ?? 0;
  for (const column of columns) {
    if (column.length !== length) {
      throw new CryptomlError(
        "DATASET",
        `${name}: input columns differ in length (${columns.map((c) => c.length).join(", ")})`,
        { hint: "pass columns of one CandleSeries" },
      );
    }
  }
  return length;
}

/** A column of `length` NaNs, the value of every row still warming up. */
export function nanColumn(length: number): Float64Array {
  return new Float64Array(length).fill(Number.NaN);
}
