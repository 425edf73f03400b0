/**
 * Option checks shared by the optimisers, gradient clipping and the LR schedulers. Every failure is a
 * CryptomlError with code USAGE whose message quotes the parameter, its value and the rule
 * (`lr=-1 must be > 0`), so a bad config is fixed from the message alone. The comparisons are written
 * negated (`!(value > min)`) so NaN fails every rule instead of slipping through.
 */
import { CryptomlError } from "../../core/errors.js";

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** A USAGE error for a bad optimiser/scheduler option or state. */
export function optimError(message: string, hint?: string): CryptomlError {
  return new CryptomlError("USAGE", message, hint === undefined ? {} : { hint });
}

/** `value` must be a number > `min` (Infinity allowed only when `allowInfinity`). */
export function requireAbove(name: string, value: number, min: number, allowInfinity = false): void {
  if (typeof value !== "number" || !(value > min) || (!allowInfinity && value === Infinity)) {
    throw optimError(`${name}=${show(value)} must be ${allowInfinity ? "" : "a finite number "}> ${min}`);
  }
}

/** `value` must be a finite number >= `min`. */
export function requireAtLeast(name: string, value: number, min: number): void {
  if (typeof value !== "number" || !(value >= min) || value === Infinity) {
    throw optimError(`${name}=${show(value)} must be a finite number >= ${min}`);
  }
}

/** `value` must lie in [`min`, `max`). */
export function requireInRange(name: string, value: number, min: number, max: number): void {
  if (typeof value !== "number" || !(value >= min && value < max)) {
    throw optimError(`${name}=${show(value)} must be in [${min}, ${max})`);
  }
}

/** `value` must lie in [`min`, `max`]. */
export function requireInClosedRange(name: string, value: number, min: number, max: number): void {
  if (typeof value !== "number" || !(value >= min && value <= max)) {
    throw optimError(`${name}=${show(value)} must be in [${min}, ${max}]`);
  }
}

/** `value` must be a finite number (any sign). */
export function requireFinite(name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw optimError(`${name}=${show(value)} must be a finite number`);
  }
}

/** `value` must be an integer >= `min`. */
export function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw optimError(`${name}=${show(value)} must be an integer >= ${min}`);
  }
}

/** `value` must be a boolean (options often arrive from YAML/JSON, where "false" is a string). */
export function requireBoolean(name: string, value: unknown): void {
  if (typeof value !== "boolean") throw optimError(`${name}=${show(value)} must be true or false`);
}

/** `value` must be one of `allowed`. */
export function requireOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw optimError(`${name}=${show(value)} must be one of ${allowed.map((a) => show(a)).join(", ")}`);
  }
  return value as T;
}
