/** The IO layer of checkpoints: where checkpoint files live, behind one small interface. */
import { basename } from "node:path";
import type { CheckpointState } from "./state.js";

/** The extension of checkpoint files: they are safetensors files (PyTorch loads their weights). */
export const CHECKPOINT_EXTENSION = ".safetensors";

/**
 * Stores checkpoints by path. Every implementation passes the contract suite in `io.test.ts`.
 * Writes are atomic: after a crash at any moment, `read(path)` returns the previous checkpoint or the
 * new one, and `list` never shows a partial file.
 */
export interface CheckpointIO {
  /** Writes `state` to `path`, replacing what is there, atomically; creates the directory when needed. */
  write(path: string, state: CheckpointState): Promise<void>;
  /**
   * Reads the checkpoint at `path`.
   * @throws CryptomlError (NOT_FOUND) when there is none; DataFormatError naming `path` with a hint when
   *   it is truncated, corrupt, or of an unsupported version.
   */
  read(path: string): Promise<CheckpointState>;
  /** The paths of the checkpoints directly in `dir`, sorted by name; `[]` when `dir` does not exist. */
  list(dir: string): Promise<string[]>;
  /** Deletes the checkpoint at `path`; nothing happens when there is none. */
  remove(path: string): Promise<void>;
}

/** Whether `path` names a checkpoint file (and not a temporary file or anything else). */
export function isCheckpointPath(path: string): boolean {
  const name = basename(path);
  return (
    name.endsWith(CHECKPOINT_EXTENSION) && !name.startsWith(".") && name.length > CHECKPOINT_EXTENSION.length
  );
}
