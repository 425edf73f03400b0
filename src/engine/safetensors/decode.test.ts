import { describe, expect, it } from "vitest";
import { DataFormatError } from "../../core/errors.js";
import { decodeSafetensors } from "./decode.js";
import { encodeSafetensors } from "./encode.js";

/** A file from raw header bytes (not padded, as some writers do) and a data section. */
function file(header: string | Uint8Array, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const headerBytes = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

const entry = (dtype: string, shape: number[], begin: number, end: number) =>
  JSON.stringify({ dtype, shape, data_offsets: [begin, end] });

describe("decodeSafetensors round trips", () => {
  it("reads back every supported dtype with its shape, values and metadata", () => {
    const bytes = encodeSafetensors(
      [
        { name: "f32", shape: [2, 2], data: new Float32Array([1.5, -2, 3.25, Math.fround(0.1)]) },
        { name: "f64", shape: [3], data: new Float64Array([0.1, -1e300, Number.MIN_VALUE]) },
        { name: "f16", shape: [3], data: new Float32Array([1, -0.5, 65504]), dtype: "F16" },
        { name: "bf16", shape: [2], data: new Float32Array([1, -3.5]), dtype: "BF16" },
        { name: "i64", shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 62n]) },
        { name: "u64", shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
        { name: "i32", shape: [], data: new Int32Array([-7]) },
        { name: "u32", shape: [1], data: new Uint32Array([4e9]) },
        { name: "i16", shape: [1], data: new Int16Array([-300]) },
        { name: "u16", shape: [1], data: new Uint16Array([60000]) },
        { name: "i8", shape: [1], data: new Int8Array([-5]) },
        { name: "u8", shape: [1], data: new Uint8Array([200]) },
        { name: "mask", shape: [2], data: new Uint8Array([1, 0]), dtype: "BOOL" },
      ],
      { format: "pt", epoch: "3" },
    );
    const { tensors, metadata } = decodeSafetensors(bytes, "mem");
    expect(metadata).toEqual({ format: "pt", epoch: "3" });
    expect(tensors.get("f32")).toEqual({
      dtype: "F32",
      shape: [2, 2],
      data: new Float32Array([1.5, -2, 3.25, 0.1]),
    });
    expect(tensors.get("f64")?.data).toEqual(new Float64Array([0.1, -1e300, Number.MIN_VALUE]));
    expect(tensors.get("f16")).toEqual({
      dtype: "F16",
      shape: [3],
      data: new Float32Array([1, -0.5, 65504]),
    });
    expect(tensors.get("bf16")).toEqual({ dtype: "BF16", shape: [2], data: new Float32Array([1, -3.5]) });
    expect(tensors.get("i64")?.data).toEqual(new BigInt64Array([-(2n ** 63n), 2n ** 62n]));
    expect(tensors.get("u64")?.data).toEqual(new BigUint64Array([2n ** 64n - 1n]));
    expect(tensors.get("i32")).toEqual({ dtype: "I32", shape: [], data: new Int32Array([-7]) });
    expect(tensors.get("u32")?.data).toEqual(new Uint32Array([4e9]));
    expect(tensors.get("i16")?.data).toEqual(new Int16Array([-300]));
    expect(tensors.get("u16")?.data).toEqual(new Uint16Array([60000]));
    expect(tensors.get("i8")?.data).toEqual(new Int8Array([-5]));
    expect(tensors.get("u8")?.data).toEqual(new Uint8Array([200]));
    expect(tensors.get("mask")).toEqual({ dtype: "BOOL", shape: [2], data: new Uint8Array([1, 0]) });
    expect([...tensors.keys()]).toEqual([
      "u64",
      "i64",
      "f64",
      "f32",
      "u32",
      "i32",
      "bf16",
      "f16",
      "u16",
      "i16",
      "i8",
      "u8",
      "mask",
    ]);
  });

  it("encodes a decoded file back to the same bytes", () => {
    const bytes = encodeSafetensors([
      { name: "b", shape: [2], data: new Float32Array([1, 2]) },
      { name: "a", shape: [1, 1], data: new Float64Array([3]) },
    ]);
    const { tensors } = decodeSafetensors(bytes, "mem");
    const again = encodeSafetensors([...tensors].map(([name, tensor]) => ({ name, ...tensor })));
    expect(again).toEqual(bytes);
  });

  it("reads unpadded headers (unaligned data), entries in any order, whitespace around the JSON, null metadata", () => {
    const data = new Uint8Array(new Float32Array([7, 8]).buffer);
    const header = `  {"y":${entry("F32", [1], 4, 8)},"x":${entry("F32", [1], 0, 4)},"__metadata__":null}\n`;
    const { tensors, metadata } = decodeSafetensors(file(header, data), "mem");
    expect(metadata).toEqual({});
    expect([...tensors.keys()]).toEqual(["x", "y"]);
    expect(tensors.get("y")?.data).toEqual(new Float32Array([8]));
  });

  it("copies the data out, so the input buffer may be reused", () => {
    const bytes = encodeSafetensors([{ name: "w", shape: [1], data: new Float32Array([5]) }]);
    const { tensors } = decodeSafetensors(bytes, "mem");
    bytes.fill(0);
    expect(tensors.get("w")?.data).toEqual(new Float32Array([5]));
  });
});

