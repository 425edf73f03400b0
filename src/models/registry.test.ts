import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/helpers/temp-dir.js";
import { DataFormatError } from "../core/errors.js";
import { Rng } from "../engine/random.js";
import { encodeSafetensors } from "../engine/safetensors/index.js";
import { noGrad } from "../engine/tensor.js";
import type { ModelDefinition } from "./definition.js";
import {
  createModel,
  decodeModel,
  defineModel,
  encodeModel,
  loadModel,
  loadWeights,
  MODEL_METADATA_KEY,
  saveModel,
  weightsOf,
} from "./registry.js";
import { ARCHITECTURES, ensembleOf, ioOf, tinyDefinition, tinyModels, windows } from "./test-fixtures.js";

const tempDir = useTempDirs();

describe("saved models", () => {
  it.each([...ARCHITECTURES, "ensemble"] as const)(
    "%s round-trips through a file with identical outputs",
    async (name) => {
      const io = ioOf("both", 5, 3, 0.02);
      const definition = name === "ensemble" ? ensembleOf("stacked", io) : tinyDefinition(name, io);
      const model = createModel(definition, new Rng(21));
      const path = join(tempDir(), "model.safetensors");
      await saveModel(path, model, { run: "abc" });
      const loaded = await loadModel(path);
      expect(loaded.definition).toEqual(definition);
      expect(loaded.parameters().map((p) => p.name)).toEqual(model.parameters().map((p) => p.name));
      const x = windows(3, io);
      expect(Array.from(noGrad(() => loaded.forward(x)).data)).toEqual(
        Array.from(noGrad(() => model.forward(x)).data),
      );
    },
  );

  it("refuses a file without the model definition, naming it", () => {
    const bytes = encodeSafetensors(weightsOf(createModel(tinyDefinition("lstm"), new Rng(1))));
    expect(() => decodeModel(bytes, "bare.safetensors")).toThrow(DataFormatError);
    expect(() => decodeModel(bytes, "bare.safetensors")).toThrow(
      /bare\.safetensors: has no cryptoml\.model metadata/,
    );
  });

  it("refuses weights that do not fit the stored definition", async () => {
    const gru = createModel(tinyDefinition("gru"), new Rng(1));
    const lstmDefinition = JSON.stringify(tinyDefinition("lstm"));
    const path = join(tempDir(), "wrong.safetensors");
    writeFileSync(path, encodeSafetensors(weightsOf(gru), { [MODEL_METADATA_KEY]: lstmDefinition }));
    await expect(loadModel(path)).rejects.toThrow(
      /wrong\.safetensors: weight rnn\.weight_ih_l0 has shape \[12, 3\] but the lstm needs \[16, 3\]/,
    );
    const broken = join(tempDir(), "broken.safetensors");
    writeFileSync(broken, encodeSafetensors(weightsOf(gru), { [MODEL_METADATA_KEY]: '{"className":"rnn"}' }));
    await expect(loadModel(broken)).rejects.toThrow(
      /broken\.safetensors: invalid cryptoml\.model metadata: .*unknown model "rnn"/,
    );
    await expect(loadModel(join(tempDir(), "absent.safetensors"))).rejects.toThrow(
      /no such safetensors file/,
    );
  });

  it("loadWeights is strict and names the first mismatch; weightsOf is a snapshot", () => {
    const model = createModel(tinyDefinition("lstm"), new Rng(1));
    const weights = weightsOf(model);
    model.parameters()[0]?.data.fill(0);
    expect(weights[0]?.data.some((v) => v !== 0)).toBe(true);
    loadWeights(model, weights);
    expect(Array.from(model.parameters()[0]?.data ?? [])).toEqual(Array.from(weights[0]?.data ?? []));
    expect(() => loadWeights(model, weights.slice(1), "checkpoint")).toThrow(
      /checkpoint: weight rnn\.weight_ih_l0 \[16, 3\] of the lstm is missing/,
    );
    const extra = [...weights, { name: "other", shape: [1], data: new Float32Array(1) }];
    expect(() => loadWeights(model, extra)).toThrow(/weight other is not a parameter of the lstm/);
  });

  it("writes the definition as metadata and keeps extra metadata", () => {
    const model = createModel(tinyDefinition("transformer"), new Rng(1));
    const bytes = encodeModel(model, { run: "r1" });
    const text = new TextDecoder().decode(
      bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))),
    );
    expect(JSON.parse(text).__metadata__.run).toBe("r1");
    expect(() => encodeModel(model, { [MODEL_METADATA_KEY]: "x" })).toThrow(/reserved/);
  });
});

