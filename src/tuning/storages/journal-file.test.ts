import { execFile } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/helpers/temp-dir.js";
import { storageContract } from "../storage.contract.js";
import { JournalStorage } from "./journal.js";
import { JournalFileBackend, JournalFileSymlinkLock, repairTornTail } from "./journal-file.js";

const run = promisify(execFile);
const tempDir = useTempDirs();
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const openFile = async (path: string) => new JournalStorage(await JournalFileBackend.open(path));

storageContract("journal on a file", async () => openFile(join(tempDir(), "studies.log")));

describe("JournalFileBackend", () => {
  it("writes one compact JSON line per operation, and a second reader sees them", async () => {
    const path = join(tempDir(), "j.log");
    const a = await openFile(path);
    const id = await a.createStudy(["maximize"], "s");
    const { trialId } = await a.createTrial(id);
    await a.setTrialIntermediateValue(trialId, 0, Number.NaN);
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      /^\{"op_code":0,"worker_id":"[0-9a-f-]+","study_name":"s","directions":\[2\]\}$/,
    );
    expect(lines[2]).toMatch(/"intermediate_value":NaN\}$/);
    const b = await openFile(path);
    expect((await b.getTrial(trialId)).intermediateValues.get(0)).toBeNaN();
    // Incremental reads: a's next read starts where it stopped and still sees b's write.
    await b.setTrialUserAttr(trialId, "by", "b");
    expect((await a.getTrial(trialId)).userAttrs).toEqual({ by: "b" });
    await Promise.all([a.close(), b.close()]);
  });

  it("ignores an incomplete last line and cuts it before the next append", async () => {
    const path = join(tempDir(), "torn.log");
    const s = await openFile(path);
    const id = await s.createStudy(["minimize"], "s");
    await s.createTrial(id);
    await s.close();
    appendFileSync(path, '{"op_code":4,"worker_id":"crashed","study_id":0,"datetime_st');

    const reader = await openFile(path);
    expect(await reader.getAllTrials(id)).toHaveLength(1);
    const { number } = await reader.createTrial(id);
    expect(number).toBe(1);
    const text = readFileSync(path, "utf8");
    expect(text).not.toContain("crashed");
    expect(text.endsWith("\n")).toBe(true);
    expect((await openFile(path).then((r) => r.getAllTrials(id))).map((t) => t.number)).toEqual([0, 1]);
    await reader.close();
  });

  it("repairTornTail leaves a complete file alone", async () => {
    const path = join(tempDir(), "ok.log");
    writeFileSync(path, '{"a":1}\n');
    expect(await repairTornTail(path)).toBe(0);
    writeFileSync(path, '{"a":1}\n{"b"');
    expect(await repairTornTail(path)).toBe(4);
    expect(readFileSync(path, "utf8")).toBe('{"a":1}\n');
  });

  it("refuses a corrupt line in the middle of the log, naming it", async () => {
    const path = join(tempDir(), "bad.log");
    const s = await openFile(path);
    await s.createStudy(["minimize"], "s");
    await s.close();
    appendFileSync(path, "garbage\n");
    appendFileSync(path, readFileSync(path, "utf8").split("\n")[0] as string);
    appendFileSync(path, "\n");
    const reader = await openFile(path);
    await expect(reader.getAllStudies()).rejects.toThrow(/corrupt line at operation 1/);
  });

  it("locks with Optuna's symlink <path>.lock and removes it after", async () => {
    const path = join(tempDir(), "l.log");
    const lock = new JournalFileSymlinkLock(path);
    await lock.acquire();
    expect(lstatSync(`${path}.lock`).isSymbolicLink()).toBe(true);
    expect(readlinkSync(`${path}.lock`)).toBe("l.log");
    let second = false;
    const waiting = new JournalFileSymlinkLock(path).withLock(async () => {
      second = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(second).toBe(false);
    await lock.release();
    await waiting;
    expect(second).toBe(true);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("breaks a lock abandoned for longer than the grace period", async () => {
    const path = join(tempDir(), "stale.log");
    writeFileSync(path, "");
    symlinkSync("stale.log", `${path}.lock`);
    const started = Date.now();
    await new JournalFileSymlinkLock(path, { gracePeriodSeconds: 0.2 }).withLock(async () => {});
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});

describe("four processes writing one journal file", () => {
  const out = mkdtempSync(join(tmpdir(), "cryptoml-journal-stress-"));
  const worker = join(out, "tuning", "storages", "journal-stress.js");
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  beforeAll(async () => {
    // Compile the writer and what it imports to plain JS (no build of the whole project needed).
    await run(process.execPath, [
      join(ROOT, "node_modules", "typescript", "bin", "tsc"),
      ...[
        "--outDir",
        out,
        "--rootDir",
        join(ROOT, "src"),
        "--module",
        "NodeNext",
        "--moduleResolution",
        "NodeNext",
      ],
      ...[
        "--target",
        "ES2022",
        "--skipLibCheck",
        "--types",
        "node",
        join(ROOT, "src/tuning/storages/journal-stress.ts"),
      ],
    ]);
  }, 120_000);

  it("gives 100 trials numbers 0..99, none lost or torn", async () => {
    const path = join(tempDir(), "shared.log");
    const setup = await openFile(path);
    const id = await setup.createStudy(["minimize"], "shared");
    const outputs = await Promise.all(
      ["w0", "w1", "w2", "w3"].map((tag) => run(process.execPath, [worker, path, "shared", "25", tag])),
    );
    const got = outputs.flatMap((o) => JSON.parse(o.stdout) as number[]);
    expect(got.sort((a, b) => a - b)).toEqual([...Array(100).keys()]);

    const trials = await (await openFile(path)).getAllTrials(id);
    expect(trials.map((t) => t.number)).toEqual([...Array(100).keys()]);
    expect(
      trials.every(
        (t) => t.state === "COMPLETE" && t.params.x !== undefined && t.intermediateValues.size === 1,
      ),
    ).toBe(true);
    const writers = new Set(trials.map((t) => t.userAttrs.writer));
    expect(writers.size).toBe(100);
    // Each writer's trial i has value i: no operation landed on another process's trial.
    for (const t of trials) expect(String(t.userAttrs.writer).split(":")[1]).toBe(String(t.values?.[0]));
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(1 + 100 * 5);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    await setup.close();
  }, 120_000);
});