describe("decodeSafetensors refuses corrupt input, naming the source and the problem", () => {
  const f32 = new Uint8Array(4);
  const tooLarge = new Uint8Array(16);
  new DataView(tooLarge.buffer).setBigUint64(0, 100_000_001n, true);
  const truncatedHeader = file(`{"w":${entry("F32", [1], 0, 4)}}`, f32).subarray(0, 20);
  const cases: [string, Uint8Array, RegExp][] = [
    [
      "a file shorter than the length field",
      new Uint8Array(5),
      /the file is 5 bytes, shorter than the 8-byte header length/,
    ],
    [
      "a header over 100 MB",
      tooLarge,
      /header length field says 100000001 bytes, over the 100000000-byte limit/,
    ],
    [
      "a truncated header",
      truncatedHeader,
      /truncated header: the header length field says 54 bytes but only 12 follow it/,
    ],
    [
      "a header that is not UTF-8",
      file(new Uint8Array([123, 34, 0xff, 34, 58, 123, 125, 125])),
      /not valid UTF-8/,
    ],
    ["a header that is not JSON", file('{"w": {'), /the header is not valid JSON/],
    ["a header that is not an object", file("[1, 2]"), /must be a JSON object of tensors, found \[1,2\]/],
    ["a byte-order mark before the JSON", file("\ufeff{}"), /not valid JSON/],
    [
      "a repeated tensor name",
      file(`{"w":${entry("F32", [1], 0, 4)},"w":${entry("F32", [1], 0, 4)}}`, f32),
      /key "w" appears more than once in the header/,
    ],
    [
      "a repeated metadata key",
      file('{"__metadata__":{"k":"1","k":"2"}}'),
      /key "k" appears more than once in header entry "__metadata__"/,
    ],
    [
      "a non-string metadata value",
      file('{"__metadata__":{"epoch":3}}'),
      /"__metadata__"."epoch" must be a string, found 3/,
    ],
    [
      "an unknown dtype",
      file(`{"w":${entry("X32", [1], 0, 4)}}`, f32),
      /tensor "w": unknown dtype "X32" \(safetensors knows BOOL, F4/,
    ],
    [
      "a dtype cryptoml cannot read",
      file(`{"w":${entry("F8_E4M3", [4], 0, 4)}}`, f32),
      /tensor "w" has dtype F8_E4M3, which cryptoml cannot read/,
    ],
    [
      "a bad shape",
      file(`{"w":${entry("F32", [-1], 0, 4)}}`, f32),
      /tensor "w": shape must be a list of non-negative integers, found \[-1\]/,
    ],
    [
      "bad data_offsets",
      file(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, f32),
      /tensor "w": data_offsets must be \[begin, end\]/,
    ],
    [
      "a gap between tensors",
      file(`{"a":${entry("F32", [1], 0, 4)},"b":${entry("F32", [1], 8, 12)}}`, new Uint8Array(12)),
      /tensor "b" has data_offsets \[8, 12\] but "a" ends at 4: it leaves a gap/,
    ],
    [
      "overlapping tensors",
      file(`{"a":${entry("F32", [2], 0, 8)},"b":${entry("F32", [1], 4, 8)}}`, new Uint8Array(8)),
      /tensor "b" has data_offsets \[4, 8\] but "a" ends at 8: it overlaps the tensor before it/,
    ],
    [
      "a first tensor not at 0",
      file(`{"a":${entry("F32", [1], 4, 8)}}`, new Uint8Array(8)),
      /but the data section starts at 0/,
    ],
    [
      "offsets that disagree with shape and dtype",
      file(`{"a":${entry("F32", [2], 0, 4)}}`, f32),
      /tensor "a" is F32 \[2\], 8 bytes, but its data_offsets \[0, 4\] span 4/,
    ],
    [
      "offsets past the end of the file",
      file(`{"a":${entry("F32", [2], 0, 8)}}`, f32),
      /truncated data: the header places tensor bytes up to 8 but only 4 follow the header/,
    ],
    [
      "bytes after the last tensor",
      file(`{"a":${entry("F32", [1], 0, 4)}}`, new Uint8Array(6)),
      /2 unexpected bytes after the last tensor/,
    ],
    [
      "a shape too large to address",
      file(`{"a":${entry("F64", [2 ** 30, 2 ** 30, 2 ** 10], 0, 8)}}`, new Uint8Array(8)),
      /too large to address/,
    ],
  ];
  it.each(cases)("%s", (_label, bytes, message) => {
    const act = () => decodeSafetensors(bytes, "weights/model.safetensors");
    expect(act).toThrowError(DataFormatError);
    expect(act).toThrowError(/^weights\/model\.safetensors: safetensors: /);
    expect(act).toThrowError(message);
    try {
      act();
    } catch (error) {
      expect((error as DataFormatError).hint).toBeTruthy();
    }
  });
});
