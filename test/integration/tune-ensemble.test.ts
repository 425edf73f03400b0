/**
 * Ensemble optimisation after a small study on the bundled data: the saved model is a weighted ensemble
 * of the study's trials whose weights sum to 1, and its cross-validated score is no worse than the best
 * single member's.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readStoredSeries } from "../../src/cli/commands/data.js";
import { loadConfig } from "../../src/config/index.js";
import { parseInterval } from "../../src/data/intervals.js";
import { ArrowFileCandleStore } from "../../src/data/store/arrow-file-store.js";
import { loadModel } from "../../src/models/registry.js";
import { optimizeEnsemble } from "../../src/tuning/ensemble.js";
import { modelObjective } from "../../src/tuning/objective.js";
import { RandomSampler } from "../../src/tuning/samplers/random.js";
import { InMemoryStorage } from "../../src/tuning/storages/memory.js";
import { Study } from "../../src/tuning/study.js";
import { REPO_ROOT, spawnCli } from "../helpers/run-cli.js";

const CONFIG_DIR = join(REPO_ROOT, "config");
/** Small models and one window (so every trial can join the ensemble): a trial takes about a second. */
const SMALL = {
  CRYPTOML_MODELS__LSTM_ATTENTION__HIDDEN_SIZE: "16",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__WINDOW__CHOICES: "[16]",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__HIDDEN_SIZE__LOW: "8",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__HIDDEN_SIZE__HIGH: "32",
  CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__HIDDEN_SIZE__STEP: "8",
};
const TUNING = { epochs: 2, folds: 2, maxTrainSamples: 3000, metric: "val_loss" } as const;
let cwd: string;

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), "cryptoml-ensemble-"));
  const imported = spawnCli(["--config-dir", CONFIG_DIR, "data", "import", "--bundled"], { cwd, env: SMALL });
  expect(imported.code, imported.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe("optimizeEnsemble", () => {
  it("blends a study's best trials into a saved weighted ensemble no worse than its best member", async () => {
    const { config } = await loadConfig({ configDir: CONFIG_DIR, env: SMALL });
    const store = new ArrowFileCandleStore(resolve(cwd, config.data.store_dir));
    const loadSeries = (symbol: string) =>
      readStoredSeries(store, symbol, parseInterval(config.data.interval));
    const study = await Study.create({
      storage: new InMemoryStorage(),
      studyName: "ensemble-test",
      direction: "minimize",
      sampler: new RandomSampler({ seed: 3 }),
    });
    const model = "lstm_attention";
    await study.optimize(modelObjective({ config, model, symbols: ["BTCUSDT"], loadSeries, ...TUNING }), {
      nTrials: 4,
    });
    expect((await study.getTrials(["COMPLETE"])).length).toBe(4);

    const lines: string[] = [];
    const out = join(cwd, "models", "ensemble.safetensors");
    const result = await optimizeEnsemble({
      study,
      config,
      model,
      symbol: "BTCUSDT",
      loadSeries,
      ...TUNING,
      top: 3,
      out,
      log: (line) => lines.push(line),
    });

    expect(result.path).toBe(out);
    expect(result.members.length).toBeGreaterThan(0);
    expect(result.members.length).toBeLessThanOrEqual(3);
    expect(result.members.reduce((s, m) => s + m.weight, 0)).toBeCloseTo(1, 12);
    expect(result.cvScore).toBeLessThanOrEqual(result.bestSingleScore);
    // Retrained with the trials' seeds on the same folds, the best single member scores as its trial did.
    const best = await study.bestValue;
    expect(result.bestSingleScore).toBeCloseTo(best, 6);
    expect(lines.some((l) => /CV val_loss .* \(best single: trial \d+/.test(l))).toBe(true);

    const saved = await loadModel(out);
    expect(saved.definition.className).toBe("ensemble");
    if (saved.definition.className !== "ensemble") return;
    const { method, members, weights } = saved.definition.config;
    expect(method).toBe("weighted");
    expect(members.length).toBe(result.members.length);
    expect(members.every((m) => m.className === model && m.io.window === 16)).toBe(true);
    expect((weights ?? []).reduce((s, w) => s + w, 0)).toBeCloseTo(1, 6);
    expect(weights).toEqual(result.members.map((m) => m.weight));
  }, 300_000);
});
