/**
 * `cryptoml tune` on the bundled data: a small study completes with pruned trials, Optuna opens it,
 * `tune best --export` writes a config directory that `cryptoml train` accepts, and `--jobs 2` shares
 * one study between two processes.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../src/models/registry.js";
import { REPO_ROOT, spawnCli } from "../helpers/run-cli.js";

/** Optuna's journal op codes and trial state numbers (src/tuning/storages/journal-log.ts). */
const CREATE_TRIAL = 4;
const SET_TRIAL_STATE_VALUES = 6;
const RUNNING = 0;

async function bothInsideATrial(journal: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const ops = (await readFile(journal, "utf8")).split("\n").flatMap((line) => {
      try {
        return [JSON.parse(line) as { op_code: number; state?: number }];
      } catch {
        return []; // a line being written
      }
    });
    const created = ops.filter((o) => o.op_code === CREATE_TRIAL).length;
    const ended = ops.filter((o) => o.op_code === SET_TRIAL_STATE_VALUES && o.state !== RUNNING).length;
    if (created - ended >= 2) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the two tuning processes were never inside trials at once (${journal})`);
}

const CONFIG_DIR = join(REPO_ROOT, "config");
const PYTHON = join(REPO_ROOT, ".venv-peers", "bin", "python");
/** Small models and windows so a trial takes about a second. */
const SMALL = {
  CRYPTOML_MODELS__LSTM_ATTENTION__HIDDEN_SIZE: "16",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__WINDOW__CHOICES: "[16, 32]",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__HIDDEN_SIZE__LOW: "8",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__HIDDEN_SIZE__HIGH: "32",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__HIDDEN_SIZE__STEP: "8",
};
const TUNE = [
  "--symbols",
  "BTCUSDT",
  "--epochs",
  "2",
  "--folds",
  "2",
  "--max-train-samples",
  "3000",
  "--seed",
  "1",
];
let cwd: string;

const cli = (args: string[], configDir = CONFIG_DIR) =>
  spawnCli(["--config-dir", configDir, ...args], { cwd, env: SMALL });

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "cryptoml-tune-"));
  expect(cli(["data", "import", "--bundled"]).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe("cryptoml tune", () => {
  it("runs a study on the bundled data that prunes trials, and exports a config cryptoml train accepts", async () => {
    const storage = `journal:${join(cwd, "studies.log")}`;
    const tuned = cli(["tune", ...TUNE, "--trials", "10", "--storage", storage, "--json"]);
    expect(tuned.code, tuned.stderr).toBe(0);
    const summary = JSON.parse(tuned.stdout) as {
      study: string;
      counts: { COMPLETE: number; PRUNED: number; FAIL: number };
      best: { number: number; value: number; params: Record<string, unknown> };
    };
    expect(summary.study).toBe("lstm_attention-BTCUSDT");
    expect(summary.counts.COMPLETE + summary.counts.PRUNED).toBe(10);
    expect(summary.counts.PRUNED).toBeGreaterThan(0);
    expect(tuned.stderr).toMatch(/trial \d+ PRUNED/);
    expect(tuned.stderr).toMatch(/done 10\/10 {2}best \d/);

    // Optuna reads the study from the journal file.
    const optuna = spawnSync(
      PYTHON,
      [
        "-c",
        `import optuna, json
s = optuna.load_study(study_name="lstm_attention-BTCUSDT", storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(${JSON.stringify(join(cwd, "studies.log"))})))
print(json.dumps({"n": len(s.trials), "best": s.best_value, "pruned": sum(t.state.name == "PRUNED" for t in s.trials)}))`,
      ],
      { encoding: "utf8" },
    );
    expect(optuna.status, optuna.stderr).toBe(0);
    const seen = JSON.parse(optuna.stdout) as { n: number; best: number; pruned: number };
    expect(seen).toEqual({ n: 10, best: summary.best.value, pruned: summary.counts.PRUNED });

    // Every trial is a tracked run under the study's parent run.
    const runs = JSON.parse(
      cli([
        "runs",
        "list",
        "--filter",
        "tags.`cryptoml.study` = 'lstm_attention-BTCUSDT'",
        "--max",
        "100",
        "--json",
      ]).stdout,
    ) as { info: { runName: string; status: string } }[];
    const trialRuns = runs.filter((r) => r.info.runName.startsWith("trial "));
    expect(trialRuns).toHaveLength(10);
    expect(trialRuns.filter((r) => r.info.status === "KILLED")).toHaveLength(summary.counts.PRUNED);
    expect(runs.some((r) => r.info.runName === "tune lstm_attention-BTCUSDT")).toBe(true);

    const out = join(cwd, "tuned-config");
    const exported = cli(["tune", "best", "--study", summary.study, "--storage", storage, "--export", out]);
    expect(exported.code, exported.stderr).toBe(0);
    const check = cli(["config", "show"], out);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain(`learning_rate: ${summary.best.params.learning_rate}`);
    // The best trials blended into a weighted ensemble, saved as a model.
    const ensembleFile = join(cwd, "ensemble.safetensors");
    const blended = cli([
      "tune",
      "ensemble",
      "--study",
      summary.study,
      "--storage",
      storage,
      "--top",
      "3",
      "--out",
      ensembleFile,
      "--json",
    ]);
    expect(blended.code, blended.stderr).toBe(0);
    const blend = JSON.parse(blended.stdout) as {
      members: { weight: number }[];
      cvScore: number;
      bestSingleScore: number;
    };
    expect(blend.members.reduce((t, m) => t + m.weight, 0)).toBeCloseTo(1, 9);
    expect(blend.cvScore).toBeLessThanOrEqual(blend.bestSingleScore);
    expect((await loadModel(ensembleFile)).className).toBe("ensemble");

    const trained = cli(["train", "--duration", "5s", "--symbols", "BTCUSDT", "--no-track", "--json"], out);
    expect(trained.code, trained.stderr).toBe(0);
    expect(JSON.parse(trained.stdout).jobs[0].model).toBe("lstm_attention");
  }, 300_000);

  it("shares one study between --jobs 2 processes with unique trial numbers", () => {
    const storage = `journal:${join(cwd, "jobs.log")}`;
    const tuned = cli([
      "tune",
      ...TUNE,
      "--trials",
      "6",
      "--jobs",
      "2",
      "--pruner",
      "none",
      "--storage",
      storage,
      "--json",
    ]);
    expect(tuned.code, tuned.stderr).toBe(0);
    expect(tuned.stderr).toMatch(/\[worker 1\] trial \d+ COMPLETE/);
    const shown = cli(["tune", "show", "--study", "lstm_attention-BTCUSDT", "--storage", storage, "--json"]);
    const trials = JSON.parse(shown.stdout) as { number: number; state: string }[];
    const numbers = trials.map((t) => t.number);
    expect(new Set(numbers).size).toBe(numbers.length);
    expect(trials.filter((t) => t.state === "COMPLETE").length).toBeGreaterThanOrEqual(6);
    expect(trials.every((t) => t.state !== "RUNNING")).toBe(true);
  }, 300_000);

  it("fails the trial of a worker killed mid-trial (heartbeat) and the study goes on", async () => {
    const storage = `journal:${join(cwd, "killed.log")}`;
    const args = [
      "--config-dir",
      CONFIG_DIR,
      "tune",
      ...TUNE,
      "--trials",
      "8",
      "--jobs",
      "2",
      "--pruner",
      "none",
    ];
    const coordinator = spawn(
      process.execPath,
      [
        join(REPO_ROOT, "bin", "cryptoml.js"),
        ...args,
        "--heartbeat",
        "1",
        "--storage",
        storage,
        "--no-track",
        "--json",
      ],
      {
        cwd,
        env: { ...process.env, ...SMALL },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    let stdout = "";
    coordinator.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => coordinator.on("exit", resolve));
    const killed = new Promise<void>((resolve, reject) => {
      void exited.then((code) =>
        reject(new Error(`tune exited (${code}) before a worker finished a trial:\n${stderr}`)),
      );
      coordinator.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
        // Once the worker has finished a trial it is inside its next one: kill it there.
        if (/\[worker 1\] trial \d+ COMPLETE/.test(stderr)) resolve();
      });
    });
    await killed;
    // Between two of its trials the worker holds none: wait until both processes are inside one
    // (trials created in the journal outnumber those ended by two) so the kill lands mid-trial.
    await bothInsideATrial(join(cwd, "killed.log"));
    const children = spawnSync("pgrep", ["-P", String(coordinator.pid)], { encoding: "utf8" })
      .stdout.trim()
      .split("\n");
    expect(children.length).toBe(1);
    process.kill(Number(children[0]), "SIGKILL");
    const code = await exited;
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/1 worker\(s\) ended with an error/);
    const summary = JSON.parse(stdout) as { counts: { COMPLETE: number; FAIL: number; RUNNING: number } };
    expect(summary.counts.FAIL).toBe(1);
    expect(summary.counts.RUNNING).toBe(0);
    expect(summary.counts.COMPLETE).toBeGreaterThanOrEqual(7);
  }, 300_000);

  it("refuses an unknown model, metric or action with a hint", () => {
    expect(cli(["tune", "--model", "lstmm"]).stderr).toMatch(/--model lstmm cannot be tuned/);
    expect(cli(["tune", "--metric", "sharpe"]).stderr).toMatch(/--metric sharpe is unknown/);
    expect(cli(["tune", "shwo"]).stderr).toMatch(/tune shwo: unknown action/);
    expect(cli(["tune", "show"]).stderr).toMatch(/tune show needs --study NAME/);
    expect(cli(["tune", "--model", "gru", "--symbols", "BTCUSDT"]).stderr).toMatch(/no search space for gru/);
  });
});
