import * as z from "zod";
import { oneOf, text } from "./rules.js";

/** `tracking:` in experiments.yaml — where runs are recorded. */
export const trackingSchema = z
  .strictObject({
    /** `file:`/`sqlite:` = the embedded store, `http(s)://` = an MLflow server. */
    uri: text("a tracking URI (file:…, sqlite:… or http(s)://…)").default("file:.cryptoml/mlruns"),
    experiment_name: text("a non-empty experiment name").default("cryptoml"),
    /** false: `cryptoml train` records nothing (the run directory still has everything). */
    enabled: z.boolean({ error: "must be true or false" }).default(true),
    /** The run metric that decides whether a new model version becomes the `champion`. */
    champion_metric: text("a metric name").default("best_val_loss"),
    /** min: lower is better (losses); max: higher is better (accuracy, Sharpe). */
    champion_mode: oneOf(["min", "max"]).default("min"),
  })
  .prefault({});

/** `experiments:` in experiments.yaml — what every run is labelled with. */
export const experimentsSchema = z
  .strictObject({
    /** Tags added to every run (tag → value; quote numbers: `"1"`). */
    tags: z
      .record(z.string(), z.string({ error: "must be a string; quote numbers and booleans" }), {
        error: "must be a mapping of tag → value",
      })
      .default(() => ({})),
  })
  .prefault({});

export type TrackingConfig = z.output<typeof trackingSchema>;
export type ExperimentsConfig = z.output<typeof experimentsSchema>;
