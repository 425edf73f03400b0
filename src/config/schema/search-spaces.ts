import * as z from "zod";
import { MODEL_NAMES } from "./models.js";
import { addRule, bool, checkKeys, int, nullableInt, nullableNum, num } from "./rules.js";

interface Range {
  low: number;
  high: number;
  log: boolean;
  step: number | null;
}

/** Optuna's rules for a numeric range, so our studies stay readable by Optuna and vice versa. */
function checkRange(range: Range, ctx: z.RefinementCtx): void {
  if (range.low >= range.high)
    addRule(ctx, ["high"], `must be greater than low (${range.low})`, { value: range.high });
  if (range.log && range.low <= 0)
    addRule(ctx, ["low"], "must be > 0 when log is true", { value: range.low });
  if (range.log && range.step !== null) {
    addRule(ctx, ["step"], "must be null when log is true (a log scale has no fixed step)", {
      value: range.step,
    });
  }
}

const floatDistribution = z
  .strictObject({
    type: z.literal("float"),
    low: num(),
    high: num(),
    /** Sample uniformly in log space (learning rates, weight decay). */
    log: bool().default(false),
    /** Discretisation step; null = continuous. */
    step: nullableNum({ gt: 0 }).default(null),
  })
  .superRefine(checkRange);

const intDistribution = z
  .strictObject({
    type: z.literal("int"),
    low: int(),
    high: int(),
    log: bool().default(false),
    step: nullableInt({ min: 1 }).default(null),
  })
  .superRefine(checkRange);

const choice = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: "must be a string, a number, true/false or null",
});

const categoricalDistribution = z.strictObject({
  type: z.literal("categorical"),
  choices: z
    .array(choice, { error: "must be a list of choices" })
    .min(1, { error: "must list at least one choice" }),
});

/** One hyperparameter's distribution, chosen by `type` (float | int | categorical). */
export const distributionSchema = z.discriminatedUnion("type", [
  floatDistribution,
  intDistribution,
  categoricalDistribution,
]);

/** Parameter name → distribution; names are those of `training`, `dataset` or the model's config. */
const spaceSchema = z.record(z.string(), distributionSchema, {
  error: "must be a mapping of parameter → distribution",
});

/** The space tuned for lstm_attention unless hyperparameters.yaml says otherwise. */
const DEFAULT_SEARCH_SPACES: Record<string, z.input<typeof spaceSchema>> = {
  lstm_attention: {
    learning_rate: { type: "float", low: 0.0001, high: 0.01, log: true },
    hidden_size: { type: "int", low: 32, high: 128, step: 32 },
    dropout: { type: "float", low: 0, high: 0.5 },
    window: { type: "categorical", choices: [32, 64, 96] },
    batch_size: { type: "categorical", choices: [32, 64, 128] },
  },
};

/**
 * `search_spaces:` in hyperparameters.yaml — architecture name → parameter → distribution.
 * Writing the section replaces the default entirely (spaces are not merged key by key).
 */
export const searchSpacesSchema = z
  .record(z.string(), spaceSchema, { error: "must be a mapping of architecture → search space" })
  .superRefine((spaces, ctx) => checkKeys(ctx, spaces, MODEL_NAMES, "architecture"))
  .prefault(() => structuredClone(DEFAULT_SEARCH_SPACES));

export type Distribution = z.output<typeof distributionSchema>;
export type SearchSpacesConfig = z.output<typeof searchSpacesSchema>;
