/**
 * `cryptoml tune --objective sharpe` on the bundled BTCUSDT candles: a few tiny trials make a study that
 * maximises the folds' mean backtest Sharpe ratio (Optuna's MAXIMIZE in the journal), each trial carries
 * its backtest means as user attributes and on its tracked run, `tune best` names the objective, and a
 * study is not continued towards another objective.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, runCli } from "../helpers/run-cli.js";

const CONFIG_DIR = join(REPO_ROOT, "config");
const PYTHON = join(REPO_ROOT, ".venv-peers", "bin", "python");
/** Small models and windows so a trial takes about a second. */
const SMALL = {
  CRYPTOML_MODELS__LSTM_ATTENTION__HIDDEN_SIZE: "8",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__WINDOW__CHOICES: "[16, 24]",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__HIDDEN_SIZE__LOW: "8",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__HIDDEN_SIZE__HIGH: "16",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__HIDDEN_SIZE__STEP: "8",
};
const STUDY = "sharpe-btc";
const TUNE = [
  "tune",
  "--symbols",
  "BTCUSDT",
  "--epochs",
  "1",
  "--folds",
  "2",
  "--max-train-samples",
  "1500",
  "--seed",
  "1",
  "--study",
  STUDY,
];
let cwd: string;
let previousCwd: string;
let journal: string;

const cli = (args: string[]) => runCli(["--config-dir", CONFIG_DIR, ...args], SMALL);

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "cryptoml-tune-objective-"));
  previousCwd = process.cwd();
  process.chdir(cwd);
  journal = join(cwd, "studies.log");
  const imported = await cli(["data", "import", "--bundled"]);
  expect(imported.code, imported.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  process.chdir(previousCwd);
  await rm(cwd, { recursive: true, force: true });
});

interface Summary {
  objective: string;
  direction: string;
  counts: { COMPLETE: number; PRUNED: number; FAIL: number };
  best: { number: number; value: number };
}

