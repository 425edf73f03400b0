/** Safetensors files on disk: atomic writes, whole-file reads. */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CryptomlError } from "../../core/errors.js";
import { decodeSafetensors, type SafetensorsContents } from "./decode.js";
import { encodeSafetensors, type TensorToWrite } from "./encode.js";

/**
 * Writes `tensors` (and `metadata`) to `path` as safetensors, atomically: the bytes go to a temporary
 * file beside `path`, are flushed to disk (fsync), and the temporary file is renamed over `path`. A
 * crash or a full disk therefore leaves either the old file or the new one, never half of one.
 * The parent directory must exist. See {@link encodeSafetensors} for the layout and validation.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  await writeAtomically(path, encodeSafetensors(tensors, metadata));
}

/**
 * Reads the safetensors file at `path` whole into memory.
 * @throws DataFormatError naming `path` and what is wrong when the file is malformed or truncated;
 *   CryptomlError (NOT_FOUND) when it does not exist.
 */
export async function readSafetensors(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CryptomlError("NOT_FOUND", `${path}: no such safetensors file`, {
        hint: "check the path, or write the weights first",
        cause: error,
      });
    }
    throw error;
  }
  return decodeSafetensors(bytes, path);
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`,
  );
  try {
    const handle = await open(temporary, "w");
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Makes the rename itself durable. Some platforms (Windows) cannot open a directory; that is not an error. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort only: the data itself was already synced before the rename.
  }
}
