/**
 * JSON-safe encodings for optimiser and scheduler state, so a checkpoint written with JSON.stringify
 * resumes bit-exactly: float32 buffers travel as base64 of their little-endian bytes (exact, and about
 * 5.3 characters per value instead of ~12 for decimal), and numbers that JSON cannot hold (±Infinity,
 * NaN) travel as the strings "Infinity", "-Infinity" and "NaN".
 */
import { optimError } from "./validate.js";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Base64 of the little-endian IEEE-754 bytes of `values`. */
export function encodeFloat32(values: Float32Array): string {
  if (LITTLE_ENDIAN) {
    return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("base64");
  }
  const bytes = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) bytes.writeFloatLE(values[i] as number, i * 4);
  return bytes.toString("base64");
}

/**
 * Decodes what `encodeFloat32` wrote into a fresh Float32Array of `length` values; `what` names the
 * buffer in the error when the length does not match.
 */
export function decodeFloat32(text: unknown, length: number, what: string): Float32Array {
  if (typeof text !== "string") throw optimError(`${what} must be a base64 string, got ${typeof text}`);
  const bytes = Buffer.from(text, "base64");
  if (bytes.length !== length * 4) {
    throw optimError(
      `${what} holds ${bytes.length / 4} float32 values but the parameter has ${length}`,
      BAD_STATE,
    );
  }
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

/** A number as JSON can carry it. */
export type JsonNumber = number | "Infinity" | "-Infinity" | "NaN";

export function encodeNumber(value: number): JsonNumber {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return "NaN";
  return value > 0 ? "Infinity" : "-Infinity";
}

export function decodeNumber(value: unknown, what: string): number {
  if (typeof value === "number") return value;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  if (value === "NaN") return NaN;
  throw optimError(`${what}=${JSON.stringify(value)} must be a number`, BAD_STATE);
}

/** The hint every state mismatch carries. */
export const BAD_STATE =
  "the state was saved by a different optimiser/scheduler or model; resume with the same configuration";

/** Reads a required field of a state object, failing with its name when it is absent or not an object. */
export function field(state: unknown, key: string, what: string): unknown {
  if (typeof state !== "object" || state === null) throw optimError(`${what} must be an object`, BAD_STATE);
  const value = (state as Record<string, unknown>)[key];
  if (value === undefined) throw optimError(`${what}.${key} is missing`, BAD_STATE);
  return value;
}

/** Checks `state.format` and `state.kind` before anything else is read. */
export function checkHeader(state: unknown, format: number, kind: string, what: string): void {
  const actualFormat = field(state, "format", what);
  if (actualFormat !== format) {
    throw optimError(`${what}.format=${JSON.stringify(actualFormat)} must be ${format}`, BAD_STATE);
  }
  const actualKind = field(state, "kind", what);
  if (actualKind !== kind) {
    throw optimError(`${what}.kind=${JSON.stringify(actualKind)} must be ${JSON.stringify(kind)}`, BAD_STATE);
  }
}