describe("definitions", () => {
  it("defineModel takes each architecture's section of models:", () => {
    const definition = defineModel("transformer", tinyModels(), ioOf());
    expect(definition).toEqual({
      className: "transformer",
      io: ioOf(),
      config: { d_model: 4, heads: 2, layers: 2, feed_forward: 6, dropout: 0 },
    });
  });

  it("refuses an unknown className, naming the valid ones", () => {
    const message =
      /unknown model "rnn"; the registry has lstm, gru, lstm_attention, cnn_lstm, transformer, ensemble/;
    expect(() => defineModel("rnn", tinyModels(), ioOf())).toThrow(message);
    const bad = { ...tinyDefinition("lstm"), className: "rnn" } as unknown as ModelDefinition;
    expect(() => createModel(bad, new Rng(1))).toThrow(message);
  });

  it("refuses bad io and config values with their path", () => {
    const lstm = tinyDefinition("lstm");
    const withIo = (io: object) => ({ ...lstm, io: { ...lstm.io, ...io } }) as ModelDefinition;
    expect(() => createModel(withIo({ window: 0 }), new Rng(1))).toThrow(
      /definition\.io\.window: must be an integer ≥ 1, not 0/,
    );
    expect(() => createModel(withIo({ head: "up" }), new Rng(1))).toThrow(/io\.head: must be one of/);
    expect(() => createModel(withIo({ returnScale: Number.NaN }), new Rng(1))).toThrow(
      /returnScale: must be a finite number > 0/,
    );
    const transformer = tinyDefinition("transformer");
    const odd = { ...transformer, config: { ...transformer.config, heads: 3 } } as ModelDefinition;
    expect(() => createModel(odd, new Rng(1))).toThrow(/config\.d_model: 4 must be divisible by heads \(3\)/);
    const typo = { ...lstm, config: { ...lstm.config, hiden_size: 3 } } as unknown as ModelDefinition;
    expect(() => createModel(typo, new Rng(1))).toThrow(/config\.hiden_size: is not a setting of lstm/);
  });

  it("refuses ensemble members with another io than the ensemble", () => {
    const io = ioOf();
    const models = { ...tinyModels(), ensemble: { method: "mean" as const, members: ["a", "b"] } };
    const members = [tinyDefinition("lstm", io), tinyDefinition("gru", ioOf("regression", 6, 3))];
    expect(() => defineModel("ensemble", models, io, members)).toThrow(
      /config\.members\[1\]: has io window 6, features 3, head regression but the ensemble has window 5/,
    );
    expect(() => defineModel("ensemble", models, io, [])).toThrow(/needs the definitions of its members/);
  });

  it("validates weighted ensemble weights", () => {
    expect(() => ensembleOf("weighted", ioOf(), [1, 1])).toThrow(
      /has 2 weight\(s\) but the ensemble has 3 member\(s\)/,
    );
    expect(() => ensembleOf("weighted", ioOf())).toThrow(/method weighted needs a list of 3 weights/);
    expect(() => ensembleOf("weighted", ioOf(), [1, -1, 1])).toThrow(
      /weights\[1\]: must be a finite number ≥ 0/,
    );
    expect(() => ensembleOf("weighted", ioOf(), [0, 0, 0])).toThrow(/sum to 0/);
    expect(() => ensembleOf("mean", ioOf(), [1, 1, 1])).toThrow(/apply only to method weighted/);
  });

  it("brings members with another returnScale to the ensemble's scale", () => {
    const io = ioOf("regression", 5, 3, 0.02);
    const member = tinyDefinition("lstm", { ...io, returnScale: 0.04 });
    const models = { ...tinyModels(), ensemble: { method: "mean" as const, members: ["a"] } };
    const ensemble = createModel(defineModel("ensemble", models, io, [member]), new Rng(2));
    const alone = createModel(member, new Rng(2));
    const x = windows(2, io);
    const a = noGrad(() => ensemble.forward(x)).data;
    const b = noGrad(() => alone.forward(x)).data;
    expect(a[0]).toBeCloseTo((b[0] as number) * 2, 6);
  });
});
