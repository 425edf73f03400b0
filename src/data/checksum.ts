import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { ChecksumError, DataFormatError } from "../core/errors.js";

/** SHA-256 of a file, hex, streamed so large archives need no memory. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Parses a Binance `.CHECKSUM` file: one line `<sha256 hex>  <file name>` as written by sha256sum.
 * Returns the expected digest for `fileName`.
 */
export function parseChecksumFile(checksumPath: string, text: string, fileName: string): string {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  for (const [index, line] of lines.entries()) {
    const match = /^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$/.exec(line);
    if (!match) {
      throw new DataFormatError(checksumPath, index + 1, 'expected "<64 hex digits>  <file name>"');
    }
    if (match[2] === fileName) return (match[1] as string).toLowerCase();
  }
  throw new DataFormatError(checksumPath, undefined, `no checksum line for ${fileName}`);
}

/** Verifies `path` against `path + ".CHECKSUM"`; throws ChecksumError on a mismatch. */
export async function verifyAgainstChecksumFile(
  path: string,
  checksumPath = `${path}.CHECKSUM`,
): Promise<string> {
  const expected = parseChecksumFile(checksumPath, await readFile(checksumPath, "utf8"), basename(path));
  const actual = await sha256File(path);
  if (actual !== expected) throw new ChecksumError(path, expected, actual);
  return actual;
}
