/** Checkpoints as local files, written atomically. */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { syncDirectory, writeFileAtomic } from "../../core/atomic-file.js";
import { CryptomlError } from "../../core/errors.js";
import { type CheckpointIO, isCheckpointPath } from "./io.js";
import { type CheckpointState, decodeCheckpoint, encodeCheckpoint } from "./state.js";

/** Temporary files are `.<name>.<pid>.<random>.tmp` beside their target: hidden and never listed. */
const TEMPORARY = /^\..+\.\d+\.[0-9a-f]+\.tmp$/;

/**
 * Checkpoints on the local file system. `write` puts the bytes in a temporary file in the same directory,
 * fsyncs it, renames it over the target and fsyncs the directory, so a crash (even of the machine)
 * leaves the old checkpoint or the new one, never a torn one; a crash can leave a temporary file, which
 * `list` ignores and {@link LocalCheckpointIO.cleanTemporaries} deletes.
 */
export class LocalCheckpointIO implements CheckpointIO {
  async write(path: string, state: CheckpointState): Promise<void> {
    const bytes = encodeCheckpoint(state);
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytes);
  }

  async read(path: string): Promise<CheckpointState> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        throw new CryptomlError("NOT_FOUND", `${path}: no such checkpoint`, {
          hint: "check the path, or list the run's checkpoint directory",
          cause: error,
        });
      }
      throw error;
    }
    return decodeCheckpoint(bytes, path);
  }

  async list(dir: string): Promise<string[]> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    return entries
      .filter((entry) => entry.isFile() && isCheckpointPath(entry.name))
      .map((entry) => entry.name)
      .sort()
      .map((name) => join(dir, name));
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
    await syncDirectory(dirname(path));
  }

  /**
   * Deletes the temporary files a crash left in `dir` and returns their paths. Call it only when no
   * other process is writing checkpoints into `dir` (at the start of a resume), or it may delete a
   * write in progress.
   */
  async cleanTemporaries(dir: string): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const removed = names.filter((name) => TEMPORARY.test(name)).map((name) => join(dir, name));
    await Promise.all(removed.map((path) => rm(path, { force: true })));
    return removed;
  }
}
