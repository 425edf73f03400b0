import * as z from "zod";
import { addRule, int, num, oneOf } from "./rules.js";

/** Every architecture in the model registry, as named in config. */
export const MODEL_NAMES = ["lstm", "gru", "lstm_attention", "cnn_lstm", "transformer", "ensemble"] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** [0, 1): a dropout of 1 would zero every activation. */
const dropout = () => num({ min: 0, lt: 1 }).default(0);

const recurrent = () =>
  z
    .strictObject({
      hidden_size: int({ min: 1 }).default(64),
      num_layers: int({ min: 1 }).default(1),
      dropout: dropout(),
    })
    .prefault({});

const cnnLstm = z
  .strictObject({
    conv_channels: int({ min: 1 }).default(32),
    kernel_size: int({ min: 1 }).default(3),
    hidden_size: int({ min: 1 }).default(64),
    dropout: dropout(),
  })
  .prefault({});

const transformer = z
  .strictObject({
    d_model: int({ min: 1 }).default(64),
    heads: int({ min: 1 }).default(4),
    layers: int({ min: 1 }).default(2),
    feed_forward: int({ min: 1 }).default(128),
    dropout: dropout(),
  })
  .superRefine((t, ctx) => {
    // Multi-head attention splits d_model evenly across heads.
    if (t.d_model % t.heads !== 0) {
      addRule(ctx, ["d_model"], `must be divisible by heads (${t.heads})`, { value: t.d_model });
    }
  })
  .prefault({});

const ensemble = z
  .strictObject({
    method: oneOf(["mean", "weighted", "stacked"]).default("mean"),
    /**
     * What to combine: architecture names (trained in the same run, on the same data, before the
     * ensemble) or paths to saved models (`.safetensors` files written by `cryptoml train`).
     */
    members: z
      .array(z.string({ error: "must be a string" }), { error: "must be a list of names" })
      .min(1, { error: "must list at least one member" })
      .default(() => ["lstm", "gru"]),
  })
  .prefault({});

/** `models:` in model_architectures.yaml — hyperparameters of each architecture. */
export const modelsSchema = z
  .strictObject({
    lstm: recurrent(),
    gru: recurrent(),
    lstm_attention: recurrent(),
    cnn_lstm: cnnLstm,
    transformer,
    ensemble,
  })
  .prefault({});

export type ModelsConfig = z.output<typeof modelsSchema>;
