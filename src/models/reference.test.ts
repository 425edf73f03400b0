import { describe, expect, it } from "vitest";
import { Rng } from "../engine/random.js";
import { noGrad, Tensor } from "../engine/tensor.js";
import { createReferenceModel, REFERENCE_MODELS } from "./reference.js";

const SMALL = { features: 3, window: 5, hidden: 8, convChannels: 4, heads: 2, feedForward: 6, layers: 2 };

describe("reference models", () => {
  it.each(REFERENCE_MODELS)("%s maps [B, T, F] windows to [B, 1] and is deterministic per seed", (name) => {
    const x = new Tensor(
      new Float32Array(2 * 5 * 3).map((_, i) => Math.sin(i)),
      [2, 5, 3],
    );
    const a = noGrad(() => createReferenceModel(name, new Rng(1), SMALL).forward(x));
    const b = noGrad(() => createReferenceModel(name, new Rng(1), SMALL).forward(x));
    const c = noGrad(() => createReferenceModel(name, new Rng(2), SMALL).forward(x));
    expect(a.shape).toEqual([2, 1]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    expect(Array.from(a.data)).not.toEqual(Array.from(c.data));
  });

  it("starts every transformer layer with the same weights, as PyTorch's deep copy does", () => {
    const model = createReferenceModel("transformer", new Rng(3), SMALL);
    const byName = new Map(model.parameters().map((p) => [p.name, p]));
    for (const p of model.parameters().filter((q) => q.name.startsWith("enc.layers.0."))) {
      const twin = byName.get(p.name.replace("enc.layers.0.", "enc.layers.1."));
      expect(twin && Array.from(twin.data)).toEqual(Array.from(p.data));
    }
  });

  it("refuses a window the transformer's positions were not built for", () => {
    const model = createReferenceModel("transformer", new Rng(3), SMALL);
    expect(() => model.forward(new Tensor(new Float32Array(2 * 4 * 3), [2, 4, 3]))).toThrow(
      /windows of 5 candles, got 4/,
    );
  });
});
