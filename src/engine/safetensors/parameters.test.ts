import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/helpers/temp-dir.js";
import { CryptomlError } from "../../core/errors.js";
import { createParameter, type Parameter } from "../parameter.js";
import { decodeSafetensors } from "./decode.js";
import { encodeSafetensors } from "./encode.js";
import { writeSafetensors } from "./file.js";
import { copyIntoParameters, loadParameters, StateDictError, saveParameters } from "./parameters.js";

const tempDir = useTempDirs();

/** The reference lstm head: nn.LSTM(16, 64) + nn.Linear(64, 1), shapes as PyTorch's state_dict. */
function model(): Parameter[] {
  return [
    createParameter("rnn.weight_ih_l0", [256, 16]),
    createParameter("rnn.weight_hh_l0", [256, 64]),
    createParameter("rnn.bias_ih_l0", [256]),
    createParameter("rnn.bias_hh_l0", [256]),
    createParameter("out.weight", [1, 64]),
    createParameter("out.bias", [1]),
  ];
}

function fill(params: Parameter[], seed: number): void {
  for (const [p, param] of params.entries()) {
    for (let i = 0; i < param.data.length; i += 1) param.data[i] = Math.sin(seed + p * 1000 + i);
  }
}

describe("saveParameters / loadParameters", () => {
  it("round trips every value exactly and returns the metadata", async () => {
    const path = join(tempDir(), "model.safetensors");
    const saved = model();
    fill(saved, 1);
    saved[0]?.grad.fill(7); // gradients are not weights and are not saved
    await saveParameters(path, saved, { format: "pt" });
    const loaded = model();
    const result = await loadParameters(path, loaded);
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [], metadata: { format: "pt" } });
    for (const [i, param] of loaded.entries()) expect(param.data).toEqual(saved[i]?.data);
    expect(loaded[0]?.grad.every((g) => g === 0)).toBe(true);
  });

  it("lists missing and unexpected keys like load_state_dict, and copies nothing", async () => {
    const path = join(tempDir(), "model.safetensors");
    const saved = model().filter((p) => !p.name.startsWith("out."));
    saved.push(createParameter("head.weight", [1, 64]));
    fill(saved, 2);
    await saveParameters(path, saved);
    const loaded = model();
    const error = await loadParameters(path, loaded).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StateDictError);
    const stateError = error as StateDictError;
    expect(stateError.message).toBe(
      `${path}: Error(s) in loading parameters:\n` +
        '\tMissing key(s) in state_dict: "out.weight", "out.bias".\n' +
        '\tUnexpected key(s) in state_dict: "head.weight".',
    );
    expect(stateError.missingKeys).toEqual(["out.weight", "out.bias"]);
    expect(stateError.unexpectedKeys).toEqual(["head.weight"]);
    expect(stateError.code).toBe("DATA_FORMAT");
    expect(stateError.hint).toMatch(/strict: false/);
    expect(loaded.every((p) => p.data.every((v) => v === 0))).toBe(true);
  });

  it("with strict: false loads what matches and reports the rest", async () => {
    const path = join(tempDir(), "model.safetensors");
    const saved = [createParameter("rnn.bias_ih_l0", [256]), createParameter("extra", [2])];
    fill(saved, 3);
    await saveParameters(path, saved);
    const loaded = model();
    const result = await loadParameters(path, loaded, { strict: false });
    expect(result.missingKeys).toEqual([
      "rnn.weight_ih_l0",
      "rnn.weight_hh_l0",
      "rnn.bias_hh_l0",
      "out.weight",
      "out.bias",
    ]);
    expect(result.unexpectedKeys).toEqual(["extra"]);
    expect(loaded[2]?.data).toEqual(saved[0]?.data);
  });

  it("names both shapes on a size mismatch, even when not strict", async () => {
    const path = join(tempDir(), "model.safetensors");
    await saveParameters(path, [createParameter("out.weight", [1, 32])]);
    const loaded = [createParameter("out.weight", [1, 64])];
    for (const strict of [true, false]) {
      await expect(loadParameters(path, loaded, { strict })).rejects.toThrowError(
        "size mismatch for out.weight: copying a param with shape [1, 32] from checkpoint, the shape in current model is [1, 64].",
      );
    }
  });

  it("refuses another dtype unless asked to cast floats", async () => {
    const path = join(tempDir(), "model.safetensors");
    await writeSafetensors(path, [
      { name: "a", shape: [2], data: new Float64Array([0.1, 2]) },
      { name: "b", shape: [1], data: new Float32Array([1.5]), dtype: "BF16" },
      { name: "c", shape: [1], data: new BigInt64Array([1n]) },
    ]);
    const params = [createParameter("a", [2]), createParameter("b", [1]), createParameter("c", [1])];
    const error = (await loadParameters(path, params).catch((caught: unknown) => caught)) as StateDictError;
    // Problems come in the file's order (I64, F64, BF16 by the writer's dtype sort).
    expect(error.problems).toEqual([
      "dtype mismatch for c: the checkpoint holds I64, parameters are F32.",
      "dtype mismatch for a: the checkpoint holds F64, parameters are F32 (pass castFloats: true to convert).",
      "dtype mismatch for b: the checkpoint holds BF16, parameters are F32 (pass castFloats: true to convert).",
    ]);
    await expect(loadParameters(path, params, { castFloats: true })).rejects.toThrowError(
      /dtype mismatch for c/,
    );
    const floats = params.slice(0, 2);
    await loadParameters(path, floats, { castFloats: true, strict: false });
    expect(floats[0]?.data).toEqual(new Float32Array([0.1, 2]));
    expect(floats[1]?.data).toEqual(new Float32Array([1.5]));
  });

  it("refuses two parameters with one name", () => {
    const contents = decodeSafetensors(encodeSafetensors([]), "mem");
    const act = () =>
      copyIntoParameters(contents, "mem", [createParameter("w", [1]), createParameter("w", [1])]);
    expect(act).toThrowError(CryptomlError);
    expect(act).toThrowError('two parameters are both named "w"');
  });
});