describe("cryptoml tune --objective sharpe", () => {
  it("maximises the folds' mean backtest Sharpe ratio and records the backtest of every trial", async () => {
    const storage = `journal:${journal}`;
    const tuned = await cli([
      ...TUNE,
      "--objective",
      "sharpe",
      "--trials",
      "4",
      "--storage",
      storage,
      "--json",
    ]);
    expect(tuned.code, tuned.stderr).toBe(0);
    const summary = JSON.parse(tuned.stdout) as Summary;
    expect(summary.objective).toBe("sharpe");
    expect(summary.direction).toBe("maximize");
    expect(summary.counts.COMPLETE + summary.counts.PRUNED + summary.counts.FAIL).toBe(4);
    expect(summary.counts.COMPLETE).toBeGreaterThan(0);
    expect(Number.isFinite(summary.best.value)).toBe(true);
    expect(tuned.stderr).toMatch(/trial \d+ COMPLETE sharpe=-?\d/);

    // Optuna's encoding in the journal: CREATE_STUDY with directions [2] is StudyDirection.MAXIMIZE.
    const ops = (await readFile(journal, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { op_code: number; directions?: number[] });
    expect(ops.find((op) => op.op_code === 0)?.directions).toEqual([2]);

    const shown = await cli(["tune", "show", "--study", STUDY, "--storage", storage, "--json"]);
    const trials = JSON.parse(shown.stdout) as {
      state: string;
      values?: number[];
      intermediateValues: Record<string, number>;
      userAttrs: { backtest?: Record<string, number | null> };
    }[];
    for (const trial of trials.filter((t) => t.state === "COMPLETE")) {
      const value = trial.values?.[0] as number;
      expect(Number.isFinite(value)).toBe(true);
      // One intermediate value per fold (step = fold), their mean the trial's value.
      const steps = Object.values(trial.intermediateValues);
      expect(Object.keys(trial.intermediateValues)).toEqual(["0", "1"]);
      expect(value).toBeCloseTo(steps.reduce((a, b) => a + b, 0) / steps.length, 9);
      expect(trial.userAttrs.backtest?.sharpe).toBeCloseTo(value, 9);
      expect(trial.userAttrs.backtest?.folds).toBe(2);
      expect(trial.userAttrs.backtest?.max_drawdown).toBeLessThanOrEqual(0);
      expect(Number.isFinite(trial.userAttrs.backtest?.total_return)).toBe(true);
    }

    const best = await cli(["tune", "best", "--study", STUDY, "--storage", storage]);
    expect(best.code, best.stderr).toBe(0);
    expect(best.stdout).toContain("objective: sharpe (fee 10 bps, slippage 5 bps) (maximize)");
    expect(best.stdout).toContain(`best: trial ${summary.best.number} sharpe=${summary.best.value}`);

    // Every trial's tracked run carries its backtest means.
    const runs = JSON.parse(
      (
        await cli([
          "runs",
          "list",
          "--filter",
          `tags.\`cryptoml.study\` = '${STUDY}'`,
          "--max",
          "50",
          "--json",
        ])
      ).stdout,
    ) as { info: { runName: string; status: string }; data: { metrics: { key: string; value: number }[] } }[];
    const finished = runs.filter((r) => r.info.runName.startsWith("trial ") && r.info.status === "FINISHED");
    expect(finished).toHaveLength(summary.counts.COMPLETE);
    for (const run of finished) {
      const keys = run.data.metrics.map((m) => m.key);
      expect(keys).toEqual(expect.arrayContaining(["sharpe", "backtest_sharpe", "backtest_total_return"]));
    }
  }, 120_000);

  it.skipIf(!existsSync(PYTHON))("is read by Optuna as a MAXIMIZE study", () => {
    const optuna = spawnSync(
      PYTHON,
      [
        "-c",
        `import optuna, json
s = optuna.load_study(study_name=${JSON.stringify(STUDY)}, storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(${JSON.stringify(journal)})))
print(json.dumps({"direction": s.direction.name, "objective": s.user_attrs["cryptoml"]["objective"]}))`,
      ],
      { encoding: "utf8" },
    );
    expect(optuna.status, optuna.stderr).toBe(0);
    expect(JSON.parse(optuna.stdout)).toEqual({ direction: "MAXIMIZE", objective: "sharpe" });
  });

  it("refuses to continue the study with another objective", async () => {
    const continued = await cli([...TUNE, "--trials", "5", "--storage", `journal:${journal}`]);
    expect(continued.code).not.toBe(0);
    expect(continued.stderr).toContain(
      `study "${STUDY}" was tuned with --objective sharpe (direction maximize); --objective loss --metric val_loss would minimize: study direction mismatch`,
    );
    expect(continued.stderr).toContain("continue it with --objective sharpe");
  });

  it("keeps minimising the validation loss with --objective loss (the default)", async () => {
    const storage = `journal:${join(cwd, "loss.log")}`;
    const tuned = await cli([...TUNE, "--trials", "2", "--pruner", "none", "--storage", storage, "--json"]);
    expect(tuned.code, tuned.stderr).toBe(0);
    const summary = JSON.parse(tuned.stdout) as Summary;
    expect(summary).toMatchObject({ objective: "loss", direction: "minimize", counts: { COMPLETE: 2 } });
    expect(tuned.stderr).toMatch(/trial \d+ COMPLETE val_loss=\d/);
    const best = await cli(["tune", "best", "--study", STUDY, "--storage", storage]);
    expect(best.stdout).toContain("objective: loss: val_loss (minimize)");
    expect(best.stdout).toContain(`best: trial ${summary.best.number} val_loss=${summary.best.value}`);
  });

  it("refuses an unknown --objective, listing the choices", async () => {
    const banana = await cli([
      ...TUNE,
      "--objective",
      "banana",
      "--trials",
      "1",
      "--storage",
      `journal:${journal}`,
    ]);
    expect(banana.code).not.toBe(0);
    expect(banana.stderr).toContain("--objective banana is unknown");
    expect(banana.stderr).toContain("use one of loss, sharpe");
  });
});
