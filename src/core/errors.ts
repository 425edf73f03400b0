/**
 * The error taxonomy of cryptoml: one root type with a stable, machine-readable code.
 * The CLI prints `message` (and `hint`) without a stack trace unless `--verbose`; the HTTP server
 * will map `code` to a status. Subclasses exist only where callers branch on them.
 */
export type ErrorCode =
  | "USAGE"
  | "CONFIG_INVALID"
  | "DATA_FORMAT"
  | "CHECKSUM_MISMATCH"
  | "NOT_FOUND"
  | "NETWORK"
  | "STORE"
  | "DATASET"
  | "INTERRUPTED"
  | "TRACKING"
  | "INTERNAL";

export interface CryptomlErrorOptions {
  /** What the user can do about it, printed on its own line after the message. */
  hint?: string;
  cause?: unknown;
}

export class CryptomlError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: CryptomlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Wrong command line: unknown option, missing argument, contradictory flags. */
export class UsageError extends CryptomlError {
  constructor(message: string, options: CryptomlErrorOptions = {}) {
    super("USAGE", message, options);
  }
}

/** A configuration file or override that does not validate; the message carries file:line and key path. */
export class ConfigError extends CryptomlError {
  /** Every problem found, one per line, each already formatted as `file:line key.path: value rule`. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options: CryptomlErrorOptions = {}) {
    super("CONFIG_INVALID", problems.join("\n"), options);
    this.problems = problems;
  }
}

/** Market data that cannot be read: names the file and, where known, the line. */
export class DataFormatError extends CryptomlError {
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, line: number | undefined, problem: string, options: CryptomlErrorOptions = {}) {
    super("DATA_FORMAT", `${line === undefined ? file : `${file}:${line}`}: ${problem}`, options);
    this.file = file;
    this.line = line;
  }
}

/** A downloaded or archived file whose SHA-256 differs from its published checksum. */
export class ChecksumError extends CryptomlError {
  constructor(file: string, expected: string, actual: string, options: CryptomlErrorOptions = {}) {
    super("CHECKSUM_MISMATCH", `${file}: SHA-256 is ${actual} but its .CHECKSUM says ${expected}`, {
      hint: "the file is corrupt or incomplete; delete it and download it again",
      ...options,
    });
  }
}

export class NotFoundError extends CryptomlError {
  constructor(message: string, options: CryptomlErrorOptions = {}) {
    super("NOT_FOUND", message, options);
  }
}

export class NetworkError extends CryptomlError {
  constructor(message: string, options: CryptomlErrorOptions = {}) {
    super("NETWORK", message, options);
  }
}

export function isCryptomlError(error: unknown): error is CryptomlError {
  return error instanceof CryptomlError;
}
