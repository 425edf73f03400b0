import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/helpers/temp-dir.js";
import { withFileLock } from "./lock.js";

const tempDir = useTempDirs();
const BUILT_LOCK = join(import.meta.dirname, "../../../dist/data/store/lock.js");

/** A separate process that takes the lock, appends "<name> start", waits, appends "<name> end". */
function holder(lockPath: string, logPath: string, name: string, holdMs: number) {
  const script = `
    import { appendFileSync } from "node:fs";
    const { withFileLock } = await import(${JSON.stringify(BUILT_LOCK)});
    await withFileLock(${JSON.stringify(lockPath)}, "test lock", async () => {
      appendFileSync(${JSON.stringify(logPath)}, "${name} start\\n");
      await new Promise((r) => setTimeout(r, ${holdMs}));
      appendFileSync(${JSON.stringify(logPath)}, "${name} end\\n");
    }, { pollMs: 10 });`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "inherit" });
  return new Promise<number | null>((resolve) => child.on("exit", resolve));
}

describe("withFileLock", () => {
  it("never lets two processes hold the lock at once", async () => {
    expect(existsSync(BUILT_LOCK), "run `npm run build` first (the test spawns the built module)").toBe(true);
    const dir = tempDir();
    const lockPath = join(dir, ".lock");
    const log = join(dir, "log");
    writeFileSync(log, "");
    const codes = await Promise.all(["a", "b", "c", "d"].map((name) => holder(lockPath, log, name, 150)));
    expect(codes).toEqual([0, 0, 0, 0]);
    const lines = readFileSync(log, "utf8").trim().split("\n");
    expect(lines).toHaveLength(8);
    for (let i = 0; i < lines.length; i += 2) {
      const name = lines[i]?.split(" ")[0];
      expect([lines[i], lines[i + 1]]).toEqual([`${name} start`, `${name} end`]);
    }
    expect(existsSync(lockPath)).toBe(false);
  });

  it("takes over a lock left by a process that no longer runs, or a file it did not write", async () => {
    const dir = tempDir();
    for (const content of ["999999999\n", "", "garbage"]) {
      const lockPath = join(dir, ".lock");
      writeFileSync(lockPath, content);
      expect(await withFileLock(lockPath, "test lock", async () => "ran", { timeoutMs: 2_000 })).toBe("ran");
      expect(existsSync(lockPath)).toBe(false);
    }
  });

  it("waits for a live holder and then says who holds it", async () => {
    const lockPath = join(tempDir(), ".lock");
    writeFileSync(lockPath, `${process.ppid}\n`);
    await expect(
      withFileLock(lockPath, "the candle store /x", async () => "ran", { timeoutMs: 200, pollMs: 20 }),
    ).rejects.toThrow(`the candle store /x is locked by another cryptoml process (pid ${process.ppid})`);
    expect(readFileSync(lockPath, "utf8")).toBe(`${process.ppid}\n`);
  });
});
