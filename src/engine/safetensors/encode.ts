/**
 * Writing the safetensors format byte for byte as the reference writer (huggingface/safetensors, used by
 * `safetensors.torch.save_file`) does: tensors sorted by descending dtype alignment then by name (UTF-8
 * byte order), compact JSON with `__metadata__` first, the header padded with spaces to a multiple of
 * 8 bytes so that every tensor starts aligned to its element size.
 */
import { CryptomlError } from "../../core/errors.js";
import { formatShape, METADATA_KEY } from "./decode.js";
import {
  type Dtype,
  dtypeRank,
  dtypeSize,
  f32ToBf16,
  f32ToF16,
  naturalDtype,
  swapToFileOrder,
  type TensorData,
} from "./dtype.js";

/** One tensor to write. */
export interface TensorToWrite {
  /** The key in the file, e.g. PyTorch's `rnn.weight_ih_l0`. */
  readonly name: string;
  /** Row-major dimensions; `[]` is a scalar (one element). */
  readonly shape: readonly number[];
  readonly data: TensorData;
  /**
   * The dtype stored in the file. Default: the array's own type (Float32Array → F32, Float64Array → F64,
   * Int32Array → I32, BigInt64Array → I64, Uint8Array → U8, ...). A Float32Array may also be stored as
   * F16 or BF16 (rounded to nearest, ties to even, like PyTorch's `.half()` / `.bfloat16()`), and a
   * Uint8Array as BOOL.
   */
  readonly dtype?: Dtype;
}

/** A tensor after validation, with its file bytes. */
interface Prepared {
  readonly name: string;
  readonly nameBytes: Uint8Array;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

const utf8 = new TextEncoder();

/**
 * The bytes of a safetensors file holding `tensors` and, when given, `metadata` (string values only,
 * as the format requires). The same inputs always give the same bytes; metadata keys are written in
 * sorted order (the reference writer's order is that of a hash map, so it varies from run to run).
 * @throws CryptomlError (DATA_FORMAT) when a name repeats or is reserved, a shape does not match
 *   the data's length, or the requested dtype cannot hold the array's values.
 */
export function encodeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const prepared = tensors.map(prepare);
  checkNames(prepared);
  prepared.sort(
    (a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || Buffer.compare(a.nameBytes, b.nameBytes),
  );
  const header = utf8.encode(headerJson(prepared, metadata));
  const headerLength = header.length + ((8 - (header.length % 8)) % 8);
  const dataLength = prepared.reduce((sum, tensor) => sum + tensor.bytes.length, 0);
  const out = new Uint8Array(8 + headerLength + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(header, 8);
  out.fill(0x20, 8 + header.length, 8 + headerLength);
  let position = 8 + headerLength;
  for (const tensor of prepared) {
    out.set(tensor.bytes, position);
    position += tensor.bytes.length;
  }
  return out;
}

function headerJson(
  prepared: readonly Prepared[],
  metadata: Readonly<Record<string, string>> | undefined,
): string {
  const parts: string[] = [];
  if (metadata !== undefined) parts.push(`${JSON.stringify(METADATA_KEY)}:${metadataJson(metadata)}`);
  let offset = 0;
  for (const tensor of prepared) {
    const end = offset + tensor.bytes.length;
    parts.push(
      `${JSON.stringify(tensor.name)}:{"dtype":"${tensor.dtype}","shape":[${tensor.shape.join(",")}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  return `{${parts.join(",")}}`;
}

function metadataJson(metadata: Readonly<Record<string, string>>): string {
  const entries = Object.entries(metadata);
  for (const [key, value] of entries) {
    if (typeof value !== "string") {
      throw invalid(
        `metadata "${key}" is ${typeof value}; safetensors metadata values must be strings`,
        "convert it with String() or JSON.stringify()",
      );
    }
    checkWellFormed(key, `metadata key "${key}"`);
    checkWellFormed(value, `metadata "${key}"`);
  }
  entries.sort(([a], [b]) => Buffer.compare(utf8.encode(a), utf8.encode(b)));
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(",")}}`;
}

function prepare(tensor: TensorToWrite): Prepared {
  const { name, shape, data } = tensor;
  checkWellFormed(name, `tensor name "${name}"`);
  if (!shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw invalid(`tensor "${name}": shape ${formatShape(shape)} must hold non-negative integers`);
  }
  const elements = shape.reduce((product, dim) => product * dim, 1);
  if (elements !== data.length) {
    throw invalid(
      `tensor "${name}": shape ${formatShape(shape)} has ${elements} elements but its data has ${data.length}`,
      "pass the shape the data was created with (row-major)",
    );
  }
  const dtype = tensor.dtype ?? naturalDtype(data);
  return {
    name,
    nameBytes: utf8.encode(name),
    dtype,
    shape: [...shape],
    bytes: toFileBytes(name, data, dtype),
  };
}

function toFileBytes(name: string, data: TensorData, dtype: Dtype): Uint8Array {
  const natural = naturalDtype(data);
  if (dtype === natural || (dtype === "BOOL" && natural === "U8")) {
    if (dtype === "BOOL" && (data as Uint8Array).some((value) => value > 1)) {
      throw invalid(`tensor "${name}": BOOL data must hold only 0 and 1`);
    }
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    swapToFileOrder(bytes, dtypeSize(dtype));
    return bytes;
  }
  if ((dtype === "F16" || dtype === "BF16") && data instanceof Float32Array) {
    const halves = new Uint16Array(data.length);
    const convert = dtype === "F16" ? f32ToF16 : f32ToBf16;
    for (let i = 0; i < data.length; i += 1) halves[i] = convert(data[i] ?? 0);
    const bytes = new Uint8Array(halves.buffer);
    swapToFileOrder(bytes, 2);
    return bytes;
  }
  throw invalid(
    `tensor "${name}": a ${data.constructor.name} cannot be written as ${dtype}`,
    "write it as its own dtype (F32 for Float32Array, ...), or F16/BF16 from a Float32Array, or BOOL from a Uint8Array",
  );
}

function checkNames(prepared: readonly Prepared[]): void {
  const seen = new Set<string>();
  for (const { name } of prepared) {
    if (name === METADATA_KEY) {
      throw invalid(
        `a tensor cannot be named "${METADATA_KEY}": the format reserves that key for metadata`,
        "rename the tensor",
      );
    }
    if (seen.has(name))
      throw invalid(`tensor "${name}" is given twice`, "every tensor needs a distinct name");
    seen.add(name);
  }
}

/** A lone UTF-16 surrogate has no UTF-8 encoding; TextEncoder would silently write U+FFFD instead. */
function checkWellFormed(text: string, what: string): void {
  if (/\p{Surrogate}/u.test(text)) {
    throw invalid(`${what} contains a lone UTF-16 surrogate, which UTF-8 cannot encode`);
  }
}

function invalid(problem: string, hint?: string): CryptomlError {
  return new CryptomlError("DATA_FORMAT", `safetensors: ${problem}`, hint === undefined ? {} : { hint });
}
