import * as z from "zod";
import { addRule, int, nullableInt, num, oneOf } from "./rules.js";

/** Exclusive (0, 1): an empty or whole-series split is a mistake, not a choice. */
const fraction = () => num({ gt: 0, lt: 1 });

/** Tolerance for float sums such as 0.7 + 0.15 + 0.15. */
const SUM_TOLERANCE = 1e-9;

const splitSchema = z
  .strictObject({
    train: fraction().default(0.7),
    validation: fraction().default(0.15),
    test: fraction().default(0.15),
  })
  .superRefine((split, ctx) => {
    const sum = split.train + split.validation + split.test;
    if (sum > 1 + SUM_TOLERANCE) {
      const shown = Number(sum.toPrecision(12));
      addRule(
        ctx,
        [],
        `train ${split.train} + validation ${split.validation} + test ${split.test} = ${shown} must be <= 1`,
      );
    }
  });

const walkForwardSchema = z
  .strictObject({
    folds: int({ min: 1 }).default(5),
    mode: oneOf(["expanding", "rolling"]).default("expanding"),
    /** Candles in each training window; null = derived from the split (expanding mode only). */
    train_size: nullableInt({ min: 1 }).default(null),
    /** Candles in each test window; null = derived from the split. */
    test_size: nullableInt({ min: 1 }).default(null),
  })
  .superRefine((wf, ctx) => {
    if (wf.mode === "rolling" && wf.train_size === null) {
      addRule(ctx, ["train_size"], 'must be an integer >= 1 when mode is "rolling"', { value: null });
    }
  });

/**
 * `dataset:` in training.yaml — how feature rows become supervised windows and how they are split.
 * Lengths (`window`, `horizon`, `embargo`, sizes) are in candles of `data.interval`.
 */
export const datasetSchema = z.strictObject({
  window: int({ min: 1 }).default(64),
  horizon: int({ min: 1 }).default(12),
  target: z
    .strictObject({
      kind: oneOf(["both", "regression", "classification"]).default("both"),
      /** |log return| at or below this is "flat" for classification; 0 = up/down only. */
      dead_zone: num({ min: 0 }).default(0),
    })
    .prefault({}),
  scaler: oneOf(["standard", "minmax", "robust", "none"]).default("standard"),
  split: splitSchema.prefault({}),
  embargo: int({ min: 0 }).default(12),
  walk_forward: walkForwardSchema.prefault({}),
});

export type DatasetConfig = z.output<typeof datasetSchema>;
