import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONFIG_DIR, fixtureDir, problemsOf } from "../../test/helpers/config-fixtures.js";
import { ConfigError } from "../core/errors.js";
import { DEFAULT_DATASET_CONFIG } from "../datasets/types.js";
import type { FeatureSpec } from "../features/types.js";
import { CONFIG_FILES, configSchema, defaultConfig, loadConfig, SECTION_FILES, sectionsOf } from "./index.js";

describe("defaults", () => {
  it("fills every section when the directory does not exist", async () => {
    const loaded = await loadConfig({ configDir: join(tmpdir(), "cryptoml-no-such-dir") });
    expect(loaded.config).toEqual(configSchema.parse({}));
    expect(loaded.files.map((f) => f.found)).toEqual([false, false, false, false, false]);
    expect(loaded.files.map((f) => f.name)).toEqual([...CONFIG_FILES]);
    expect(loaded.overrides).toEqual([]);
  });

  it("has the documented default values", () => {
    const config = defaultConfig();
    expect(config.data.symbols).toEqual(["BTCUSDT", "ETHUSDT", "ADAUSDT"]);
    expect(config.data.interval).toBe("5m");
    expect(config.dataset.split).toEqual({ train: 0.7, validation: 0.15, test: 0.15 });
    expect(config.dataset.walk_forward).toEqual({
      folds: 5,
      mode: "expanding",
      train_size: null,
      test_size: null,
      span: "before_test",
    });
    expect(config.dataset.embargo).toBe(12);
    // The dataset builder's defaults are this schema's, not a second copy.
    expect(config.dataset).toEqual(DEFAULT_DATASET_CONFIG);
    expect(config.training.batch_size).toBe(64);
    expect(config.training.model).toBe("lstm_attention");
    expect(config.features.map((f) => f.type)).toEqual([
      "log_return",
      "realized_volatility",
      "rsi",
      "macd",
      "bollinger_pct_b",
      "atr",
      "volume_zscore",
      "time_of_day",
      "day_of_week",
    ]);
    expect(config.features[3]).toEqual({ type: "macd", fast: 12, slow: 26, signal: 9, relative: true });
    expect(config.search_spaces.lstm_attention?.hidden_size).toEqual({
      type: "int",
      low: 32,
      high: 128,
      log: false,
      step: 32,
    });
    expect(config.monitoring).toEqual({ host: "127.0.0.1", port: 9464, scrape_interval: "15s" });
    // The features section must feed the feature pipeline unchanged.
    const specs: FeatureSpec[] = config.features;
    expect(specs).toHaveLength(9);
  });

  it("returns a fresh copy each time, so callers cannot corrupt the defaults", () => {
    defaultConfig().data.symbols.push("XRPUSDT");
    expect(defaultConfig().data.symbols).toHaveLength(3);
  });

  it("loads the shipped config/ files, which equal the defaults", async () => {
    const loaded = await loadConfig({ configDir: CONFIG_DIR });
    expect(loaded.files.every((f) => f.found)).toBe(true);
    expect(loaded.config).toEqual(defaultConfig());
  });

  it("writes every key with its default value in the shipped files", async () => {
    const defaults = defaultConfig();
    for (const file of CONFIG_FILES) {
      const raw = parse(await readFile(join(CONFIG_DIR, file), "utf8")) as Record<string, unknown>;
      const expected = Object.fromEntries(sectionsOf(file).map((s) => [s, defaults[s]]));
      expect(raw, file).toEqual(expected);
    }
  });

  it("treats empty files, comment-only files and empty sections as defaults", async () => {
    const loaded = await loadConfig({ configDir: fixtureDir("empty-files") });
    expect(loaded.files.filter((f) => f.found).map((f) => f.name)).toEqual([
      "training.yaml",
      "experiments.yaml",
      "monitoring.yaml",
    ]);
    expect(loaded.config).toEqual(defaultConfig());
  });

  it("fills omitted fields of a feature entry with that feature's defaults", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cryptoml-config-"));
    try {
      await writeFile(join(dir, "training.yaml"), "features:\n  - type: macd\n    fast: 5\n  - type: rsi\n");
      const { config } = await loadConfig({ configDir: dir });
      expect(config.features).toEqual([
        { type: "macd", fast: 5, slow: 26, signal: 9, relative: true },
        { type: "rsi", period: 14 },
      ]);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe("broken files: one exact line per problem", () => {
  const cases: [fixture: string, file: string, expected: string[]][] = [
    ["negative-batch-size", "training.yaml", [":8 training.batch_size: -4 must be an integer >= 1"]],
    [
      "string-in-number",
      "training.yaml",
      [':3 training.learning_rate: must be a number > 0 (got string "abc")'],
    ],
    ["unknown-key", "training.yaml", [':3 dataset.windw: unknown key (did you mean "window"?)']],
    ["bad-enum", "training.yaml", [':3 training.optimizer: "adamm" must be one of "adam", "adamw", "sgd"']],
    [
      "yaml-syntax",
      "training.yaml",
      [
        ":8 YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]",
      ],
    ],
    ["macd-fast-slow", "training.yaml", [":7 features[2].slow: 20 must be greater than fast (30)"]],
    [
      "split-sum",
      "training.yaml",
      [":3 dataset.split: train 0.8 + validation 0.15 + test 0.15 = 1.1 must be <= 1"],
    ],
    [
      "expanding-with-train-size",
      "training.yaml",
      [
        ':4 dataset.walk_forward.train_size: 500 must be null when mode is "expanding" (set mode: rolling to use it)',
      ],
    ],
    [
      "wrong-file-section",
      "hyperparameters.yaml",
      [":3 training: section belongs in training.yaml, not hyperparameters.yaml"],
    ],
    [
      "top-level-list",
      "monitoring.yaml",
      [
        ':1 top level must be a mapping of sections (monitoring, alerting) (got list [{host: "127.0.0.1"}, {port: 9464}])',
      ],
    ],
    [
      "bad-feature",
      "training.yaml",
      [
        ':3 features[0].perod: unknown key (did you mean "period"?)',
        ':4 features[1].type: "bollinger" must be one of "log_return", "realized_volatility", "rsi", "macd", "bollinger_pct_b", "atr", "volume_zscore", "time_of_day", "day_of_week"',
        ':5 features[2].type: missing (must be one of "log_return", "realized_volatility", "rsi", "macd", "bollinger_pct_b", "atr", "volume_zscore", "time_of_day", "day_of_week")',
        ":7 features[3].lags[2]: 3 must not repeat a lag",
      ],
    ],
  ];

  it.each(cases)("%s", async (fixture, file, expected) => {
    const path = join(fixtureDir(fixture), file);
    expect(await problemsOf(fixtureDir(fixture))).toEqual(expected.map((line) => `${path}${line}`));
  });

  it("collects every problem across all files, in file and line order", async () => {
    const dir = fixtureDir("many-problems");
    const at = (file: string, rest: string) => `${join(dir, file)}${rest}`;
    expect(await problemsOf(dir)).toEqual([
      at(
        "training.yaml",
        ':2 data.interval: "7m" must be one of "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1mo"',
      ),
      at(
        "training.yaml",
        ':3 data.symbols[1]: "btc" must be 2-20 upper-case letters or digits (e.g. "BTCUSDT")',
      ),
      at("training.yaml", ":5 training.batch_size: 0 must be an integer >= 1"),
      at("training.yaml", ":6 training.workers: 2.5 must be an integer >= 1"),
      at("model_architectures.yaml", ":3 models.transformer.d_model: 66 must be divisible by heads (4)"),
      at("model_architectures.yaml", ':5 models.lstm_atention: unknown key (did you mean "lstm_attention"?)'),
      at(
        "hyperparameters.yaml",
        ":3 search_spaces.gru.learning_rate.high: 0.001 must be greater than low (0.01)",
      ),
      at("hyperparameters.yaml", ":4 search_spaces.gru.dropout.low: missing (must be a number)"),
      at(
        "hyperparameters.yaml",
        ':7 search_spaces.gru.layers.type: "normal" must be one of "float", "int", "categorical"',
      ),
      at("monitoring.yaml", ":2 monitoring.port: 70000 must be an integer >= 1 and <= 65535"),
      at(
        "monitoring.yaml",
        ':3 monitoring.scrape_interval: "15 seconds" must be a duration like "500ms", "15s", "1m" or "1h"',
      ),
    ]);
  });

  it("throws one ConfigError whose message lists the problems and whose hint says what to run", async () => {
    const error = await loadConfig({ configDir: fixtureDir("negative-batch-size") }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.code).toBe("CONFIG_INVALID");
    expect(configError.message).toBe(configError.problems.join("\n"));
    expect(configError.hint).toBe("fix the values above, then run `cryptoml config check`");
  });
});

describe("dataset: the rules the dataset builder follows", () => {
  let dir = "";
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const load = async (yaml: string) => {
    dir = await mkdtemp(join(tmpdir(), "cryptoml-config-"));
    await writeFile(join(dir, "training.yaml"), yaml);
    return loadConfig({ configDir: dir });
  };

  it("accepts an empty validation or test part, folds: 0, and a rolling span of derived length", async () => {
    const { config } = await load(
      "dataset:\n  split: { train: 0.8, validation: 0, test: 0.2 }\n  walk_forward: { folds: 0, mode: rolling }\n",
    );
    expect(config.dataset.split).toEqual({ train: 0.8, validation: 0, test: 0.2 });
    expect(config.dataset.walk_forward).toMatchObject({ folds: 0, mode: "rolling", train_size: null });
    expect(
      (await load("dataset:\n  split: { train: 1, validation: 0, test: 0 }\n")).config.dataset.split.train,
    ).toBe(1);
  });

  it("rejects an empty training part, negative fractions and an unknown span", async () => {
    dir = await mkdtemp(join(tmpdir(), "cryptoml-config-"));
    await writeFile(
      join(dir, "training.yaml"),
      "dataset:\n  split:\n    train: 0\n    test: -0.1\n  walk_forward:\n    span: test\n",
    );
    const file = join(dir, "training.yaml");
    expect(await problemsOf(dir)).toEqual([
      `${file}:3 dataset.split.train: 0 must be a number > 0 and <= 1`,
      `${file}:4 dataset.split.test: -0.1 must be a number >= 0 and <= 1`,
      `${file}:6 dataset.walk_forward.span: "test" must be one of "before_test", "all"`,
    ]);
  });
});

describe("file-level problems", () => {
  let dir = "";
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const write = async (files: Record<string, string>) => {
    dir = await mkdtemp(join(tmpdir(), "cryptoml-config-"));
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return dir;
  };

  it("names an unknown section and suggests the closest", async () => {
    await write({ "training.yaml": "data: {}\ntrainig:\n  epochs: 3\n" });
    expect(await problemsOf(dir)).toEqual([
      `${join(dir, "training.yaml")}:2 trainig: unknown section (did you mean "training"?)`,
    ]);
  });

  it("reports a value of the wrong kind for a whole section", async () => {
    await write({ "monitoring.yaml": "monitoring: 9464\n" });
    expect(await problemsOf(dir)).toEqual([
      `${join(dir, "monitoring.yaml")}:1 monitoring: must be a mapping (got number 9464)`,
    ]);
  });

  it("reports a duplicate key as a YAML error on its line", async () => {
    await write({ "training.yaml": "training:\n  epochs: 3\n  epochs: 4\n" });
    expect(await problemsOf(dir)).toEqual([
      `${join(dir, "training.yaml")}:3 YAML syntax error: Map keys must be unique`,
    ]);
  });

  it("shows the value a refinement rejected", async () => {
    await write({ "training.yaml": "data:\n  base_url: ftp://example.com\n" });
    expect(await problemsOf(dir)).toEqual([
      `${join(dir, "training.yaml")}:2 data.base_url: "ftp://example.com" must be an http(s) URL (e.g. https://data.binance.vision)`,
    ]);
  });

  it("rejects a config dir that is a file", async () => {
    await write({ "training.yaml": "" });
    const file = join(dir, "training.yaml");
    expect(await problemsOf(file)).toEqual([
      `${file}: is not a directory (pass --config-dir with a directory)`,
    ]);
  });

  it("knows which file each section belongs in", () => {
    expect(SECTION_FILES.search_spaces).toBe("hyperparameters.yaml");
    expect(sectionsOf("training.yaml")).toEqual(["data", "features", "dataset", "training"]);
    expect(sectionsOf("experiments.yaml")).toEqual(["tracking", "experiments"]);
  });
});
