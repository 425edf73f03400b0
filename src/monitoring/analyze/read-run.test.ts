import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/helpers/temp-dir.js";
import { loadRun, locateRun, parseMetricsLine, runSettings } from "./read-run.js";

const tempDir = useTempDirs();

const MANIFEST = {
  version: 1,
  runId: "20260101T000000Z-aaaa",
  createdAt: "2026-01-01T00:00:00.000Z",
  budgetMs: 60_000,
  spentMs: 30_000,
  jobs: [
    {
      key: "BTCUSDT",
      status: "done",
      elapsedMs: 20_000,
      result: { status: "stopped", reason: "patience", epochs: 4, steps: 40 },
    },
    { key: "ETHUSDT", status: "pending", elapsedMs: 0 },
  ],
};

async function makeRun(root: string, id: string, files: Record<string, string> = {}): Promise<string> {
  const dir = join(root, id);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "manifest.json"), JSON.stringify({ ...MANIFEST, runId: id }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe("locateRun", () => {
  it("finds a run by path, by id under runs_dir, and the newest for latest or nothing", async () => {
    const root = tempDir();
    const older = await makeRun(root, "20260101T000000Z-aaaa");
    const newer = await makeRun(root, "20260102T000000Z-bbbb");
    await mkdir(join(root, "20260103T000000Z-not-a-run"));
    expect(await locateRun(older, "/elsewhere")).toBe(older);
    expect(await locateRun("20260101T000000Z-aaaa", root)).toBe(older);
    expect(await locateRun("latest", root)).toBe(newer);
    expect(await locateRun(undefined, root)).toBe(newer);
  });

  it("says where it looked and lists recent runs when the run does not exist", async () => {
    const root = tempDir();
    await makeRun(root, "20260101T000000Z-aaaa");
    const error = await locateRun("nope", root).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringMatching(/no run "nope".*manifest\.json/),
    });
    expect((error as { hint: string }).hint).toMatch(/20260101T000000Z-aaaa/);
  });

  it("tells how to make a run when runs_dir has none", async () => {
    const error = await locateRun(undefined, join(tempDir(), "missing")).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: "NOT_FOUND",
      hint: expect.stringMatching(/cryptoml train --duration/),
    });
  });
});

describe("parseMetricsLine", () => {
  it("separates the record's fields from its metrics and drops non-finite values", () => {
    const record = parseMetricsLine(
      JSON.stringify({
        job: "BTCUSDT",
        scope: "epoch",
        step: 10,
        epoch: 0,
        time: "2026-01-01T00:00:01.500Z",
        train_loss: 0.5,
        val_loss: "NaN",
      }),
    );
    expect(record).toEqual({
      job: "BTCUSDT",
      scope: "epoch",
      step: 10,
      epoch: 0,
      timeMs: Date.UTC(2026, 0, 1, 0, 0, 1, 500),
      metrics: { train_loss: 0.5 },
    });
  });

  it("rejects torn lines and lines that are not records", () => {
    expect(parseMetricsLine('{"job":"BTCUSDT","sco')).toBeUndefined();
    expect(parseMetricsLine('{"job":"BTCUSDT","scope":"batch","step":1,"epoch":0}')).toBeUndefined();
    expect(parseMetricsLine("42")).toBeUndefined();
  });

  it("keeps a record without a readable time", () => {
    expect(parseMetricsLine('{"job":"A","scope":"step","step":1,"epoch":0}')?.timeMs).toBeNull();
  });
});

describe("runSettings", () => {
  it("reads the run's settings, with the workers the command line chose", () => {
    const settings = runSettings({
      workers: 3,
      config: {
        training: { batch_size: 128, workers: 1, checkpoint_every_minutes: 2 },
        tracking: { enabled: false },
        dataset: { window: 32, split: { validation: 0.2 } },
      },
    });
    expect(settings).toMatchObject({
      batchSize: 128,
      workers: 3,
      checkpointEveryMinutes: 2,
      trackingEnabled: false,
      window: 32,
      validationFraction: 0.2,
    });
  });

  it("falls back to the schema defaults", () => {
    expect(runSettings(undefined)).toMatchObject({
      batchSize: 64,
      epochs: 50,
      workers: 1,
      checkpointEveryMinutes: 5,
    });
  });
});

describe("loadRun", () => {
  it("reads an unfinished run from its manifest and skips torn metric lines", async () => {
    const dir = await makeRun(tempDir(), "20260101T000000Z-aaaa", {
      "metrics.jsonl": [
        '{"job":"BTCUSDT","scope":"step","step":1,"epoch":0,"time":"2026-01-01T00:00:00.000Z","samples_per_s":100}',
        "",
        '{"job":"BTCUSDT","scope":"epo',
      ].join("\n"),
    });
    const run = await loadRun(dir);
    expect(run).toMatchObject({
      runId: "20260101T000000Z-aaaa",
      status: "unfinished",
      budgetMs: 60_000,
      spentMs: 30_000,
      skippedLines: 1,
    });
    expect(run.records).toHaveLength(1);
    expect(run.jobs.map((j) => [j.job, j.status, j.epochs, j.wallMs])).toEqual([
      ["BTCUSDT", "stopped", 4, 20_000],
      ["ETHUSDT", "pending", 0, 0],
    ]);
  });

  it("prefers summary.json's rows and status", async () => {
    const summary = {
      status: "completed",
      spentMs: 31_000,
      jobs: [
        {
          job: "BTCUSDT",
          model: "gru",
          status: "completed",
          reason: "completed",
          epochs: 5,
          steps: 50,
          timeMs: 21_000,
        },
      ],
    };
    const run = await loadRun(await makeRun(tempDir(), "r", { "summary.json": JSON.stringify(summary) }));
    expect(run).toMatchObject({ status: "completed", spentMs: 31_000, records: [] });
    expect(run.jobs).toEqual([
      {
        job: "BTCUSDT",
        model: "gru",
        status: "completed",
        reason: "completed",
        epochs: 5,
        steps: 50,
        wallMs: 21_000,
      },
    ]);
  });

  it("rejects a directory that is not a run, and a damaged summary", async () => {
    await expect(loadRun(tempDir())).rejects.toMatchObject({ code: "DATA_FORMAT" });
    const dir = await makeRun(tempDir(), "r", { "summary.json": "{" });
    await expect(loadRun(dir)).rejects.toThrow(/summary\.json: not valid JSON/);
  });
});
