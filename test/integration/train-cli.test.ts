/**
 * `cryptoml train` as a user runs it (the built executable, a real process): the time-bounded run on
 * the bundled data, and SIGKILL in the middle of an epoch followed by `--resume`, which must end with
 * the weights of an uninterrupted run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../src/models/registry.js";
import { LocalCheckpointIO } from "../../src/training/checkpoint/local.js";
import type { RunSummary } from "../../src/training/run/summary.js";
import { bundledPath } from "../helpers/load-bundled.js";
import { REPO_ROOT, spawnCli } from "../helpers/run-cli.js";

const CONFIG_DIR = join(REPO_ROOT, "config");
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function workspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cryptoml-train-"));
  dirs.push(dir);
  return dir;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Imports the first `rows` bundled candles of each pair into `cwd`'s store. */
async function importCandles(cwd: string, pairs: string[], rows?: number): Promise<void> {
  for (const pair of pairs) {
    const symbol = pair.replace("_", "");
    let args = ["data", "import", "--bundled"];
    if (rows !== undefined) {
      const all = JSON.parse(gunzipSync(await readFile(bundledPath(pair))).toString("utf8")) as unknown[];
      const file = join(cwd, `${symbol}-5m.json`);
      await writeFile(file, JSON.stringify(all.slice(0, rows)));
      args = ["data", "import", file, "--symbol", symbol, "--interval", "5m"];
    }
    const result = spawnCli(["--config-dir", CONFIG_DIR, ...args], { cwd });
    expect(result.code, result.stderr).toBe(0);
    if (rows === undefined) return;
  }
}

