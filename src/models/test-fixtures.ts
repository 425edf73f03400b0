/** Tiny definitions and inputs shared by the model registry's tests. */
import type { ModelsConfig } from "../config/schema/models.js";
import { Rng } from "../engine/random.js";
import { Tensor } from "../engine/tensor.js";
import type { HeadKind, ModelDefinition, ModelIo } from "./definition.js";
import { defineModel } from "./registry.js";

export const ARCHITECTURES = ["lstm", "gru", "lstm_attention", "cnn_lstm", "transformer"] as const;
export const HEADS: readonly HeadKind[] = ["regression", "classification", "both"];

export function tinyModels(dropout = 0): ModelsConfig {
  const recurrent = { hidden_size: 4, num_layers: 2, dropout };
  return {
    lstm: recurrent,
    gru: recurrent,
    lstm_attention: recurrent,
    cnn_lstm: { conv_channels: 3, kernel_size: 3, hidden_size: 4, dropout },
    transformer: { d_model: 4, heads: 2, layers: 2, feed_forward: 6, dropout },
    ensemble: { method: "mean", members: [] },
  };
}

export const ioOf = (head: HeadKind = "regression", window = 5, features = 3, returnScale = 1): ModelIo => ({
  window,
  features,
  head,
  returnScale,
});

export function tinyDefinition(
  className: (typeof ARCHITECTURES)[number],
  io: ModelIo = ioOf(),
  dropout = 0,
): ModelDefinition {
  return defineModel(className, tinyModels(dropout), io);
}

export function ensembleOf(
  method: "mean" | "weighted" | "stacked",
  io: ModelIo = ioOf(),
  weights?: number[],
): ModelDefinition {
  const models = { ...tinyModels(), ensemble: { method, members: ["a", "b", "c"] } };
  const members = [tinyDefinition("lstm", io), tinyDefinition("gru", io), tinyDefinition("transformer", io)];
  return defineModel("ensemble", models, io, members, weights);
}

/** Windows [batch, window, features] of smooth, seeded values. */
export function windows(batch: number, io: ModelIo, seed = 5): Tensor {
  const rng = new Rng(seed);
  const data = new Float32Array(batch * io.window * io.features);
  rng.fillNormal(data);
  return new Tensor(data, [batch, io.window, io.features]);
}
