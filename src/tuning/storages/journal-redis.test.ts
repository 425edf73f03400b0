import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { storageContract } from "../storage.contract.js";
import { JournalStorage } from "./journal.js";
import { JournalRedisBackend } from "./journal-redis.js";

const URL = "redis://127.0.0.1:6379";
const prefixes: string[] = [];

/** A journal under a fresh key prefix; every prefix is deleted after the file's tests. */
async function fresh(): Promise<{ storage: JournalStorage; prefix: string }> {
  const prefix = `cryptoml-test-${randomUUID()}`;
  prefixes.push(prefix);
  return { storage: new JournalStorage(await JournalRedisBackend.connect(URL, { prefix })), prefix };
}

afterAll(async () => {
  for (const prefix of prefixes) {
    const backend = await JournalRedisBackend.connect(URL, { prefix });
    await backend.destroy();
    await backend.close();
  }
});

storageContract("journal on Redis", async () => (await fresh()).storage);

describe("JournalRedisBackend", () => {
  it("keeps Optuna's keys: <prefix>:log_number and one <prefix>:log:<n> per operation", async () => {
    const { storage, prefix } = await fresh();
    const id = await storage.createStudy(["minimize"], "s");
    await storage.createTrial(id);
    const redis = new Redis(URL);
    expect(await redis.get(`${prefix}:log_number`)).toBe("1");
    const first = JSON.parse((await redis.get(`${prefix}:log:0`)) ?? "null");
    expect(first).toMatchObject({ op_code: 0, study_name: "s", directions: [1] });
    expect(await redis.get(`${prefix}:log:0`)).toMatch(/^\{"op_code": 0, "worker_id": /);
    expect((await redis.keys(`${prefix}:*`)).sort()).toEqual([
      `${prefix}:log:0`,
      `${prefix}:log:1`,
      `${prefix}:log_number`,
    ]);
    redis.disconnect();
    await storage.close();
  });

  it("numbers trials uniquely across concurrent writers", async () => {
    const { storage: a, prefix } = await fresh();
    const b = new JournalStorage(await JournalRedisBackend.connect(URL, { prefix }));
    const id = await a.createStudy(["minimize"], "s");
    const made = await Promise.all([...Array(20).keys()].map((i) => (i % 2 ? a : b).createTrial(id)));
    expect(made.map((t) => t.number).sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
    expect(new Set(made.map((t) => t.trialId)).size).toBe(20);
    await Promise.all([a.close(), b.close()]);
  });

  it("says how to fix an unreachable server", async () => {
    await expect(JournalRedisBackend.connect("redis://127.0.0.1:1")).rejects.toMatchObject({
      reason: "STORAGE",
      hint: expect.stringMatching(/start Redis/),
    });
  });
});
