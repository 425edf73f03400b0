import { describe, expect, it } from "vitest";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./dtype.js";

// Inputs and the bit patterns PyTorch 2.13 gives for `x.half()` / `x.bfloat16()`, read as unsigned 16-bit.
const INPUTS = [
  1.0,
  -2.5,
  65504.0,
  65520.0,
  1e-8,
  6e-8,
  3.0e-5,
  Infinity,
  1.0009765625,
  1.00048828125,
  1.00146484375,
  Math.PI, // PyTorch was given 3.14159265; both round to the same half and bfloat16
];
const TORCH_F16 = [15360, 49408, 31743, 31744, 0, 1, 503, 31744, 15361, 15360, 15362, 16968];
const TORCH_BF16 = [16256, 49184, 18304, 18304, 12844, 13185, 14332, 32640, 16256, 16256, 16256, 16457];

describe("F16", () => {
  it("rounds like PyTorch's .half(): ties to even, overflow to infinity, subnormals", () => {
    expect(INPUTS.map(f32ToF16)).toEqual(TORCH_F16);
  });

  it("decodes every half exactly, and encoding gives the same bits back (NaN payloads too)", () => {
    for (let bits = 0; bits < 0x10000; bits += 1) {
      const value = f16ToF32(bits);
      if (Number.isNaN(value)) expect((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0).toBe(true);
      if (Number.isNaN(value) && (bits & 0x200) === 0) continue; // signalling NaNs come back quiet
      expect(f32ToF16(value)).toBe(bits);
    }
  });

  it("knows the landmarks", () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x0400)).toBe(2 ** -14);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(2 ** -25)).toBe(0); // exactly half the smallest subnormal: tie to even (0)
    expect(f32ToF16(2 ** -25 * 1.0001)).toBe(1);
    expect(f32ToF16(65519.99)).toBe(0x7bff);
    expect(f32ToF16(2 ** -14 - 2 ** -25)).toBe(0x0400); // the largest subnormal rounds up into the normals
  });
});

describe("BF16", () => {
  it("rounds like PyTorch's .bfloat16()", () => {
    expect(INPUTS.map(f32ToBf16)).toEqual(TORCH_BF16);
  });

  it("decodes every bfloat16 exactly and encodes it back to the same bits (NaN payloads too)", () => {
    for (let bits = 0; bits < 0x10000; bits += 1) {
      const value = bf16ToF32(bits);
      if (Number.isNaN(value) && (bits & 0x40) === 0) continue; // signalling NaNs come back quiet
      expect(f32ToBf16(value)).toBe(bits);
    }
  });

  it("keeps NaN a NaN and rounds the largest float to infinity only past the halfway point", () => {
    expect(Number.isNaN(bf16ToF32(f32ToBf16(Number.NaN)))).toBe(true);
    expect(bf16ToF32(f32ToBf16(3.4028234663852886e38))).toBe(Infinity);
    expect(bf16ToF32(f32ToBf16(-1.5))).toBe(-1.5);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie, even stays
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie, odd rounds up
  });
});
