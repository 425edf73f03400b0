import { describe, expect, it } from "vitest";
import type { ModelsConfig } from "../config/schema/models.js";
import { Adam } from "../engine/optim/index.js";
import { Rng } from "../engine/random.js";
import { backward } from "../engine/tensor.js";
import { forecastLoss } from "./heads.js";
import { createModel, defineModel } from "./registry.js";
import { ARCHITECTURES, ioOf, windows } from "./test-fixtures.js";

// Small enough to run in a few seconds, large enough to memorise 32 random targets.
const MODELS: ModelsConfig = {
  lstm: { hidden_size: 16, num_layers: 1, dropout: 0 },
  gru: { hidden_size: 16, num_layers: 1, dropout: 0 },
  lstm_attention: { hidden_size: 16, num_layers: 1, dropout: 0 },
  cnn_lstm: { conv_channels: 8, kernel_size: 3, hidden_size: 16, dropout: 0 },
  transformer: { d_model: 16, heads: 2, layers: 1, feed_forward: 32, dropout: 0 },
  ensemble: { method: "mean", members: [] },
};

describe("each architecture can fit a small batch", () => {
  it.each(ARCHITECTURES)("%s drives the regression MSE below 5% of its start", (name) => {
    const io = ioOf("regression", 8, 3);
    const model = createModel(defineModel(name, MODELS, io), new Rng(1));
    const x = windows(32, io, 2);
    const targets = new Float32Array(32);
    new Rng(3).fillNormal(targets);
    const optimizer = new Adam(model.trainableParameters(), { lr: 1e-2 });
    let start = Number.NaN;
    let loss = Number.NaN;
    for (let step = 0; step < 400; step++) {
      optimizer.zeroGrad();
      const l = forecastLoss(model.forward(x, { training: true }), targets, io.head);
      backward(l);
      optimizer.step();
      loss = l.item();
      if (step === 0) start = loss;
      if (loss < 0.05 * start) break;
    }
    expect(loss).toBeLessThan(0.05 * start);
  });
});