function runTrain(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(
    process.execPath,
    [join(REPO_ROOT, "bin", "cryptoml.js"), "--config-dir", CONFIG_DIR, "train", ...args],
    {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}

function finished(
  child: ChildProcess,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

describe("cryptoml train --duration 60s --symbols BTCUSDT,ETHUSDT", () => {
  let cwd: string;
  let summary: RunSummary;
  let wallMs: number;
  let stderr: string;

  beforeAll(async () => {
    cwd = await workspace();
    await importCandles(cwd, ["BTC_USDT"]);
    const started = Date.now();
    const result = await finished(
      runTrain(cwd, ["--duration", "60s", "--symbols", "BTCUSDT,ETHUSDT", "--json"]),
    );
    wallMs = Date.now() - started;
    stderr = result.stderr;
    expect(result.code, result.stderr).toBe(0);
    summary = JSON.parse(result.stdout) as RunSummary;
  }, 180_000);

  it("meets the deadline within 10%", () => {
    expect(summary.budgetMs).toBe(60_000);
    expect(summary.spentMs).toBeLessThanOrEqual(66_000);
    expect(summary.spentMs).toBeGreaterThanOrEqual(54_000);
    // The whole process, Node's start-up and the config load included.
    expect(wallMs).toBeLessThanOrEqual(66_000 + 3_000);
  });

  it("summarises each symbol against the naive baselines", () => {
    expect(summary.status).toBe("completed");
    expect(summary.jobs.map((j) => j.job)).toEqual(["BTCUSDT", "ETHUSDT"]);
    for (const job of summary.jobs) {
      expect(["completed", "deadline", "stopped"]).toContain(job.status);
      expect(job.model).toBe("lstm_attention");
      expect(job.steps).toBeGreaterThan(0);
      expect(job.bestValLoss).toBeGreaterThan(0);
      expect(job.valDirectionalAccuracy).toBeGreaterThan(0.3);
      expect(job.baselines?.zeroReturn.directionalAccuracy).toBeGreaterThan(0.3);
      expect(job.baselines?.lastReturn.directionalAccuracy).toBeGreaterThan(0.3);
      expect(job.timeMs).toBeGreaterThan(20_000);
    }
    expect(stderr).toMatch(/BTCUSDT: epoch 1\/50 {2}step \d+ {2}batch \d+\/\d+ {2}loss/);
  });

  it("leaves a run directory with config, metrics, checkpoints, loadable models and the summary", async () => {
    const run = summary.runDir;
    for (const name of ["config.json", "manifest.json", "metrics.jsonl", "summary.json", "summary.txt"]) {
      expect(await exists(join(run, name)), name).toBe(true);
    }
    const io = new LocalCheckpointIO();
    for (const job of summary.jobs) {
      const checkpoints = await io.list(join(run, "checkpoints", job.job));
      expect(checkpoints.some((p) => p.endsWith("last.safetensors"))).toBe(true);
      const last = await io.read(join(run, "checkpoints", job.job, "last.safetensors"));
      expect(last.step).toBe(job.steps);
      const model = await loadModel(job.modelPath as string);
      expect(model.className).toBe("lstm_attention");
      if (job.bestCheckpoint !== null) expect(await exists(job.bestCheckpoint)).toBe(true);
    }
    const lines = (await readFile(join(run, "metrics.jsonl"), "utf8")).trim().split("\n");
    const steps = lines.map((l) => JSON.parse(l) as { job: string; scope: string; loss?: number });
    expect(steps.filter((s) => s.job === "BTCUSDT" && s.scope === "step").length).toBe(
      summary.jobs[0]?.steps,
    );
    expect(await readFile(join(run, "summary.txt"), "utf8")).toMatch(/zero-ret\s+last-ret/);
  });
});

describe("SIGKILL in the middle of an epoch, then --resume", () => {
  /** Small data and model so an uninterrupted run takes seconds; the epoch bound ends it, not time. */
  const env = {
    CRYPTOML_TRAINING__EPOCHS: "2",
    CRYPTOML_TRAINING__CHECKPOINT_EVERY_STEPS: "4",
    CRYPTOML_TRAINING__BATCH_SIZE: "32",
    CRYPTOML_MODELS__LSTM__HIDDEN_SIZE: "16",
    CRYPTOML_MODELS__LSTM__DROPOUT: "0.1",
    CRYPTOML_DATASET__WINDOW: "16",
  };
  const args = (symbols: string) => ["--duration", "1h", "--symbols", symbols, "--model", "lstm", "--json"];

  async function weightsOfRun(runDir: string, job: string): Promise<number[]> {
    const state = await new LocalCheckpointIO().read(join(runDir, "checkpoints", job, "last.safetensors"));
    return state.weights.flatMap((w) => Array.from(w.data));
  }

  /** Starts a run, SIGKILLs it once `job` has a checkpoint, and checks that the kill fell mid-epoch. */
  async function killMidEpoch(cwd: string, symbols: string, job: string): Promise<string> {
    const child = runTrain(cwd, args(symbols), env);
    const done = finished(child);
    const runsDir = join(cwd, ".cryptoml", "runs");
    let target: string | undefined;
    for (let waited = 0; waited < 120_000 && target === undefined; waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
      const runs = await readdir(runsDir).catch(() => [] as string[]);
      const candidate = runs[0] === undefined ? undefined : join(runsDir, runs[0]);
      if (candidate && (await exists(join(candidate, "checkpoints", job, "last.safetensors"))))
        target = candidate;
    }
    child.kill("SIGKILL");
    const exit = await done;
    expect(exit.signal, exit.stderr).toBe("SIGKILL");
    expect(target).toBeDefined();
    const state = await new LocalCheckpointIO().read(
      join(target as string, "checkpoints", job, "last.safetensors"),
    );
    expect(state.epoch).toBe(0);
    expect(state.positionInEpoch).toBeGreaterThan(0);
    return target as string;
  }

  async function uninterrupted(symbols: string): Promise<RunSummary> {
    const cwd = await workspace();
    await importCandles(cwd, ["BTC_USDT", "ETH_USDT"], 3000);
    const result = await finished(runTrain(cwd, args(symbols), env));
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as RunSummary;
  }

  it.each([
    ["one model", "BTCUSDT", "BTCUSDT"],
    ["the multi-symbol run (killed in its second job)", "BTCUSDT,ETHUSDT", "ETHUSDT"],
  ])(
    "%s ends with the uninterrupted run's weights (1e-6)",
    async (_label, symbols, killedJob) => {
      const reference = await uninterrupted(symbols);
      const cwd = await workspace();
      await importCandles(cwd, ["BTC_USDT", "ETH_USDT"], 3000);
      const runDir = await killMidEpoch(cwd, symbols, killedJob);
      const resumed = await finished(runTrain(cwd, ["--resume", runDir, "--json"]));
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(new RegExp(`${killedJob}: resuming at epoch 0, step \\d+`));
      const summary = JSON.parse(resumed.stdout) as RunSummary;
      expect(summary.status).toBe("completed");
      for (const job of reference.jobs) {
        const a = await weightsOfRun(reference.runDir, job.job);
        const b = await weightsOfRun(summary.runDir, job.job);
        expect(b.length).toBe(a.length);
        expect(Math.max(...a.map((v, i) => Math.abs(v - (b[i] as number))))).toBeLessThanOrEqual(1e-6);
        const resumedJob = summary.jobs.find((j) => j.job === job.job);
        expect(resumedJob?.steps).toBe(job.steps);
        expect(resumedJob?.bestValLoss).toBe(job.bestValLoss);
      }
    },
    300_000,
  );
});
