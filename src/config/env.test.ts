import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_DIR, fixtureDir, problemsOf } from "../../test/helpers/config-fixtures.js";
import { defaultConfig, loadConfig } from "./index.js";

describe("environment overrides", () => {
  it("maps CRYPTOML_<SECTION>__<KEY> to section.key and parses values as YAML", async () => {
    const loaded = await loadConfig({
      configDir: CONFIG_DIR,
      env: {
        CRYPTOML_TRAINING__BATCH_SIZE: "32",
        CRYPTOML_DATASET__WALK_FORWARD__FOLDS: "3",
        CRYPTOML_DATA__SYMBOLS: "[BTCUSDT, ETHUSDT]",
        CRYPTOML_TRAINING__OPTIMIZER: "adamw",
      },
    });
    expect(loaded.config.training.batch_size).toBe(32);
    expect(loaded.config.training.optimizer).toBe("adamw");
    expect(loaded.config.dataset.walk_forward.folds).toBe(3);
    expect(loaded.config.data.symbols).toEqual(["BTCUSDT", "ETHUSDT"]);
    expect(loaded.overrides).toEqual([
      { variable: "CRYPTOML_DATASET__WALK_FORWARD__FOLDS", path: "dataset.walk_forward.folds", value: 3 },
      { variable: "CRYPTOML_DATA__SYMBOLS", path: "data.symbols", value: ["BTCUSDT", "ETHUSDT"] },
      { variable: "CRYPTOML_TRAINING__BATCH_SIZE", path: "training.batch_size", value: 32 },
      { variable: "CRYPTOML_TRAINING__OPTIMIZER", path: "training.optimizer", value: "adamw" },
    ]);
  });

  it("ignores variables without the prefix or without a double underscore", async () => {
    const loaded = await loadConfig({
      configDir: CONFIG_DIR,
      env: { CRYPTOML_HOME: "/tmp/x", TRAINING__BATCH_SIZE: "-1", PATH: "/bin", CRYPTOML_: "x" },
    });
    expect(loaded.overrides).toEqual([]);
    expect(loaded.config).toEqual(defaultConfig());
  });

  it("applies after the file, so an override can fix a bad file value", async () => {
    const loaded = await loadConfig({
      configDir: fixtureDir("negative-batch-size"),
      env: { CRYPTOML_TRAINING__BATCH_SIZE: "16" },
    });
    expect(loaded.config.training.batch_size).toBe(16);
    expect(loaded.config.training.seed).toBe(7); // the rest of the file still counts
  });

  it("overrides one field of a default search space and keeps the rest", async () => {
    const loaded = await loadConfig({
      configDir: join(CONFIG_DIR, "no-such-subdir"),
      env: { CRYPTOML_SEARCH_SPACES__LSTM_ATTENTION__DROPOUT__HIGH: "0.3" },
    });
    const space = loaded.config.search_spaces.lstm_attention;
    expect(space?.dropout).toEqual({ type: "float", low: 0, high: 0.3, log: false, step: null });
    expect(space?.window).toEqual({ type: "categorical", choices: [32, 64, 96] });
  });

  it("addresses list items by index", async () => {
    const loaded = await loadConfig({ configDir: CONFIG_DIR, env: { CRYPTOML_FEATURES__2__PERIOD: "21" } });
    expect(loaded.config.features[2]).toEqual({ type: "rsi", period: 21 });
    expect(loaded.overrides[0]?.path).toBe("features[2].period");
  });

  it("reports an invalid value against the variable", async () => {
    expect(await problemsOf(CONFIG_DIR, { CRYPTOML_TRAINING__BATCH_SIZE: "-4" })).toEqual([
      "env CRYPTOML_TRAINING__BATCH_SIZE training.batch_size: -4 must be an integer >= 1",
    ]);
  });

  it("suggests the closest section and key", async () => {
    expect(
      await problemsOf(CONFIG_DIR, {
        CRYPTOML_TRAINNG__EPOCHS: "3",
        CRYPTOML_TRAINING__BATCH_SIZ: "32",
      }),
    ).toEqual([
      'env CRYPTOML_TRAINING__BATCH_SIZ training.batch_siz: unknown key (did you mean "batch_size"?)',
      'env CRYPTOML_TRAINNG__EPOCHS trainng: unknown section (did you mean "training"?)',
    ]);
  });

  it("blames a cross-field rule on the override that broke it", async () => {
    expect(await problemsOf(CONFIG_DIR, { CRYPTOML_DATASET__SPLIT__TRAIN: "0.8" })).toEqual([
      "env CRYPTOML_DATASET__SPLIT__TRAIN dataset.split: train 0.8 + validation 0.15 + test 0.15 = 1.1 must be <= 1",
    ]);
    // The file sets train_size for a rolling span; the override switching to expanding is what broke it.
    const dir = await mkdtemp(join(tmpdir(), "cryptoml-env-"));
    try {
      const yaml = "dataset:\n  walk_forward:\n    mode: rolling\n    train_size: 500\n";
      await writeFile(join(dir, "training.yaml"), yaml);
      expect(await problemsOf(dir, { CRYPTOML_DATASET__WALK_FORWARD__MODE: "expanding" })).toEqual([
        'env CRYPTOML_DATASET__WALK_FORWARD__MODE dataset.walk_forward.train_size: 500 must be null when mode is "expanding" (set mode: rolling to use it)',
      ]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it("reports unusable names and values", async () => {
    expect(
      await problemsOf(CONFIG_DIR, {
        CRYPTOML_DATA__SYMBOLS: "[BTCUSDT",
        CRYPTOML_TRAINING__EPOCHS__MAX: "3",
        CRYPTOML_FEATURES__9__PERIOD: "3",
        CRYPTOML_TRAINING____EPOCHS: "3",
      }),
    ).toEqual([
      "env CRYPTOML_DATA__SYMBOLS data.symbols: YAML syntax error in value: Flow sequence must end with a ]",
      'env CRYPTOML_FEATURES__9__PERIOD features: "9" is not an index of this list (0 to 8)',
      'env CRYPTOML_TRAINING__EPOCHS__MAX training.epochs: is 50, not a mapping, so it has no key "max"',
      "env CRYPTOML_TRAINING____EPOCHS: empty level in the name (use exactly two underscores between levels)",
    ]);
  });

  it("collects file and override problems together, files first", async () => {
    const file = join(fixtureDir("negative-batch-size"), "training.yaml");
    expect(
      await problemsOf(fixtureDir("negative-batch-size"), {
        CRYPTOML_MONITORING__PORT: "0",
        CRYPTOML_DATA__INTERVAL: "5x",
      }),
    ).toEqual([
      `${file}:8 training.batch_size: -4 must be an integer >= 1`,
      'env CRYPTOML_DATA__INTERVAL data.interval: "5x" must be one of "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1mo"',
      "env CRYPTOML_MONITORING__PORT monitoring.port: 0 must be an integer >= 1 and <= 65535",
    ]);
  });
});
