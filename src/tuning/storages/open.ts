/**
 * Picks a storage from a URL, as the tracking store registry does from its URI scheme:
 *
 *   `memory:`                          in this process only (InMemoryStorage)
 *   `journal:./studies.log`, `x.log`   Optuna's journal on a file (shared with Optuna's JournalFileBackend)
 *   `redis://host:port[/db]`           Optuna's journal on Redis (JournalRedisBackend); `?prefix=` sets
 *                                      Optuna's key prefix (default "")
 */
import { TuningError } from "../errors.js";
import type { TuningStorage } from "../storage.js";
import { JournalStorage, type JournalStorageOptions } from "./journal.js";
import { JournalFileBackend } from "./journal-file.js";
import { JournalRedisBackend } from "./journal-redis.js";
import { InMemoryStorage } from "./memory.js";

export const STORAGE_URL_FORMS = "memory:, journal:<path>, <path>.log, redis://host:port[/db][?prefix=<p>]";

export async function openStorage(url: string, options: JournalStorageOptions = {}): Promise<TuningStorage> {
  if (url === "memory:" || url === "memory")
    return new InMemoryStorage(options.now ? { now: options.now } : {});
  if (url.startsWith("journal:")) return openFileJournal(url.slice("journal:".length), url, options);
  if (url.startsWith("redis://") || url.startsWith("rediss://")) {
    const parsed = new URL(url);
    const prefix = parsed.searchParams.get("prefix") ?? "";
    parsed.search = "";
    return new JournalStorage(await JournalRedisBackend.connect(parsed.toString(), { prefix }), options);
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && url.endsWith(".log"))
    return openFileJournal(url, url, options);
  throw new TuningError("INVALID_VALUE", `unknown tuning storage URL "${url}"`, {
    hint: `use one of: ${STORAGE_URL_FORMS}`,
  });
}

async function openFileJournal(
  path: string,
  url: string,
  options: JournalStorageOptions,
): Promise<TuningStorage> {
  const file = path.startsWith("//") ? path.slice(2) : path;
  if (file === "") {
    throw new TuningError("INVALID_VALUE", `the storage URL "${url}" names no file`, {
      hint: "write journal:./studies.log",
    });
  }
  return new JournalStorage(await JournalFileBackend.open(file), options);
}
