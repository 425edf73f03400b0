/**
 * Reading the safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * describing each tensor (`dtype`, `shape`, `data_offsets` relative to the end of the header) plus an
 * optional `__metadata__` map of strings, then the tensors' bytes, packed without gaps.
 * Validation follows the reference implementation (huggingface/safetensors) and is stricter in one
 * place: a key repeated in the header is refused, where the reference silently keeps the last one.
 */
import { DataFormatError } from "../../core/errors.js";
import {
  bf16ToF32,
  DTYPE_ORDER,
  type Dtype,
  decodedArrayType,
  dtypeSize,
  f16ToF32,
  isKnownDtype,
  isSupportedDtype,
  swapToFileOrder,
  type TensorData,
} from "./dtype.js";
import { findDuplicateKey } from "./duplicate-keys.js";

/** The reference implementation refuses larger headers; so do we, before allocating anything. */
export const MAX_HEADER_BYTES = 100_000_000;

/** The key of the optional string-to-string map in the header. */
export const METADATA_KEY = "__metadata__";

/** One tensor as read. F16 and BF16 elements are widened to a Float32Array; `dtype` says what the file held. */
export interface DecodedTensor {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

export interface SafetensorsContents {
  /** Tensors by name, in the order their bytes appear in the file. */
  readonly tensors: Map<string, DecodedTensor>;
  /** The header's `__metadata__` strings; empty when the file has none. */
  readonly metadata: Record<string, string>;
}

/** A tensor's header entry once validated. */
interface Entry {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

const REWRITE_HINT = "the file is corrupt or was not written as safetensors; write or download it again";

/**
 * Parses a whole safetensors file held in memory. `sourceName` (a path, or a label such as
 * `"<upload>"`) only appears in error messages. Tensor data is copied out, so `bytes` can be reused.
 * @throws DataFormatError naming `sourceName` and what is wrong, for any malformed or truncated input.
 */
export function decodeSafetensors(bytes: Uint8Array, sourceName: string): SafetensorsContents {
  const fail = (problem: string, hint = REWRITE_HINT): DataFormatError =>
    new DataFormatError(sourceName, undefined, `safetensors: ${problem}`, { hint });
  const headerLength = readHeaderLength(bytes, fail);
  const header = parseHeader(bytes.subarray(8, 8 + headerLength), fail);
  const { entries, metadata } = readEntries(header, fail);
  const dataStart = 8 + headerLength;
  checkLayout(entries, bytes.length - dataStart, fail);
  const tensors = new Map<string, DecodedTensor>();
  for (const entry of entries) {
    const raw = bytes.subarray(dataStart + entry.begin, dataStart + entry.end);
    tensors.set(entry.name, {
      dtype: entry.dtype,
      shape: entry.shape,
      data: decodeElements(raw, entry.dtype),
    });
  }
  return { tensors, metadata };
}

type Fail = (problem: string, hint?: string) => DataFormatError;

function readHeaderLength(bytes: Uint8Array, fail: Fail): number {
  if (bytes.length < 8) {
    throw fail(
      `the file is ${bytes.length} bytes, shorter than the 8-byte header length that starts every file`,
    );
  }
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw fail(
      `the header length field says ${declared} bytes, over the ${MAX_HEADER_BYTES}-byte limit`,
      "this is not a safetensors file (its first 8 bytes are not a plausible header length), or it is corrupt",
    );
  }
  const length = Number(declared);
  if (8 + length > bytes.length) {
    throw fail(
      `truncated header: the header length field says ${length} bytes but only ${bytes.length - 8} follow it`,
      "the file was cut short (interrupted write or download?); write or download it again",
    );
  }
  return length;
}

function parseHeader(headerBytes: Uint8Array, fail: Fail): Record<string, unknown> {
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text so that JSON.parse refuses it, as the reference does.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw fail("the JSON header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw fail(`the header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw fail(`the header must be a JSON object of tensors, found ${describe(header)}`);
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    const where = duplicate.path === "" ? "the header" : `header entry "${duplicate.path}"`;
    throw fail(`key "${duplicate.key}" appears more than once in ${where}`);
  }
  return header as Record<string, unknown>;
}

function readEntries(
  header: Record<string, unknown>,
  fail: Fail,
): { entries: Entry[]; metadata: Record<string, string> } {
  const entries: Entry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = readMetadata(value, fail);
    else entries.push(readEntry(name, value, fail));
  }
  // Files from other writers may list tensors in any order; the layout is checked in byte order.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  return { entries, metadata };
}

