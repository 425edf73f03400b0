import { CryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import type { FeatureFrame } from "../features/types.js";
import type { DatasetConfig } from "./types.js";

const TARGET_KINDS = ["both", "regression", "classification"];
const SCALER_KINDS = ["standard", "minmax", "robust", "none"];
const MODES = ["expanding", "rolling"];
// Fractions such as 0.7 + 0.2 + 0.1 add up to 1.0000000000000002 in floating point.
const SUM_TOLERANCE = 1e-9;

/**
 * Re-checks the rules of the `dataset:` section. The config module validates files already, but
 * `buildDataset` is public and a wrong number here would silently leak or mislabel, so it is cheap
 * insurance. Every message quotes the key, the value and the rule.
 */
export function validateDatasetConfig(config: DatasetConfig): void {
  const problems: string[] = [];
  const integer = (key: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min)
      problems.push(`dataset.${key}=${value} must be an integer >= ${min}`);
  };
  integer("window", config.window, 1);
  integer("horizon", config.horizon, 1);
  integer("embargo", config.embargo, 0);
  integer("walk_forward.folds", config.walk_forward.folds, 0);
  for (const key of ["train_size", "test_size"] as const) {
    const value = config.walk_forward[key];
    if (value !== null) integer(`walk_forward.${key}`, value, 1);
  }
  const deadZone = config.target.dead_zone;
  if (!Number.isFinite(deadZone) || deadZone < 0) {
    problems.push(`dataset.target.dead_zone=${deadZone} must be a finite number >= 0`);
  }
  oneOf(problems, "target.kind", config.target.kind, TARGET_KINDS);
  oneOf(problems, "scaler", config.scaler, SCALER_KINDS);
  oneOf(problems, "walk_forward.mode", config.walk_forward.mode, MODES);
  const { train, validation, test } = config.split;
  for (const [key, value] of Object.entries(config.split)) {
    if (!(value >= 0 && value <= 1)) problems.push(`dataset.split.${key}=${value} must be between 0 and 1`);
  }
  if (train + validation + test > 1 + SUM_TOLERANCE) {
    problems.push(`dataset.split fractions sum to ${train + validation + test} but must be <= 1`);
  }
  if (problems.length > 0) {
    throw new CryptomlError("DATASET", problems.join("\n"), {
      hint: "fix the dataset: section of config/training.yaml",
    });
  }
}

function oneOf(problems: string[], key: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value))
    problems.push(`dataset.${key}="${value}" must be one of ${allowed.join(", ")}`);
}

/** Checks that the frame belongs to the series and that times only move forward. */
export function validateInputs(series: CandleSeries, frame: FeatureFrame, config: DatasetConfig): void {
  const hint = "compute the feature frame from this same series (features.computeFeatures)";
  if (frame.rows !== series.length) {
    throw new CryptomlError(
      "DATASET",
      `feature frame has ${frame.rows} rows but the series has ${series.length}`,
      {
        hint,
      },
    );
  }
  if (frame.names.length === 0 || frame.columns.length !== frame.names.length) {
    throw new CryptomlError(
      "DATASET",
      `feature frame has ${frame.names.length} names and ${frame.columns.length} columns; need at least one of each, equally many`,
      { hint },
    );
  }
  frame.columns.forEach((column, f) => {
    if (column.length !== frame.rows) {
      throw new CryptomlError(
        "DATASET",
        `feature "${frame.names[f]}" has ${column.length} values, not ${frame.rows}`,
        {
          hint,
        },
      );
    }
  });
  for (let i = 1; i < series.length; i++) {
    if (!((series.openTime[i] as number) > (series.openTime[i - 1] as number))) {
      throw new CryptomlError(
        "DATASET",
        `${series.symbol} ${series.interval}: open times do not increase at row ${i}`,
        {
          hint: "sort and deduplicate the candles first (cryptoml data inspect reports such rows)",
        },
      );
    }
  }
  const needed = config.window + config.horizon;
  if (series.length < needed) {
    throw new CryptomlError(
      "DATASET",
      `${series.symbol} ${series.interval} has ${series.length} candles but one sample needs window + horizon = ${config.window} + ${config.horizon} = ${needed}`,
      { hint: "load a longer date range or lower dataset.window / dataset.horizon" },
    );
  }
}
