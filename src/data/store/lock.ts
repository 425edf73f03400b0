import { randomBytes } from "node:crypto";
import { link, readFile, rename, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { CryptomlError } from "../../core/errors.js";

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Writers inside this process queue here first; the lock file only arbitrates between processes. */
const inProcessQueues = new Map<string, Promise<unknown>>();

export interface FileLockOptions {
  /** How long to wait for another process to release the lock (default 60 s). */
  timeoutMs?: number;
  /** How often to look again while waiting (default 100 ms). */
  pollMs?: number;
}

/**
 * An exclusive lock between processes, held through a file that records the holder's pid.
 *
 * The lock file never exists without its pid: it is written under a unique temporary name and
 * hard-linked into place, which fails atomically when another process holds the lock. A lock whose
 * pid no longer runs (a killed import) is taken over by renaming it to a unique name first, so two
 * processes that both find it stale cannot both remove a lock that one of them has just taken.
 * Within one process, callers queue in order.
 */
export async function withFileLock<T>(
  lockPath: string,
  what: string,
  work: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const previous = inProcessQueues.get(lockPath) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => holdFileLock(lockPath, what, work, options));
  const settled = run.catch(() => undefined);
  inProcessQueues.set(lockPath, settled);
  void settled.then(() => {
    if (inProcessQueues.get(lockPath) === settled) inProcessQueues.delete(lockPath);
  });
  return run;
}

async function holdFileLock<T>(
  lockPath: string,
  what: string,
  work: () => Promise<T>,
  options: FileLockOptions,
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const unique = `${lockPath}.${process.pid}.${randomBytes(4).toString("hex")}`;
  await writeFile(unique, `${process.pid}\n`).catch((error: unknown) => {
    throw lockError(error, lockPath, what);
  });
  try {
    for (;;) {
      if (await tryLink(unique, lockPath, what)) break;
      const holder = await readHolder(lockPath);
      if (holder === undefined) continue; // released between our attempt and the read
      // 0 is a file we did not write; our own pid cannot be a live holder (this process queues above).
      if (holder === 0 || holder === process.pid || !processIsAlive(holder)) {
        await takeOverStale(lockPath, holder);
        continue;
      }
      if (Date.now() > deadline) {
        throw new CryptomlError("STORE", `${what} is locked by another cryptoml process (pid ${holder})`, {
          hint: `wait for it to finish; if no such process runs, delete ${lockPath}`,
        });
      }
      await sleep(options.pollMs ?? 100);
    }
  } finally {
    await rm(unique, { force: true });
  }
  try {
    return await work();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function tryLink(from: string, to: string, what: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw lockError(error, to, what);
  }
}

async function readHolder(lockPath: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(lockPath, "utf8"), 10);
    // A lock always holds a pid (it is linked into place complete); anything else is foreign.
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Moves a dead holder's lock aside; only the process whose rename succeeds removes it. */
async function takeOverStale(lockPath: string, holder: number): Promise<void> {
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  // If a live process took the lock between our read and the rename, put its lock back.
  const moved = await readHolder(aside);
  if (moved !== undefined && moved !== holder && moved !== 0 && processIsAlive(moved)) {
    await link(aside, lockPath).catch(() => undefined);
  }
  await rm(aside, { force: true });
}

function lockError(error: unknown, lockPath: string, what: string): CryptomlError {
  return new CryptomlError("STORE", `cannot lock ${what} (${(error as Error).message})`, {
    hint: `check that the directory of ${lockPath} is writable`,
    cause: error,
  });
}
