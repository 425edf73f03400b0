/**
 * `dataset:` in training.yaml, and the one definition of the dataset settings: src/datasets takes its
 * `DatasetConfig` type, its defaults and its validation from this schema, so the file format and the
 * builder can never disagree on a default, a range or an enum value.
 */
import * as z from "zod";
import { addRule, int, nullableInt, num, oneOf } from "./rules.js";

/** What the model predicts: the forward log return, its direction, or both. */
export const TARGET_KINDS = ["both", "regression", "classification"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** Per-feature scaling, fitted on training windows only. */
export const SCALER_KINDS = ["standard", "minmax", "robust", "none"] as const;
export type ScalerKind = (typeof SCALER_KINDS)[number];

/** How a walk-forward fold's training span grows: everything before its test block, or a fixed length. */
export const WALK_FORWARD_MODES = ["expanding", "rolling"] as const;
export type WalkForwardMode = (typeof WALK_FORWARD_MODES)[number];

/**
 * Which samples the walk-forward folds are laid over: `before_test` keeps the chronological test part
 * held out (folds cover train + validation, purged against test), `all` lays them over the whole history.
 */
export const WALK_FORWARD_SPANS = ["before_test", "all"] as const;
export type WalkForwardSpan = (typeof WALK_FORWARD_SPANS)[number];

/** Tolerance for float sums such as 0.7 + 0.2 + 0.1 = 1.0000000000000002. */
const SUM_TOLERANCE = 1e-9;

const splitSchema = z
  .strictObject({
    /** Must hold samples: a model needs something to train on. */
    train: num({ gt: 0, max: 1 }).default(0.7),
    /** 0 = no validation part (train is then purged against test directly). */
    validation: num({ min: 0, max: 1 }).default(0.15),
    /** 0 = no held-out test part. */
    test: num({ min: 0, max: 1 }).default(0.15),
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
    /** Number of test blocks; 0 disables walk-forward. */
    folds: int({ min: 0 }).default(5),
    mode: oneOf(WALK_FORWARD_MODES).default("expanding"),
    /** Candles of a rolling training span; null = as long as fold 0's expanding span. Rolling only. */
    train_size: nullableInt({ min: 1 }).default(null),
    /** Candles per test block; null = the samples cut into folds + 1 equal blocks. */
    test_size: nullableInt({ min: 1 }).default(null),
    span: oneOf(WALK_FORWARD_SPANS).default("before_test"),
  })
  .superRefine((wf, ctx) => {
    // Silently ignoring a setting would let a user believe every fold trains on train_size candles.
    if (wf.mode === "expanding" && wf.train_size !== null) {
      addRule(ctx, ["train_size"], 'must be null when mode is "expanding" (set mode: rolling to use it)', {
        value: wf.train_size,
      });
    }
  });

/**
 * `dataset:` in training.yaml — how feature rows become supervised windows and how they are split.
 * Lengths (`window`, `horizon`, `embargo`, sizes) are in candles of `data.interval`. docs/datasets.md
 * defines every term.
 */
export const datasetSchema = z.strictObject({
  /** T, candles per sample window. */
  window: int({ min: 1 }).default(64),
  /** h, candles from the window's last close to the target close. */
  horizon: int({ min: 1 }).default(12),
  target: z
    .strictObject({
      kind: oneOf(TARGET_KINDS).default("both"),
      /**
       * With a classifying kind (`classification`, `both`) and dead_zone > 0, training samples with
       * |log return| ≤ dead_zone are left out of training; validation and test samples are all kept,
       * with class NaN inside the zone (never selected by their future label).
       */
      dead_zone: num({ min: 0 }).default(0),
    })
    .prefault({}),
  scaler: oneOf(SCALER_KINDS).default("standard"),
  split: splitSchema.prefault({}),
  /** Extra candles kept clear between a part's last label and the next part's first feature. */
  embargo: int({ min: 0 }).default(12),
  walk_forward: walkForwardSchema.prefault({}),
});

export type DatasetConfig = z.output<typeof datasetSchema>;
