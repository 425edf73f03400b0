import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Writes `bytes` to a new file at `path` and flushes them to disk (fsync) before returning. */
export async function writeDurably(path: string, bytes: Uint8Array | string, flags = "w"): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes renames in `directory` durable. Some platforms (Windows) cannot open a directory; that is not an
 * error, since the data itself was synced before the rename.
 */
export async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort only.
  }
}

/**
 * Replaces `path` atomically: the bytes go to a hidden temporary file beside it
 * (`.<name>.<pid>.<random>.tmp`), are fsynced, and the temporary file is renamed over `path`; then the
 * directory is synced. A crash or a full disk leaves the old file or the new one, never half of one (a
 * crash may leave the temporary file). The parent directory must exist.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const directory = dirname(path);
  const temporary = join(
    directory,
    `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`,
  );
  try {
    await writeDurably(temporary, bytes, "wx");
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(directory);
}
