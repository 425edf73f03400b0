import { describe, expect, it } from "vitest";
import { CryptomlError } from "../../core/errors.js";
import { decodeSafetensors } from "./decode.js";
import type { TensorData } from "./dtype.js";
import { encodeSafetensors } from "./encode.js";

const ascii = new TextDecoder();

/** The header text (padding included) and the data section of an encoded file. */
function split(bytes: Uint8Array): { length: number; header: string; data: Uint8Array } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { length, header: ascii.decode(bytes.subarray(8, 8 + length)), data: bytes.subarray(8 + length) };
}

describe("encodeSafetensors byte layout", () => {
  // Both vectors are the reference implementation's own serialization tests (safetensors/src/tensor.rs),
  // and `safetensors.torch.save` produces the same bytes.
  it("writes a 1×2×3 F32 tensor exactly as the reference writer", () => {
    const bytes = encodeSafetensors([
      { name: "attn.0", shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) },
    ]);
    expect([...bytes]).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101,
      34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34,
      100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0,
      0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  it("pads the header with spaces to a multiple of 8 so the data stays aligned", () => {
    const bytes = encodeSafetensors([
      { name: "attn0", shape: [1, 1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) },
    ]);
    const { length, header } = split(bytes);
    expect(length).toBe(72);
    expect(header).toBe(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}${" ".repeat(7)}`);
    expect(bytes.length).toBe(8 + 72 + 24);
  });

  it("writes an empty file and metadata as the reference does", () => {
    expect([...encodeSafetensors([])]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect(split(encodeSafetensors([], { framework: "pt" })).header).toBe(
      '{"__metadata__":{"framework":"pt"}}     ',
    );
  });

  it("orders tensors by descending dtype alignment, then by name in UTF-8 byte order", () => {
    const one = (name: string, data: TensorData) => ({ name, shape: [1], data });
    const bytes = encodeSafetensors([
      one("b", new Float32Array(1)),
      { name: "a", shape: [1], data: new Float32Array(1), dtype: "F16" },
      one("c", new Float64Array(1)),
      one("d", new BigInt64Array(1)),
      { name: "e", shape: [1], data: new Float32Array(1), dtype: "BF16" },
      one("f", new Int32Array(1)),
      { name: "g", shape: [1], data: new Uint8Array(1), dtype: "BOOL" },
      one("h", new Uint8Array(1)),
      // U+FFFF sorts before U+1F600 in UTF-8 bytes, though not in UTF-16 code units.
      one("\u{1F600}", new Float32Array(1)),
      one("\uffff", new Float32Array(1)),
    ]);
    const header = JSON.parse(split(bytes).header) as Record<string, { data_offsets: number[] }>;
    const order = Object.entries(header)
      .sort(([, x], [, y]) => (x.data_offsets[0] ?? 0) - (y.data_offsets[0] ?? 0))
      .map(([name]) => name);
    expect(order).toEqual(["d", "c", "b", "\uffff", "\u{1F600}", "f", "e", "a", "h", "g"]);
  });

  it("writes metadata first with keys sorted, escaping as serde_json does", () => {
    const bytes = encodeSafetensors([{ name: "a", shape: [], data: new Float32Array([1]) }], {
      z: "1",
      a: 'é"\\\n\u0001/\u2028😀',
    });
    expect(split(bytes).header.trimEnd()).toBe(
      '{"__metadata__":{"a":"é\\"\\\\\\n\\u0001/\u2028😀","z":"1"},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}',
    );
  });

  it("writes zero-sized tensors as empty byte ranges", () => {
    const bytes = encodeSafetensors([{ name: "z", shape: [0, 3], data: new Float32Array(0) }]);
    expect(split(bytes).header.trimEnd()).toBe('{"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]}}');
    expect(decodeSafetensors(bytes, "mem").tensors.get("z")?.shape).toEqual([0, 3]);
  });
});

describe("encodeSafetensors refuses", () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      "a shape that disagrees with the data",
      () => encodeSafetensors([{ name: "w", shape: [2, 3], data: new Float32Array(5) }]),
      /tensor "w": shape \[2, 3\] has 6 elements but its data has 5/,
    ],
    [
      "a negative dimension",
      () => encodeSafetensors([{ name: "w", shape: [-1], data: new Float32Array(1) }]),
      /non-negative integers/,
    ],
    [
      "a repeated name",
      () =>
        encodeSafetensors([
          { name: "w", shape: [], data: new Float32Array(1) },
          { name: "w", shape: [], data: new Float32Array(1) },
        ]),
      /tensor "w" is given twice/,
    ],
    [
      "the reserved name",
      () => encodeSafetensors([{ name: "__metadata__", shape: [], data: new Float32Array(1) }]),
      /reserves that key/,
    ],
    [
      "a dtype the array cannot become",
      () => encodeSafetensors([{ name: "w", shape: [1], data: new Int32Array(1), dtype: "F16" }]),
      /a Int32Array cannot be written as F16/,
    ],
    [
      "BOOL data other than 0 and 1",
      () => encodeSafetensors([{ name: "m", shape: [1], data: new Uint8Array([2]), dtype: "BOOL" }]),
      /only 0 and 1/,
    ],
    [
      "a non-string metadata value",
      () => encodeSafetensors([], { epoch: 3 as unknown as string }),
      /metadata "epoch" is number/,
    ],
    [
      "a lone surrogate in a name",
      () => encodeSafetensors([{ name: "w\ud800", shape: [], data: new Float32Array(1) }]),
      /lone UTF-16 surrogate/,
    ],
  ];
  it.each(cases)("%s", (_label, act, message) => {
    expect(act).toThrowError(CryptomlError);
    expect(act).toThrowError(message);
  });
});