function readMetadata(value: unknown, fail: Fail): Record<string, string> {
  // The reference reads `null` as "no metadata"; so do we.
  if (value === null) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail(`"${METADATA_KEY}" must be an object of strings, found ${describe(value)}`);
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string") {
      throw fail(`"${METADATA_KEY}"."${key}" must be a string, found ${describe(item)}`);
    }
  }
  // Object.fromEntries defines own properties, so a key such as "__proto__" stays an ordinary key.
  return Object.fromEntries(Object.entries(value as Record<string, string>));
}

function readEntry(name: string, value: unknown, fail: Fail): Entry {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw fail(`tensor "${name}": its header entry must be an object, found ${describe(value)}`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== "string" || !isKnownDtype(dtype)) {
    throw fail(
      `tensor "${name}": unknown dtype ${describe(dtype)} (safetensors knows ${DTYPE_ORDER.join(", ")})`,
    );
  }
  if (!isSupportedDtype(dtype)) {
    throw fail(
      `tensor "${name}" has dtype ${dtype}, which cryptoml cannot read`,
      "convert it before saving, e.g. in PyTorch `tensor.float()`; cryptoml reads BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64 and U64",
    );
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw fail(`tensor "${name}": shape must be a list of non-negative integers, found ${describe(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw fail(`tensor "${name}": data_offsets must be [begin, end] in bytes, found ${describe(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  return { name, dtype, shape: shape as number[], begin, end };
}

/**
 * Tensors must tile the data section exactly: each starts where the previous ends, each spans
 * elements × element size bytes, and the last ends at the end of the file.
 */
function checkLayout(entries: readonly Entry[], dataLength: number, fail: Fail): void {
  let position = 0;
  let previous: Entry | undefined;
  for (const entry of entries) {
    if (entry.begin !== position || entry.end < entry.begin) {
      const after =
        previous === undefined ? "the data section starts at 0" : `"${previous.name}" ends at ${position}`;
      const kind = entry.begin < position ? "overlaps the tensor before it" : "leaves a gap";
      throw fail(
        `tensor "${entry.name}" has data_offsets [${entry.begin}, ${entry.end}] but ${after}: it ${entry.end < entry.begin ? "ends before it begins" : kind} (tensors must be packed back to back)`,
      );
    }
    const bytes = byteLength(entry, fail);
    if (entry.end - entry.begin !== bytes) {
      throw fail(
        `tensor "${entry.name}" is ${entry.dtype} ${formatShape(entry.shape)}, ${bytes} bytes, but its data_offsets [${entry.begin}, ${entry.end}] span ${entry.end - entry.begin}`,
      );
    }
    position = entry.end;
    previous = entry;
  }
  if (position > dataLength) {
    throw fail(
      `truncated data: the header places tensor bytes up to ${position} but only ${dataLength} follow the header`,
      "the file was cut short (interrupted write or download?); write or download it again",
    );
  }
  if (position < dataLength) {
    throw fail(
      `${dataLength - position} unexpected bytes after the last tensor (the tensors cover ${position} of ${dataLength})`,
    );
  }
}

function byteLength(entry: Entry, fail: Fail): number {
  let elements = 1;
  for (const dim of entry.shape) elements *= dim;
  const bytes = elements * dtypeSize(entry.dtype);
  if (!Number.isSafeInteger(bytes)) {
    throw fail(`tensor "${entry.name}" has shape ${formatShape(entry.shape)}, too large to address`);
  }
  return bytes;
}

function decodeElements(raw: Uint8Array, dtype: Dtype): TensorData {
  // A fresh buffer, so every view below starts aligned to its element size. (Not raw.slice(): on a
  // Node Buffer, as readFile returns, slice() is a view and not a copy.)
  const copy = new Uint8Array(raw);
  const size = dtypeSize(dtype);
  swapToFileOrder(copy, size);
  if (dtype === "F16" || dtype === "BF16") {
    const halves = new Uint16Array(copy.buffer);
    const widened = new Float32Array(halves.length);
    const convert = dtype === "F16" ? f16ToF32 : bf16ToF32;
    for (let i = 0; i < halves.length; i += 1) widened[i] = convert(halves[i] ?? 0);
    return widened;
  }
  const ArrayType = decodedArrayType(dtype);
  return new ArrayType(copy.buffer);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
