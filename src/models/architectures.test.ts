import { describe, expect, it } from "vitest";
import { Rng } from "../engine/random.js";
import { noGrad } from "../engine/tensor.js";
import { gradcheck } from "../engine/testing/gradcheck.js";
import { outputColumns } from "./definition.js";
import { createModel } from "./registry.js";
import { ARCHITECTURES, ensembleOf, HEADS, ioOf, tinyDefinition, windows } from "./test-fixtures.js";

const values = (t: { data: Float32Array }) => Array.from(t.data);

describe("architectures", () => {
  const cases = [...ARCHITECTURES, "ensemble" as const].flatMap((name) =>
    HEADS.map((head) => [name, head] as const),
  );

  it.each(cases)("%s maps [B, T, F] to [B, outputs] with a %s head, deterministic per seed", (name, head) => {
    const io = ioOf(head);
    const definition = name === "ensemble" ? ensembleOf("stacked", io) : tinyDefinition(name, io);
    const x = windows(2, io);
    const a = noGrad(() => createModel(definition, new Rng(1)).forward(x));
    const b = noGrad(() => createModel(definition, new Rng(1)).forward(x));
    const c = noGrad(() => createModel(definition, new Rng(2)).forward(x));
    expect(a.shape).toEqual([2, outputColumns(head).length]);
    expect(values(a).every(Number.isFinite)).toBe(true);
    expect(values(a)).toEqual(values(b));
    expect(values(a)).not.toEqual(values(c));
  });

  it("names stacked recurrent layers as PyTorch does", () => {
    const names = createModel(tinyDefinition("lstm"), new Rng(1))
      .parameters()
      .map((p) => p.name);
    expect(names).toEqual([
      ...[0, 1].flatMap((k) => [
        `rnn.weight_ih_l${k}`,
        `rnn.weight_hh_l${k}`,
        `rnn.bias_ih_l${k}`,
        `rnn.bias_hh_l${k}`,
      ]),
      "head.weight",
      "head.bias",
    ]);
    const gru = createModel(tinyDefinition("gru"), new Rng(1)).parameters();
    expect(gru.find((p) => p.name === "rnn.weight_ih_l1")?.shape).toEqual([12, 4]);
    expect(gru.find((p) => p.name === "rnn.weight_ih_l0")?.shape).toEqual([12, 3]);
  });

  it("keeps the window length through cnn_lstm's convolution for odd and even kernels", () => {
    for (const kernel of [1, 2, 3, 4]) {
      const models = { ...tinyDefinition("cnn_lstm") };
      const definition = { ...models, config: { ...models.config, kernel_size: kernel } };
      const model = createModel(definition as typeof models, new Rng(3));
      expect(model.parameters().find((p) => p.name === "conv.weight")?.shape).toEqual([3, 3, kernel]);
      expect(noGrad(() => model.forward(windows(2, ioOf()))).shape).toEqual([2, 1]);
    }
  });

  it("prefixes ensemble members' parameters and trains only the stacked blend", () => {
    const stacked = createModel(ensembleOf("stacked"), new Rng(1));
    const names = stacked.parameters().map((p) => p.name);
    expect(names).toContain("members.0.rnn.weight_ih_l1");
    expect(names).toContain("members.2.enc.layers.1.linear2.bias");
    expect(stacked.trainableParameters().map((p) => p.name)).toEqual(["blend.weight", "blend.bias"]);
    expect(createModel(ensembleOf("mean"), new Rng(1)).trainableParameters()).toEqual([]);
    const single = createModel(tinyDefinition("gru"), new Rng(1));
    expect(single.trainableParameters()).toEqual(single.parameters());
  });

  it("starts the stacked blend as the mean, and weighted with equal weights is the mean", () => {
    const io = ioOf("both");
    const x = windows(3, io);
    const mean = noGrad(() => createModel(ensembleOf("mean", io), new Rng(4)).forward(x));
    const stacked = noGrad(() => createModel(ensembleOf("stacked", io), new Rng(4)).forward(x));
    const weighted = noGrad(() => createModel(ensembleOf("weighted", io, [2, 2, 2]), new Rng(4)).forward(x));
    values(mean).forEach((v, i) => {
      expect(stacked.data[i]).toBeCloseTo(v, 6);
      expect(weighted.data[i]).toBeCloseTo(v, 6);
    });
    const first = noGrad(() => createModel(ensembleOf("weighted", io, [1, 0, 0]), new Rng(4)).forward(x));
    const member = noGrad(() => createModel(tinyDefinition("lstm", io), new Rng(4)).forward(x));
    values(member).forEach((v, i) => {
      expect(first.data[i]).toBeCloseTo(v, 6);
    });
  });

  it.each(["lstm", "gru", "lstm_attention", "cnn_lstm", "transformer"] as const)(
    "%s: dropout changes training outputs only, reproducibly per rng seed",
    (name) => {
      const model = createModel(tinyDefinition(name, ioOf(), 0.5), new Rng(1));
      const x = windows(4, ioOf());
      const evalA = values(noGrad(() => model.forward(x)));
      const evalB = values(noGrad(() => model.forward(x, { rng: new Rng(9) })));
      const trainA = values(noGrad(() => model.forward(x, { training: true, rng: new Rng(7) })));
      const trainB = values(noGrad(() => model.forward(x, { training: true, rng: new Rng(7) })));
      const trainC = values(noGrad(() => model.forward(x, { training: true, rng: new Rng(8) })));
      expect(evalB).toEqual(evalA);
      expect(trainA).not.toEqual(evalA);
      expect(trainB).toEqual(trainA);
      expect(trainC).not.toEqual(trainA);
      expect(() => model.forward(x, { training: true })).toThrow(/needs options\.rng/);
    },
  );

  it("refuses windows of another shape than the model was built for", () => {
    const model = createModel(tinyDefinition("lstm"), new Rng(1));
    expect(() => model.forward(windows(2, ioOf("regression", 5, 4)))).toThrow(
      /built for windows \[B, 5, 3\] but got \[2, 5, 4\]/,
    );
  });
});

describe("gradients match finite differences", () => {
  it.each([
    ["lstm 2-layer", () => tinyDefinition("lstm", ioOf("both", 4, 2))],
    ["transformer", () => tinyDefinition("transformer", ioOf("both", 3, 2))],
    ["lstm_attention", () => tinyDefinition("lstm_attention", ioOf("regression", 4, 2))],
    ["cnn_lstm", () => tinyDefinition("cnn_lstm", ioOf("classification", 4, 2))],
    ["stacked ensemble", () => ensembleOf("stacked", ioOf("both", 3, 2))],
  ])("%s", (_name, definition) => {
    const def = definition();
    const model = createModel(def, new Rng(11));
    const x = windows(2, def.io, 13);
    expect(gradcheck(() => model.forward(x), model.trainableParameters(), { maxElements: 40 })).toEqual([]);
  });
});
