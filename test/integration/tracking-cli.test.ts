/**
 * Tracking on the embedded store as a user meets it: `cryptoml train` records runs and registers
 * models; `runs` and `models` commands read them back; a run whose process was killed is FAILED when
 * the store opens again, and `--resume` continues that same run to FINISHED.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "../../src/tracking/types.js";
import type { RunSummary } from "../../src/training/run/summary.js";
import { REPO_ROOT, spawnCli } from "../helpers/run-cli.js";

const CONFIG_DIR = join(REPO_ROOT, "config");
const SMALL = { CRYPTOML_MODELS__GRU__HIDDEN_SIZE: "16", CRYPTOML_DATASET__WINDOW: "32" };
let cwd: string;

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnCli(["--config-dir", CONFIG_DIR, ...args], { cwd, env: { ...SMALL, ...env } });

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "cryptoml-tracking-cli-"));
  expect(cli(["data", "import", "--bundled"]).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe("cryptoml train with the embedded tracking store", () => {
  let first: RunSummary;
  let second: RunSummary;

  beforeAll(() => {
    const a = cli(["train", "--duration", "6s", "--symbols", "BTCUSDT", "--model", "gru", "--json"]);
    expect(a.code, a.stderr).toBe(0);
    first = JSON.parse(a.stdout) as RunSummary;
    const b = cli(["train", "--duration", "6s", "--symbols", "BTCUSDT", "--model", "gru", "--json"], {
      CRYPTOML_TRAINING__LEARNING_RATE: "0.003",
    });
    expect(b.code, b.stderr).toBe(0);
    second = JSON.parse(b.stdout) as RunSummary;
  }, 120_000);

  it("records a parent and a child run with params, metrics and artifacts", () => {
    const runs = JSON.parse(cli(["runs", "list", "--json"]).stdout) as Run[];
    const child = runs.find((r) => r.info.runId === first.jobs[0]?.trackingRunId) as Run;
    expect(child.info.status).toBe("FINISHED");
    const tags = Object.fromEntries(child.data.tags.map((t) => [t.key, t.value]));
    expect(tags["mlflow.parentRunId"]).toBe(first.trackingRunId);
    const params = Object.fromEntries(child.data.params.map((p) => [p.key, p.value]));
    expect(params["training.batch_size"]).toBe("64");
    expect(params["architecture.hidden_size"]).toBe("16");
    const metrics = child.data.metrics.map((m) => m.key);
    expect(metrics).toEqual(expect.arrayContaining(["loss", "val_loss", "best_val_loss", "grad_norm"]));
    const shown = cli(["runs", "show", child.info.runId]);
    expect(shown.stdout).toMatch(/model\//);
    expect(shown.stdout).toMatch(/checkpoints\//);
  });

  it("filters and orders runs with MLflow's syntax", () => {
    const listed = cli([
      "runs",
      "list",
      "--filter",
      "params.model = 'gru' and attributes.status = 'FINISHED'",
      "--json",
    ]);
    expect(listed.code, listed.stderr).toBe(0);
    const runs = JSON.parse(listed.stdout) as Run[];
    expect(runs.map((r) => r.info.runName).sort()).toEqual(["BTCUSDT", "BTCUSDT"]);
    const bad = cli(["runs", "list", "--filter", "params.model > 'a'"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INVALID_PARAMETER_VALUE: Invalid comparator '>'/);
  });

  it("compares runs side by side, marking what differs", () => {
    const ids = [first.jobs[0]?.trackingRunId, second.jobs[0]?.trackingRunId] as string[];
    const compared = cli(["runs", "compare", ...ids]);
    expect(compared.code, compared.stderr).toBe(0);
    expect(compared.stdout).toMatch(/\* params\.training\.learning_rate\s+0\.001\s+0\.003/);
    expect(compared.stdout).toMatch(/metrics\.best_val_loss/);
  });

  it("registers each model version and keeps the champion the better one; promote moves it", () => {
    const shown = JSON.parse(cli(["models", "show", "cryptoml-BTCUSDT-gru", "--json"]).stdout) as {
      versions: { version: string; aliases: string[]; runId: string }[];
    };
    expect(shown.versions.map((v) => v.version).sort()).toEqual(["1", "2"]);
    const better =
      (second.jobs[0]?.bestValLoss as number) < (first.jobs[0]?.bestValLoss as number) ? "2" : "1";
    expect(shown.versions.find((v) => v.aliases.includes("champion"))?.version).toBe(better);
    const other = better === "1" ? "2" : "1";
    const promoted = cli(["models", "promote", "cryptoml-BTCUSDT-gru", other]);
    expect(promoted.stdout).toMatch(new RegExp(`champion → v${other} \\(was v${better}\\)`));
    expect(cli(["models", "list"]).stdout).toMatch(
      new RegExp(`cryptoml-BTCUSDT-gru\\s+2\\s+champion→v${other}`),
    );
    expect(cli(["models", "promote", "cryptoml-BTCUSDT-gru", "9"]).stderr).toMatch(/RESOURCE_DOES_NOT_EXIST/);
  });
});

describe("a run killed with SIGKILL", () => {
  it("is FAILED when the store next opens, and --resume finishes that same run", async () => {
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, "bin", "cryptoml.js"),
        "--config-dir",
        CONFIG_DIR,
        "train",
        "--duration",
        "10m",
        "--symbols",
        "BTCUSDT",
        "--model",
        "gru",
      ],
      {
        cwd,
        env: {
          ...process.env,
          ...SMALL,
          CRYPTOML_TRAINING__EPOCHS: "2",
          CRYPTOML_TRAINING__CHECKPOINT_EVERY_STEPS: "50",
        },
        stdio: "ignore",
      },
    );
    const runsDir = join(cwd, ".cryptoml", "runs");
    const before = new Set(await readdir(runsDir).catch(() => [] as string[]));
    let runDir: string | undefined;
    for (let waited = 0; waited < 60_000 && runDir === undefined; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      const fresh = (await readdir(runsDir).catch(() => [] as string[])).find((n) => !before.has(n));
      const last = fresh && join(runsDir, fresh, "checkpoints", "BTCUSDT", "last.safetensors");
      if (last && (await stat(last).catch(() => undefined))) runDir = join(runsDir, fresh);
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    expect(runDir).toBeDefined();
    const killed = (
      JSON.parse(cli(["runs", "list", "--filter", "attributes.status = 'FAILED'", "--json"]).stdout) as Run[]
    ).map((r) => r.info.runName);
    expect(killed).toContain("BTCUSDT");
    const resumed = cli(["train", "--resume", runDir as string, "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(resumed.stdout) as RunSummary;
    const run = JSON.parse(
      cli(["runs", "show", summary.jobs[0]?.trackingRunId as string, "--json"]).stdout,
    ) as Run;
    expect(run.info.status).toBe("FINISHED");
    expect(
      JSON.parse(cli(["runs", "list", "--filter", "attributes.status = 'FAILED'", "--json"]).stdout),
    ).toEqual([]);
  }, 120_000);
});
