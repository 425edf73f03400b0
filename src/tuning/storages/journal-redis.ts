/**
 * The journal on Redis, as Optuna's `JournalRedisBackend` keeps it: a counter `<prefix>:log_number` (the
 * number of the last operation, -1 when empty) and one string key `<prefix>:log:<n>` per operation. A Lua
 * script increments the counter and writes the operation in one step, so writers never collide. Optuna
 * also stores a pickled snapshot under `<prefix>:snapshot`; it is only a cache of the replay, so we never
 * read it and leave it to Optuna (it stays valid: Optuna replays the operations after it).
 */
import { Redis } from "ioredis";
import { TuningError } from "../errors.js";
import { pythonJsonDumps, pythonJsonLoads } from "./journal-codec.js";
import type { JournalBackend } from "./journal-file.js";
import type { JournalLog } from "./journal-log.js";

// Optuna's script, verbatim, so that both sides number operations the same way.
const APPEND_SCRIPT =
  "local i = redis.call('incr', string.format('%s:log_number', ARGV[1])) " +
  "redis.call('set', string.format('%s:log:%d', ARGV[1], i), ARGV[2])";

/** Operations fetched per MGET. */
const BATCH = 500;

export interface RedisBackendOptions {
  /** Optuna's `prefix` (default ""): keys are `<prefix>:log_number` and `<prefix>:log:<n>`. */
  prefix?: string;
}

export class JournalRedisBackend implements JournalBackend {
  readonly prefix: string;

  private constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.prefix = prefix;
  }

  /** Connects to `url` (`redis://host:port[/db]`, password optional) and checks that the server answers. */
  static async connect(url: string, options: RedisBackendOptions = {}): Promise<JournalRedisBackend> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    // Connection errors reach callers as rejected commands; without a listener ioredis also prints them.
    redis.on("error", () => {});
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      throw new TuningError("STORAGE", `cannot reach Redis at ${url}: ${String(error)}`, {
        hint: "start Redis (redis-server) or fix the host and port in the storage URL",
        cause: error,
      });
    }
    return new JournalRedisBackend(redis, options.prefix ?? "");
  }

  private key(n: number): string {
    return `${this.prefix}:log:${n}`;
  }

  async readLogs(from: number): Promise<JournalLog[]> {
    const max = await this.redis.get(`${this.prefix}:log_number`);
    if (max === null) return [];
    const last = Number(max);
    const logs: JournalLog[] = [];
    for (let first = from; first <= last; first += BATCH) {
      const numbers: number[] = [];
      for (let n = first; n <= Math.min(last, first + BATCH - 1); n++) numbers.push(n);
      const texts = await this.redis.mget(numbers.map((n) => this.key(n)));
      for (const [i, n] of numbers.entries()) {
        const text = texts[i] ?? (await this.waitFor(n));
        try {
          logs.push(pythonJsonLoads(text) as JournalLog);
        } catch (error) {
          // As Optuna: a bad last operation is skipped (read again next time), one in the middle is fatal.
          if (n === last) return logs;
          throw new TuningError(
            "STORAGE",
            `the Redis journal ${this.key(n)} is not valid JSON: ${String(error)}`,
            {
              hint: "delete or repair that key; the operations after it cannot be replayed without it",
              cause: error,
            },
          );
        }
      }
    }
    return logs;
  }

  /** An operation whose number is taken but not yet written (cluster mode writes in two steps): wait. */
  private async waitFor(n: number): Promise<string> {
    let pause = 100;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, pause));
      const text = await this.redis.get(this.key(n));
      if (text !== null) return text;
      pause = Math.min(pause * 2, 10_000);
    }
  }

  async appendLogs(logs: readonly JournalLog[]): Promise<void> {
    await this.redis.setnx(`${this.prefix}:log_number`, -1);
    for (const log of logs) {
      // Python's json.dumps default separators, as Optuna writes here.
      await this.redis.eval(APPEND_SCRIPT, 0, this.prefix, pythonJsonDumps(log, "python-default"));
    }
  }

  /** Deletes every key of this prefix (tests; dropping a whole journal). */
  async destroy(): Promise<void> {
    const keys = await this.redis.keys(`${escapeGlob(this.prefix)}:*`);
    for (let i = 0; i < keys.length; i += BATCH) await this.redis.del(...keys.slice(i, i + BATCH));
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

const escapeGlob = (s: string): string => s.replace(/[*?[\]\\]/g, "\\$&");
