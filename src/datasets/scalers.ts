import { CryptomlError } from "../core/errors.js";
import type { FeatureFrame } from "../features/types.js";
import { type SampleRange, type SampleTable, SCALER_KINDS, type ScalerKind } from "./types.js";

const isScalerKind = (kind: unknown): kind is ScalerKind =>
  (SCALER_KINDS as readonly unknown[]).includes(kind);

/** The JSON form of a fitted scaler, saved in the dataset description: one entry per feature, in frame order. */
export type ScalerJson =
  | { kind: "standard"; features: { name: string; mean: number; std: number }[] }
  | { kind: "minmax"; features: { name: string; min: number; max: number }[] }
  | { kind: "robust"; features: { name: string; median: number; iqr: number }[] }
  | { kind: "none"; features: { name: string }[] };

/**
 * A fitted per-feature affine map: scaled = (x − center[f]) / scale[f]. standard: mean / population
 * std; minmax: min / (max − min), giving [0, 1] on training rows; robust: median / IQR (quartiles
 * interpolated linearly, as numpy does); none: 0 / 1. A feature constant on the training rows gets
 * scale 1, so it is centred rather than divided by zero.
 */
export interface Scaler {
  readonly kind: ScalerKind;
  readonly features: readonly string[];
  readonly center: Float64Array;
  readonly scale: Float64Array;
  /** The stats the scaler was made from, in its JSON form. */
  toJSON(): ScalerJson;
}

/**
 * The rows (ascending, unique) covered by the windows of `range`'s samples: the only rows a scaler
 * may learn from, so no validation or test value shapes training inputs.
 */
export function windowRows(samples: SampleTable, range: SampleRange): Int32Array {
  const rows: number[] = [];
  let next = 0; // first row not yet taken; windows are sorted, so overlaps only reach backwards
  for (let i = range.start; i < range.end; i++) {
    const end = samples.endRow[i] as number;
    for (let row = Math.max(next, end - samples.window + 1); row <= end; row++) rows.push(row);
    next = Math.max(next, end + 1);
  }
  return Int32Array.from(rows);
}

/** Fits `kind` on the given rows of every feature column; throws when there is nothing to fit on. */
export function fitScaler(kind: ScalerKind, frame: FeatureFrame, rows: Int32Array): Scaler {
  if (kind !== "none" && rows.length === 0) {
    throw new CryptomlError("DATASET", `cannot fit the ${kind} scaler: the training part has no samples`, {
      hint: "raise dataset.split.train, lower dataset.embargo, or load more candles",
    });
  }
  const values = new Float64Array(rows.length);
  const columnValues = (f: number): Float64Array => {
    const column = frame.columns[f] as Float64Array;
    for (let i = 0; i < rows.length; i++) values[i] = column[rows[i] as number] as number;
    return values;
  };
  const names = [...frame.names];
  switch (kind) {
    case "none":
      return scalerFromJson({ kind, features: names.map((name) => ({ name })) });
    case "standard":
      return scalerFromJson({
        kind,
        features: names.map((name, f) => ({ name, ...meanStd(columnValues(f)) })),
      });
    case "minmax":
      return scalerFromJson({
        kind,
        features: names.map((name, f) => ({ name, ...minMax(columnValues(f)) })),
      });
    case "robust":
      return scalerFromJson({
        kind,
        features: names.map((name, f) => ({ name, ...medianIqr(columnValues(f)) })),
      });
  }
}

/** Rebuilds a scaler from its JSON form, checking it so a hand-edited file fails loudly. */
export function scalerFromJson(json: ScalerJson): Scaler {
  const bad = (why: string) =>
    new CryptomlError("DATASET", `invalid scaler JSON: ${why}`, {
      hint: "rebuild the dataset to write a fresh description instead of editing it",
    });
  if (!json || !Array.isArray(json.features)) throw bad("expected { kind, features: [...] }");
  if (!isScalerKind(json.kind))
    throw bad(`unknown kind "${json.kind}", expected one of ${SCALER_KINDS.join(", ")}`);
  const n = json.features.length;
  const center = new Float64Array(n);
  const scale = new Float64Array(n).fill(1);
  json.features.forEach((entry, f) => {
    const [c, s] = centerScale(json.kind, entry as Record<string, unknown>);
    if (typeof entry.name !== "string") throw bad(`feature ${f} has no name`);
    if (!Number.isFinite(c) || !Number.isFinite(s)) throw bad(`feature "${entry.name}" has non-finite stats`);
    center[f] = c;
    scale[f] = s === 0 ? 1 : s;
  });
  const frozen = structuredClone(json);
  return {
    kind: json.kind,
    features: json.features.map((entry) => entry.name),
    center,
    scale,
    toJSON: () => structuredClone(frozen),
  };
}

function centerScale(kind: string, entry: Record<string, unknown>): [number, number] {
  const num = (key: string) => (typeof entry[key] === "number" ? (entry[key] as number) : Number.NaN);
  switch (kind) {
    case "none":
      return [0, 1];
    case "standard":
      return [num("mean"), num("std")];
    case "minmax":
      return [num("min"), num("max") - num("min")];
    case "robust":
      return [num("median"), num("iqr")];
    default:
      return [Number.NaN, Number.NaN];
  }
}

/**
 * Scales every row of the frame into one row-major Float32Array (rows × F). A window of sample t is
 * then the contiguous slice [(t−T+1)·F, (t+1)·F), so batches are plain copies.
 */
export function scaleFrame(frame: FeatureFrame, scaler: Scaler): Float32Array {
  const width = frame.columns.length;
  if (scaler.features.length !== width || scaler.features.some((name, f) => name !== frame.names[f])) {
    throw new CryptomlError(
      "DATASET",
      `scaler features [${scaler.features.join(", ")}] do not match the frame's [${frame.names.join(", ")}]`,
      { hint: "fit the scaler on this feature set, or compute the features the scaler was saved with" },
    );
  }
  const out = new Float32Array(frame.rows * width);
  for (let f = 0; f < width; f++) {
    const column = frame.columns[f] as Float64Array;
    const c = scaler.center[f] as number;
    const s = scaler.scale[f] as number;
    for (let row = 0; row < frame.rows; row++) out[row * width + f] = ((column[row] as number) - c) / s;
  }
  return out;
}

function meanStd(values: Float64Array): { mean: number; std: number } {
  // Indexed loops: iterating a typed array with for-of is several times slower in V8.
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  const mean = sum / values.length;
  // Two passes: the one-pass formula loses precision on prices in the tens of thousands.
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const d = (values[i] as number) - mean;
    squares += d * d;
  }
  return { mean, std: Math.sqrt(squares / values.length) };
}

function minMax(values: Float64Array): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

function medianIqr(values: Float64Array): { median: number; iqr: number } {
  const sorted = Float64Array.from(values).sort();
  return { median: quantile(sorted, 0.5), iqr: quantile(sorted, 0.75) - quantile(sorted, 0.25) };
}

/** Linear interpolation between closest ranks (numpy's default `linear` method). */
export function quantile(sorted: Float64Array, q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const low = sorted[below] as number;
  return low + ((sorted[above] as number) - low) * (position - below);
}
