import { describeIssue } from "../config/issues.js";
import { datasetSchema } from "../config/schema/dataset.js";
import { showPath } from "../config/show-value.js";
import { CryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import type { FeatureFrame } from "../features/types.js";
import type { DatasetConfig } from "./types.js";

/**
 * Checks a config against the same schema that validates config/training.yaml, so a programmatic caller
 * gets exactly the rules (and wording) of `cryptoml config check`; `buildDataset` is public, and a wrong
 * number here would silently leak or mislabel. Returns a private deep copy (defaults filled in), so later
 * changes to the caller's object cannot change a built dataset. Every message quotes key, value and rule:
 * `dataset.window: 0 must be an integer >= 1`.
 */
export function validateDatasetConfig(config: DatasetConfig): DatasetConfig {
  const result = datasetSchema.safeParse(config, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) =>
    describeIssue(issue, config, datasetSchema).map(
      (problem) => `${showPath(["dataset", ...problem.path])}: ${problem.text}`,
    ),
  );
  throw new CryptomlError("DATASET", problems.join("\n"), {
    hint: "fix the dataset: section of config/training.yaml (docs/configuration.md lists every rule)",
  });
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
  if (
    frame.names.length === 0 ||
    frame.columns.length !== frame.names.length ||
    frame.lookbacks.length !== frame.names.length
  ) {
    throw new CryptomlError(
      "DATASET",
      `feature frame has ${frame.names.length} names, ${frame.columns.length} columns and ${frame.lookbacks.length} lookbacks; need at least one of each, equally many`,
      { hint },
    );
  }
  const lookback = Math.max(...frame.lookbacks);
  if (!(frame.lookbacks.every((l) => Number.isInteger(l) && l >= 0) && frame.lookback === lookback)) {
    throw new CryptomlError(
      "DATASET",
      `feature frame lookbacks [${frame.lookbacks.join(", ")}] must be integers >= 0 with lookback (${frame.lookback}) their largest`,
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
