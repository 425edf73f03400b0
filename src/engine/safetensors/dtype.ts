/**
 * The element types of the safetensors format: their names, sizes, the order the reference writer sorts
 * them in, and the conversions between half-precision bit patterns and Float32.
 */

/**
 * Every dtype name the reference implementation (safetensors 0.8) accepts, in its enum order. That order is
 * by increasing alignment, and the writer lays tensors out by *descending* position in it so that every
 * tensor starts aligned to its element size once the header is padded to 8 bytes.
 */
export const DTYPE_ORDER = [
  "BOOL",
  "F4",
  "F6_E2M3",
  "F6_E3M2",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "F8_E4M3FNUZ",
  "F8_E5M2FNUZ",
  "I16",
  "U16",
  "F16",
  "BF16",
  "I32",
  "U32",
  "F32",
  "C64",
  "F64",
  "I64",
  "U64",
] as const;

/** Any dtype name a valid file may contain. */
export type KnownDtype = (typeof DTYPE_ORDER)[number];

/** The dtypes cryptoml reads into and writes from typed arrays. */
export type Dtype =
  | "BOOL"
  | "U8"
  | "I8"
  | "I16"
  | "U16"
  | "F16"
  | "BF16"
  | "I32"
  | "U32"
  | "F32"
  | "F64"
  | "I64"
  | "U64";

/** The typed arrays a tensor's elements are held in. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

interface DtypeInfo {
  /** Bytes per element in the file. */
  readonly size: number;
  /** The typed array that views decoded elements; F16 and BF16 are widened to Float32Array instead. */
  readonly decodedAs: new (
    buffer: ArrayBuffer,
  ) => TensorData;
}

const SUPPORTED: Readonly<Record<Dtype, DtypeInfo>> = {
  BOOL: { size: 1, decodedAs: Uint8Array },
  U8: { size: 1, decodedAs: Uint8Array },
  I8: { size: 1, decodedAs: Int8Array },
  I16: { size: 2, decodedAs: Int16Array },
  U16: { size: 2, decodedAs: Uint16Array },
  F16: { size: 2, decodedAs: Float32Array },
  BF16: { size: 2, decodedAs: Float32Array },
  I32: { size: 4, decodedAs: Int32Array },
  U32: { size: 4, decodedAs: Uint32Array },
  F32: { size: 4, decodedAs: Float32Array },
  F64: { size: 8, decodedAs: Float64Array },
  I64: { size: 8, decodedAs: BigInt64Array },
  U64: { size: 8, decodedAs: BigUint64Array },
};

export function isKnownDtype(name: string): name is KnownDtype {
  return (DTYPE_ORDER as readonly string[]).includes(name);
}

export function isSupportedDtype(name: string): name is Dtype {
  return Object.hasOwn(SUPPORTED, name);
}

/** Bytes per element. */
export function dtypeSize(dtype: Dtype): number {
  return SUPPORTED[dtype].size;
}

export function decodedArrayType(dtype: Dtype): new (buffer: ArrayBuffer) => TensorData {
  return SUPPORTED[dtype].decodedAs;
}

/** Position in the reference enum; the writer sorts by this, descending. */
export function dtypeRank(dtype: KnownDtype): number {
  return DTYPE_ORDER.indexOf(dtype);
}

/** The dtype a typed array is written as when the caller does not ask for another. */
export function naturalDtype(data: TensorData): Dtype {
  if (data instanceof Float32Array) return "F32";
  if (data instanceof Float64Array) return "F64";
  if (data instanceof Int8Array) return "I8";
  if (data instanceof Uint8Array) return "U8";
  if (data instanceof Int16Array) return "I16";
  if (data instanceof Uint16Array) return "U16";
  if (data instanceof Int32Array) return "I32";
  if (data instanceof Uint32Array) return "U32";
  if (data instanceof BigInt64Array) return "I64";
  return "U64";
}

// One shared scratch word reinterprets float bits without allocating per element.
const scratch = new DataView(new ArrayBuffer(4));

function floatBits(value: number): number {
  scratch.setFloat32(0, value);
  return scratch.getUint32(0);
}

function bitsFloat(bits: number): number {
  scratch.setUint32(0, bits >>> 0);
  return scratch.getFloat32(0);
}

/** IEEE 754 binary16 bits → number (exact: every half value is a float32). */
export function f16ToF32(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) {
    // NaN keeps its sign and payload (in the top mantissa bits), so F16 → F32 → F16 gives the same bits.
    return mantissa === 0
      ? sign * Infinity
      : bitsFloat(((half & 0x8000) << 16) | 0x7f800000 | (mantissa << 13));
  }
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * number → binary16 bits, rounded to nearest with ties to even like PyTorch's `.half()`: values at or
 * above 65520 overflow to infinity, values below half the smallest subnormal flush to (signed) zero.
 * The value is first rounded to float32, as it would be when stored in a Float32Array.
 */
export function f32ToF16(value: number): number {
  const bits = floatBits(value);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  const unbiased = exponent - 127;
  if (unbiased > 15) return sign | 0x7c00;
  if (unbiased >= -14) {
    // Normal half: drop 13 mantissa bits with round-half-even; a carry may roll into the exponent,
    // and from the largest finite value into infinity, which is exactly the right result.
    const half = ((unbiased + 15) << 10) | (mantissa >>> 13);
    return sign | (half + roundBit(mantissa, 13));
  }
  if (unbiased < -25) return sign;
  // Subnormal half: the implicit leading one becomes explicit and the value shifts right.
  const full = mantissa | 0x800000;
  const shift = -1 - unbiased;
  return sign | ((full >>> shift) + roundBit(full, shift));
}

/** 1 when dropping the low `shift` bits of `value` must round up (nearest, ties to even), else 0. */
function roundBit(value: number, shift: number): number {
  const dropped = value & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (dropped > halfway) return 1;
  if (dropped < halfway) return 0;
  return (value >>> shift) & 1;
}

/** bfloat16 bits → number (exact: bfloat16 is the top half of a float32). */
export function bf16ToF32(bf16: number): number {
  return bitsFloat(bf16 << 16);
}

/**
 * number → bfloat16 bits, rounded to nearest with ties to even. NaN is truncated (sign and top payload
 * bits kept, quiet bit set so it cannot become infinity), so BF16 → F32 → BF16 gives the same bits.
 */
export function f32ToBf16(value: number): number {
  const bits = floatBits(value);
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return (bits >>> 16) | 0x0040;
  return (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
}

/** True on every platform Node ships for today except s390x; the file format is little-endian. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reorders, in place, the bytes of each `size`-byte element between the host's order and the file's
 * little-endian order (the same swap works both ways). Does nothing on little-endian hosts.
 */
export function swapToFileOrder(bytes: Uint8Array, size: number): void {
  if (HOST_IS_LITTLE_ENDIAN || size === 1) return;
  for (let start = 0; start < bytes.length; start += size) bytes.subarray(start, start + size).reverse();
}
