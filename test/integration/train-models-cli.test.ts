/**
 * Every architecture trains from the CLI on the bundled BTCUSDT 5m candles; Ctrl-C stops a run
 * gracefully with a resumable checkpoint; bad input is a clear error.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../src/models/registry.js";
import { LocalCheckpointIO } from "../../src/training/checkpoint/local.js";
import type { RunSummary } from "../../src/training/run/summary.js";
import { REPO_ROOT, runCli, spawnCli } from "../helpers/run-cli.js";

const CONFIG_DIR = join(REPO_ROOT, "config");
let cwd: string;
let previousCwd: string;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "cryptoml-models-"));
  const imported = spawnCli(["--config-dir", CONFIG_DIR, "data", "import", "--bundled"], { cwd });
  expect(imported.code, imported.stderr).toBe(0);
  previousCwd = process.cwd();
  process.chdir(cwd);
}, 120_000);

afterAll(async () => {
  process.chdir(previousCwd);
  await rm(cwd, { recursive: true, force: true });
});

/** Small models, so each architecture gets a few hundred steps of a short budget. */
const SMALL = {
  CRYPTOML_MODELS__LSTM__HIDDEN_SIZE: "16",
  CRYPTOML_MODELS__GRU__HIDDEN_SIZE: "16",
  CRYPTOML_MODELS__LSTM_ATTENTION__HIDDEN_SIZE: "16",
  CRYPTOML_MODELS__CNN_LSTM__HIDDEN_SIZE: "16",
  CRYPTOML_MODELS__TRANSFORMER__D_MODEL: "16",
  CRYPTOML_MODELS__TRANSFORMER__FEED_FORWARD: "32",
  CRYPTOML_DATASET__WINDOW: "32",
};

const train = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(["--config-dir", CONFIG_DIR, "train", "--symbols", "BTCUSDT", "--json", ...args], {
    ...SMALL,
    ...env,
  });

describe("cryptoml train --model <each architecture>", () => {
  it.each(["lstm", "gru", "lstm_attention", "cnn_lstm", "transformer", "ensemble"])(
    "%s trains on the bundled BTCUSDT 5m data and saves a loadable model",
    async (model) => {
      const result = await train(["--model", model, "--duration", "8s"]);
      expect(result.code, result.stderr).toBe(0);
      const summary = JSON.parse(result.stdout) as RunSummary;
      const job = summary.jobs.find((j) => j.job === "BTCUSDT");
      expect(job?.model).toBe(model);
      expect(job?.bestValLoss).toBeGreaterThan(0);
      const saved = await loadModel(job?.modelPath as string);
      expect(saved.className).toBe(model);
      if (model === "ensemble") {
        // The members (lstm, gru by default) are trained first, in the same run.
        expect(summary.jobs.map((j) => j.job)).toEqual(["BTCUSDT/lstm", "BTCUSDT/gru", "BTCUSDT"]);
        expect(summary.jobs.every((j) => j.steps > 0 || j.job === "BTCUSDT")).toBe(true);
      } else {
        expect(job?.steps).toBeGreaterThan(10);
      }
    },
    60_000,
  );

  it("trains with data-parallel workers (--workers 2)", async () => {
    const result = await train(["--model", "gru", "--duration", "8s", "--workers", "2"]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as RunSummary;
    expect(summary.jobs[0]?.steps).toBeGreaterThan(10);
  }, 60_000);

  it("trains a pooled model across symbols after the per-symbol ones (--pooled)", async () => {
    const result = await runCli(
      [
        "--config-dir",
        CONFIG_DIR,
        "train",
        "--symbols",
        "BTCUSDT,ETHUSDT",
        "--model",
        "gru",
        "--pooled",
        "--duration",
        "9s",
        "--json",
      ],
      SMALL,
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as RunSummary;
    expect(summary.jobs.map((j) => j.job)).toEqual(["BTCUSDT", "ETHUSDT", "POOLED"]);
    expect(summary.jobs[2]?.symbols).toEqual(["BTCUSDT", "ETHUSDT"]);
    expect(summary.jobs[2]?.steps).toBeGreaterThan(0);
  }, 60_000);
});

describe("Ctrl-C", () => {
  it("stops gracefully with a resumable checkpoint and exit code 130; --resume finishes the run", async () => {
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, "bin", "cryptoml.js"),
        "--config-dir",
        CONFIG_DIR,
        "train",
        "--symbols",
        "BTCUSDT",
        "--model",
        "gru",
        "--duration",
        "10m",
      ],
      { cwd, env: { ...process.env, ...SMALL }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
      // Interrupt once training is under way.
      if (/step \d+/.test(stderr) && !child.killed) child.kill("SIGINT");
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupt: finishing the current step/);
    const runDir = /continue with: cryptoml train --resume (\S+)/.exec(stderr)?.[1] as string;
    const last = await new LocalCheckpointIO().read(
      join(runDir, "checkpoints", "BTCUSDT", "last.safetensors"),
    );
    expect(last.step).toBeGreaterThan(0);
  }, 60_000);
});

describe("bad input", () => {
  it("an unknown architecture is a usage error naming the valid ones", async () => {
    const result = await train(["--model", "lstmm", "--duration", "5s"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--model lstmm is not an architecture/);
    expect(result.stderr).toMatch(/lstm, gru, lstm_attention, cnn_lstm, transformer, ensemble/);
  });

  it("a window longer than the data is a dataset error with the numbers", async () => {
    const result = await train(["--model", "gru", "--duration", "5s"], {
      CRYPTOML_DATASET__WINDOW: "100000",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error \[DATASET\]/);
    expect(result.stderr).toMatch(/100000/);
  });

  it("a missing --duration, a bad duration and --resume with nothing to resume are clear errors", async () => {
    expect((await train([])).stderr).toMatch(/--duration is required/);
    expect((await train(["--duration", "8 hours"])).stderr).toMatch(/duration/i);
    const resumed = await runCli(["--config-dir", CONFIG_DIR, "train", "--resume", join(cwd, "nowhere")]);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toMatch(/no run to resume/);
  });
});
