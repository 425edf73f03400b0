/** Safetensors files on disk: atomic writes, whole-file reads. */
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../../core/atomic-file.js";
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
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
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
