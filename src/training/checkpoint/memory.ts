/** Checkpoints in memory, for tests and dry runs. */
import { dirname, normalize } from "node:path";
import { CryptomlError } from "../../core/errors.js";
import { type CheckpointIO, isCheckpointPath } from "./io.js";
import { type CheckpointState, decodeCheckpoint, encodeCheckpoint } from "./state.js";

/**
 * Keeps each checkpoint as the bytes a file would hold, so reading back goes through the same
 * encoding and validation as {@link LocalCheckpointIO}. A write replaces the map entry in one step,
 * which is atomic by construction.
 */
export class MemoryCheckpointIO implements CheckpointIO {
  private readonly files = new Map<string, Uint8Array>();

  async write(path: string, state: CheckpointState): Promise<void> {
    this.files.set(normalize(path), encodeCheckpoint(state));
  }

  async read(path: string): Promise<CheckpointState> {
    const bytes = this.files.get(normalize(path));
    if (bytes === undefined) {
      throw new CryptomlError("NOT_FOUND", `${path}: no such checkpoint`, {
        hint: "check the path, or list the run's checkpoint directory",
      });
    }
    return decodeCheckpoint(bytes, path);
  }

  async list(dir: string): Promise<string[]> {
    const directory = normalize(dir).replace(/\/+$/, "") || "/";
    return [...this.files.keys()]
      .filter((path) => dirname(path) === directory && isCheckpointPath(path))
      .sort();
  }

  async remove(path: string): Promise<void> {
    this.files.delete(normalize(path));
  }

  /** The stored bytes of `path`, for tests that corrupt them; undefined when there is none. */
  bytes(path: string): Uint8Array | undefined {
    return this.files.get(normalize(path));
  }

  /** Replaces the stored bytes of `path` as they are, unchecked (to simulate a damaged file). */
  setBytes(path: string, bytes: Uint8Array): void {
    this.files.set(normalize(path), bytes);
  }
}
