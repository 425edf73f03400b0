import { open, readFile, rm } from "node:fs/promises";
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
  pollMs?: number;
}

/**
 * An exclusive lock held through a file created with O_EXCL that records the holder's pid.
 * Waits while another live process holds it; a lock left by a process that no longer exists
 * (killed mid-import) is taken over, so a crash never blocks the store for good.
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
) {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    try {
      const handle = await open(lockPath, "wx");
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw lockError(error, lockPath, what);
      const holder = Number.parseInt(await readFile(lockPath, "utf8").catch(() => ""), 10);
      const live = Number.isInteger(holder) && holder !== process.pid && processIsAlive(holder);
      if (!live) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new CryptomlError("STORE", `${what} is locked by another cryptoml process (pid ${holder})`, {
          hint: `wait for it to finish; if no such process runs, delete ${lockPath}`,
        });
      }
      await sleep(options.pollMs ?? 100);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockPath, { force: true });
  }
}

function lockError(error: unknown, lockPath: string, what: string): CryptomlError {
  return new CryptomlError("STORE", `cannot lock ${what} (${(error as Error).message})`, {
    hint: `check that the directory of ${lockPath} is writable`,
    cause: error,
  });
}
