/**
 * The journal on a file, as Optuna's `JournalFileBackend` keeps it: one JSON operation per line, appended
 * under a lock shared with Optuna's processes (its default `JournalFileSymlinkLock`: a symbolic link
 * `<path>.lock` exists while a writer holds the lock), read incrementally from the byte offset where the
 * last read stopped. Works across processes and machines on one file system (NFS included), as Optuna's.
 */
import { randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { open, readFile, rename, stat, symlink, truncate, unlink } from "node:fs/promises";
import { basename } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { TuningError } from "../errors.js";
import { pythonJsonDumps, pythonJsonLoads } from "./journal-codec.js";
import type { JournalLog } from "./journal-log.js";

/** Where a journal keeps its operations: Optuna's `BaseJournalBackend`. */
export interface JournalBackend {
  /** The operations from number `from` (0-based, in log order) to the current end. */
  readLogs(from: number): Promise<JournalLog[]>;
  /** Appends operations atomically with respect to other writers. */
  appendLogs(logs: readonly JournalLog[]): Promise<void>;
  close(): Promise<void>;
}

export interface FileLockOptions {
  /** Seconds a lock may stay unchanged before it is taken as abandoned and broken (Optuna: 30). */
  gracePeriodSeconds?: number;
  /** Longest pause between attempts, in milliseconds (Optuna backs off to 1 s; we poll faster). */
  maxBackoffMs?: number;
}

/**
 * Optuna's `JournalFileSymlinkLock`: acquiring creates the symlink `<path>.lock` (atomic, fails when it
 * exists, and NFSv2-safe); releasing renames it to a unique name first so that only the holder removes it.
 */
export class JournalFileSymlinkLock {
  readonly lockPath: string;
  private readonly graceMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    readonly targetPath: string,
    options: FileLockOptions = {},
  ) {
    this.lockPath = `${targetPath}.lock`;
    this.graceMs = (options.gracePeriodSeconds ?? 30) * 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 100;
  }

  async acquire(): Promise<void> {
    let pause = 1;
    let seenMtime: number | undefined;
    let seenAt = Date.now();
    for (;;) {
      try {
        // The link points at the journal by its base name, so that it resolves beside the lock (Optuna
        // links the path as given, which can dangle for a relative path in another directory).
        await symlink(basename(this.targetPath), this.lockPath);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
          throw new TuningError(
            "STORAGE",
            `cannot create the journal lock ${this.lockPath}: ${String(error)}`,
            {
              hint: "check that the journal's directory exists and is writable",
              cause: error,
            },
          );
        }
      }
      // Optuna's staleness test: the lock's mtime (through the link: the journal's) has not moved for the
      // grace period, so its holder died; break it.
      const mtime = await stat(this.lockPath).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      if (mtime !== undefined && mtime !== seenMtime) {
        seenMtime = mtime;
        seenAt = Date.now();
      } else if (mtime !== undefined && Date.now() - seenAt > this.graceMs) {
        await this.release().catch(() => undefined);
        pause = 1;
      }
      await sleep(pause);
      pause = Math.min(pause * 2, this.maxBackoffMs);
    }
  }

  async release(): Promise<void> {
    const renamed = `${this.lockPath}${randomUUID()}.rename`;
    await rename(this.lockPath, renamed);
    await unlink(renamed);
  }

  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      await this.release().catch(() => undefined);
    }
  }
}

/** Optuna's `JournalFileBackend` on `path` (created when missing). */
export class JournalFileBackend implements JournalBackend {
  private readonly lock: JournalFileSymlinkLock;
  /** Byte offset where each log number starts, as far as the file has been read. */
  private readonly offsets = new Map<number, number>([[0, 0]]);

  private constructor(
    readonly path: string,
    lockOptions: FileLockOptions,
  ) {
    this.lock = new JournalFileSymlinkLock(path, lockOptions);
  }

  static async open(path: string, lockOptions: FileLockOptions = {}): Promise<JournalFileBackend> {
    try {
      await (await open(path, "a")).close();
    } catch (error) {
      throw new TuningError("STORAGE", `cannot open the journal file ${path}: ${String(error)}`, {
        hint: "check that the directory exists and is writable",
        cause: error,
      });
    }
    return new JournalFileBackend(path, lockOptions);
  }

  async readLogs(from: number): Promise<JournalLog[]> {
    // Start from the furthest known offset at or before `from` (Optuna keeps the same map).
    let start = 0;
    for (const n of this.offsets.keys()) if (n <= from && n > start) start = n;
    const startOffset = this.offsets.get(start) as number;
    const data = await readFrom(this.path, startOffset);
    const logs: JournalLog[] = [];
    let offset = 0;
    let number = start;
    while (offset < data.length) {
      const end = data.indexOf(0x0a, offset);
      // No newline: a line still being written, or torn by a crash; it is not part of the log (yet).
      if (end < 0) break;
      const line = data.subarray(offset, end + 1).toString("utf8");
      let log: JournalLog;
      try {
        log = pythonJsonLoads(line) as JournalLog;
      } catch (error) {
        // Optuna tolerates an undecodable last line and fails on one in the middle.
        if (end + 1 >= data.length) break;
        throw new TuningError(
          "STORAGE",
          `the journal ${this.path} has a corrupt line at operation ${number}: ${String(error)}`,
          {
            hint: "restore the journal from a backup, or cut it before that line to drop the operations after it",
            cause: error,
          },
        );
      }
      offset = end + 1;
      number += 1;
      this.offsets.set(number, startOffset + offset);
      if (number > from) logs.push(log);
    }
    return logs;
  }

  async appendLogs(logs: readonly JournalLog[]): Promise<void> {
    if (logs.length === 0) return;
    const text = `${logs.map((log) => pythonJsonDumps(log, "compact")).join("\n")}\n`;
    await this.lock.withLock(async () => {
      await repairTornTail(this.path);
      const handle = await open(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT);
      try {
        await handle.write(text);
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  async close(): Promise<void> {}
}

/** The file's bytes from `offset` to its size now (a writer may be appending meanwhile). */
async function readFrom(path: string, offset: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const length = Math.max(0, size - offset);
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await handle.read(buffer, read, length - read, offset + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return buffer.subarray(0, read);
  } finally {
    await handle.close();
  }
}

/**
 * Cuts an incomplete last line (a writer that crashed mid-write). Called under the lock, so no write is
 * in flight; without it the next operation would be glued onto the torn bytes and Optuna would fail on
 * the merged line. Returns the number of bytes cut.
 */
export async function repairTornTail(path: string): Promise<number> {
  const { size } = await stat(path);
  if (size === 0) return 0;
  const handle = await open(path, "r");
  let cut = 0;
  try {
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    if (last[0] === 0x0a) return 0;
  } finally {
    await handle.close();
  }
  // Rare (only after a crash), so reading the whole file to find the last newline is fine.
  const data = await readFile(path);
  const keep = data.lastIndexOf(0x0a) + 1;
  cut = size - keep;
  await truncate(path, keep);
  process.emitWarning(`cut an incomplete last line (${cut} bytes) from the journal ${path}`, {
    type: "TuningWarning",
  });
  return cut;
}
