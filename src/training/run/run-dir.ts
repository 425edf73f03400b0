/**
 * A run directory: everything one `cryptoml train` leaves behind, and what `--resume` continues from.
 *
 *   <runs_dir>/<run id>/
 *     config.json        the resolved configuration and the command's options
 *     manifest.json      the budget, the jobs (one per symbol, ensemble member, pooled model) and their state
 *     metrics.jsonl      one JSON object per step and per epoch, tagged with the job
 *     checkpoints/<job>/ ModelCheckpoint's files (best top-k and last)
 *     models/<job>.safetensors   the best weights with their model definition (loadModel rebuilds them)
 *     summary.json, summary.txt
 */
import { appendFileSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../../core/atomic-file.js";
import { CryptomlError, NotFoundError } from "../../core/errors.js";
import type { MetricsLogger } from "../trainer.js";

/** The state of one job of a run. */
export type JobStatus = "pending" | "running" | "done" | "failed";

export interface JobRecord {
  /** `BTCUSDT`, `BTCUSDT/lstm` (an ensemble member), `BTCUSDT/ensemble`, `POOLED`. */
  readonly key: string;
  status: JobStatus;
  /** Wall time spent on this job so far (ms), updated when it ends. */
  elapsedMs: number;
  /** The job's tracking run (continued on resume). */
  trackingRunId?: string;
  /** Training time of the job as its checkpoints count it, as of the last manifest write. */
  trainedMs?: number;
  /** The job's outcome, once done (its summary row). */
  result?: Record<string, unknown>;
}

export interface RunManifest {
  readonly version: 1;
  readonly runId: string;
  readonly createdAt: string;
  /** The whole time budget (ms). */
  readonly budgetMs: number;
  /**
   * Wall time the run has used (ms), over every process that worked on it, as of the last manifest
   * write; a resumed run adds the time its crashed job trained after that (from the job's checkpoint).
   */
  spentMs: number;
  /** The tracking run of the whole invocation (parent of the jobs' runs). */
  trackingRunId?: string;
  readonly jobs: JobRecord[];
}

/** Job keys become directory and file names: keep them to safe characters. */
export function jobFileName(key: string): string {
  return key.replace(/[^A-Za-z0-9_.-]/g, "_");
}

export class RunDirectory {
  private constructor(readonly path: string) {}

  /** A new run directory `<root>/<UTC timestamp>-<suffix>`. */
  static async create(root: string, now = new Date()): Promise<RunDirectory> {
    const stamp = now
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d+Z$/, "Z");
    const id = `${stamp}-${Math.random().toString(16).slice(2, 6)}`;
    const path = resolve(root, id);
    await mkdir(path, { recursive: true });
    return new RunDirectory(path);
  }

  /** An existing run directory; `path` may also be the runs root, meaning its newest run. */
  static async open(path: string): Promise<RunDirectory> {
    const full = resolve(path);
    if (await exists(join(full, "manifest.json"))) return new RunDirectory(full);
    const runs = (await readdir(full).catch(() => [] as string[])).sort();
    for (const name of runs.reverse()) {
      if (await exists(join(full, name, "manifest.json"))) return new RunDirectory(join(full, name));
    }
    throw new NotFoundError(`no run to resume in ${full} (no manifest.json there or in a run below it)`, {
      hint: "pass the run directory printed by `cryptoml train` to --resume, or start a new run without --resume",
    });
  }

  get runId(): string {
    return this.path.split(/[\\/]/).at(-1) as string;
  }

  checkpointDir(job: string): string {
    return join(this.path, "checkpoints", jobFileName(job));
  }

  modelPath(job: string): string {
    return join(this.path, "models", `${jobFileName(job)}.safetensors`);
  }

  async writeJson(name: string, value: unknown): Promise<void> {
    await writeFileAtomic(join(this.path, name), `${JSON.stringify(value, null, 2)}\n`);
  }

  async readJson<T>(name: string): Promise<T> {
    const file = join(this.path, name);
    try {
      return JSON.parse(await readFile(file, "utf8")) as T;
    } catch (error) {
      throw new CryptomlError("DATA_FORMAT", `${file}: cannot read (${(error as Error).message})`, {
        hint: "the run directory is damaged; start a new run",
        cause: error,
      });
    }
  }

  async writeText(name: string, text: string): Promise<void> {
    await writeFileAtomic(join(this.path, name), text);
  }

  async writeManifest(manifest: RunManifest): Promise<void> {
    await this.writeJson("manifest.json", manifest);
  }

  async readManifest(): Promise<RunManifest> {
    const manifest = await this.readJson<RunManifest>("manifest.json");
    if (manifest?.version !== 1 || !Array.isArray(manifest.jobs)) {
      throw new CryptomlError(
        "DATA_FORMAT",
        `${join(this.path, "manifest.json")}: not a run manifest of version 1`,
        {
          hint: "resume with the cryptoml version that started the run, or start a new run",
        },
      );
    }
    return manifest;
  }

  /**
   * The metrics log of one job. On resume, lines the crashed process wrote after the checkpoint
   * (steps beyond `resumedAtStep`) are dropped first, so the log holds each step once.
   */
  async metricsLogger(job: string, resumedAtStep?: number): Promise<MetricsLogger> {
    const file = join(this.path, "metrics.jsonl");
    if (resumedAtStep !== undefined && (await exists(file))) {
      const kept = (await readFile(file, "utf8")).split("\n").filter((line) => {
        if (line.trim() === "") return false;
        try {
          const record = JSON.parse(line) as { job?: string; step?: number };
          return record.job !== job || (record.step ?? 0) <= resumedAtStep;
        } catch {
          return false; // a line torn by the crash
        }
      });
      await writeFile(file, kept.length === 0 ? "" : `${kept.join("\n")}\n`);
    }
    // Lines are buffered and appended in batches (an append per step would cost more than the step
    // bookkeeping itself); the Trainer flushes before every checkpoint, so nothing a resume keeps is lost.
    let buffered: string[] = [];
    const flush = () => {
      if (buffered.length === 0) return;
      appendFileSync(file, `${buffered.join("\n")}\n`);
      buffered = [];
    };
    return {
      log: ({ scope, step, epoch, metrics }) => {
        const clean = Object.fromEntries(
          Object.entries(metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : String(v)]),
        );
        buffered.push(JSON.stringify({ job, scope, step, epoch, time: new Date().toISOString(), ...clean }));
        if (scope === "epoch" || buffered.length >= 200) flush();
      },
      flush,
    };
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
