import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/helpers/temp-dir.js";
import { JournalStorage } from "./journal.js";
import { InMemoryStorage } from "./memory.js";
import { openStorage } from "./open.js";

const tempDir = useTempDirs();

describe("openStorage", () => {
  it("maps each URL form to its storage", async () => {
    expect(await openStorage("memory:")).toBeInstanceOf(InMemoryStorage);
    const dir = tempDir();
    for (const url of [
      `journal:${join(dir, "a.log")}`,
      join(dir, "b.log"),
      "redis://127.0.0.1:6379/0?prefix=cryptoml-open-test",
    ]) {
      const s = await openStorage(url);
      expect(s).toBeInstanceOf(JournalStorage);
      await s.getAllStudies();
      await s.close();
    }
  });

  it("rejects an unknown URL with the forms it accepts", async () => {
    await expect(openStorage("postgres://x/y")).rejects.toMatchObject({
      reason: "INVALID_VALUE",
      hint: expect.stringContaining("journal:"),
    });
    await expect(openStorage("journal:")).rejects.toMatchObject({ reason: "INVALID_VALUE" });
  });
});
