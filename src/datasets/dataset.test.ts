import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/helpers/temp-dir.js";
import { computeFeatures } from "../features/compute.js";
import { buildDataset } from "./dataset.js";
import { canonicalJson, datasetFingerprint, readDescription, writeDescription } from "./description.js";
import { fitScaler, scalerFromJson, windowRows } from "./scalers.js";
import { datasetConfig, makeSeries, rowFrame, walkForward } from "./testing.js";

const tempDir = useTempDirs();
// 60 hourly candles, 3 missing before row 30; warm-up rows 0..1.
const series = makeSeries(
  Array.from({ length: 60 }, (_, i) => 100 * Math.exp(0.01 * Math.sin(i))),
  Object.assign([], { 30: 3 }),
);
const frame = rowFrame(series, 2);
const config = datasetConfig({
  window: 4,
  horizon: 2,
  target: { kind: "regression", dead_zone: 0 },
  split: { train: 0.6, validation: 0.2, test: 0.2 },
  embargo: 1,
  walk_forward: walkForward({ folds: 2 }),
});

describe("buildDataset", () => {
  const dataset = buildDataset(series, frame, config);

  it("counts samples and every kind of drop", () => {
    // Candidates: end rows 3..57 (55). Gap between rows 29|30 breaks t = 27..31 (5);
    // warm-up rows 0, 1 break t = 3, 4 (window starts before row 2).
    expect(dataset.description.counts).toEqual({
      candidates: 55,
      samples: 48,
      droppedForGaps: 5,
      droppedForWarmup: 2,
      droppedForInvalidTarget: 0,
      droppedForDeadZone: 0,
      droppedForPurge: 10,
      droppedForEmbargo: 2,
    });
    expect(dataset.samples.count).toBe(48);
  });

  it("describes parts with ISO times and indices", () => {
    const { train, validation, test } = dataset.description.split;
    expect(train).toMatchObject({ start: 0, count: train.end, firstFeatureTime: "2024-01-01T02:00:00.000Z" });
    expect(validation.start).toBe(29);
    expect(test).toMatchObject({ start: 38, end: 48, count: 10 });
    expect(test.lastLabelTime).toBe("2024-01-03T14:59:59.999Z"); // row 59 opens at 62 h (3 missing)
    expect(dataset.description.candles).toEqual({
      count: 60,
      first: "2024-01-01T00:00:00.000Z",
      last: "2024-01-03T14:00:00.000Z",
    });
  });

  it("fits the split's scaler on training windows and serves the split's parts", () => {
    const { source } = dataset.split;
    const rows = dataset.samples.endRow[dataset.split.train.end - 1] as number;
    // Feature "row" over training rows 2..rows is uniform: mean (2 + rows) / 2.
    expect(source.scaler.center[0]).toBeCloseTo((2 + rows) / 2, 10);
    expect(source.scaler.toJSON()).toEqual(dataset.description.scaler);
    const batch = source.batch(source.testIndices.subarray(0, 3));
    expect(batch.shape).toEqual([3, 4, 2]);
    expect(batch.y).toBe(batch.yReg);
    expect(Array.from(source.trainIndices)).toEqual(Array.from(dataset.indices(dataset.split.train)));
    expect(Array.from(source.validationIndices)).toEqual(
      Array.from(dataset.indices(dataset.split.validation)),
    );
    expect(source.batch(source.validationIndices).shape).toEqual([dataset.split.validation.end - 29, 4, 2]);
  });

  it("has no batch access of its own, and each source refuses samples outside its parts", () => {
    expect("batch" in dataset).toBe(false);
    expect("batches" in dataset).toBe(false);
    // Sample train.end was purged against validation: it is in none of the split's parts.
    const purged = dataset.split.train.end;
    expect(() => dataset.split.source.batch([0, purged])).toThrow(
      new RegExp(
        `sample index ${purged} at position 1 is in none of this source's parts \\(train 0\\.\\.${purged - 1}, validation 29`,
      ),
    );
    // Fold 0's source was scaled on its own training windows; fold 1's test block lies after fold 0's.
    const fold0 = dataset.fold(0);
    const later = dataset.folds[1]?.test.end as number;
    expect(() => fold0.batch([later - 1])).toThrow(
      /in none of this source's parts \(fold 0 train 0\.\.\d+, fold 0 test/,
    );
    expect(fold0.batch(fold0.testIndices).shape[0]).toBe(fold0.testIndices.length);
  });

  it("gives each fold its own scaler, fitted on its training windows and saved in the description", () => {
    dataset.folds.forEach((fold, k) => {
      const expected = fitScaler("standard", frame, windowRows(dataset.samples, fold.train)).toJSON();
      expect(dataset.fold(k).scaler.toJSON()).toEqual(expected);
      expect(dataset.description.folds[k]?.scaler).toEqual(expected);
    });
    const fold = dataset.fold(1);
    expect(fold.fold).toBe(dataset.folds[1]);
    expect(fold.scaler.center[0]).not.toBe(dataset.fold(0).scaler.center[0]);
    expect(dataset.fold(1)).toBe(fold);
    expect(() => dataset.fold(2)).toThrow(/fold 2 does not exist; this dataset has 2 folds/);
  });

  it("lays the folds over the samples before the test part by default, or over all of them", () => {
    // Validation [29, 38) is purged and embargoed against test (sample 38) down to [29, 32).
    expect(dataset.split.validation).toEqual({ start: 29, end: 32 });
    expect(dataset.description.foldSpan).toMatchObject({ start: 0, end: 32, count: 32 });
    // m = floor(32 / 3) = 10: test blocks [12, 22) and [22, 32), none reaching the test part.
    expect(dataset.folds.map((fold) => fold.test)).toEqual([
      { start: 12, end: 22 },
      { start: 22, end: 32 },
    ]);
    const all = buildDataset(series, frame, {
      ...config,
      walk_forward: walkForward({ folds: 2, span: "all" }),
    });
    expect(all.description.foldSpan.end).toBe(48);
    expect(all.folds.map((fold) => fold.test)).toEqual([
      { start: 16, end: 32 },
      { start: 32, end: 48 },
    ]);
  });

  it("keeps the fingerprint stable and sensitive to config, data range and candle values", () => {
    expect(dataset.description.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(buildDataset(series, frame, structuredClone(config)).description.fingerprint).toBe(
      dataset.description.fingerprint,
    );
    expect(datasetFingerprint(series, frame, { ...config, embargo: 2 })).not.toBe(
      dataset.description.fingerprint,
    );
    const shorter = makeSeries(Array.from({ length: 59 }, () => 1));
    expect(datasetFingerprint(shorter, rowFrame(shorter), config)).not.toBe(dataset.description.fingerprint);
    // Same rows, same first and last open time, one close corrected: a different fingerprint.
    const corrected = structuredClone(series);
    corrected.close[40] = (corrected.close[40] as number) * 1.001;
    expect(datasetFingerprint(corrected, frame, config)).not.toBe(dataset.description.fingerprint);
    const louder = structuredClone(series);
    louder.volume[40] = 2;
    expect(datasetFingerprint(louder, frame, config)).not.toBe(dataset.description.fingerprint);
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3] } })).toBe('{"a":{"c":[3],"d":2},"b":1}');
  });

  it("tells relative from absolute MACD/ATR apart, by name and by fingerprint", () => {
    const candles = makeSeries(Array.from({ length: 80 }, (_, i) => 100 + 10 * Math.sin(i / 3)));
    const absolute = computeFeatures(candles, [{ type: "atr", period: 5, relative: false }]);
    const relative = computeFeatures(candles, [{ type: "atr", period: 5, relative: true }]);
    expect([absolute.names, relative.names]).toEqual([["atr_5"], ["atr_rel_5"]]);
    const small = { ...config, walk_forward: walkForward({ folds: 0 }) };
    const a = buildDataset(candles, absolute, small).description;
    const b = buildDataset(candles, relative, small).description;
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(b.featureSpecs).toEqual([{ type: "atr", period: 5, relative: true }]);
    // Even with names forced equal, the specs alone change the fingerprint.
    expect(datasetFingerprint(candles, { ...relative, names: absolute.names }, small)).not.toBe(
      datasetFingerprint(candles, absolute, small),
    );
  });

  it("round-trips the description through an atomic file write", async () => {
    const dir = join(tempDir(), "nested", "out");
    const path = join(dir, "dataset.json");
    await writeDescription(path, dataset.description);
    await writeDescription(path, dataset.description); // replaces in place
    expect(readdirSync(dir)).toEqual(["dataset.json"]); // no temporary file left behind
    const back = await readDescription(path);
    expect(back).toEqual(JSON.parse(JSON.stringify(dataset.description)));
    expect(scalerFromJson(back.scaler).center).toEqual(dataset.split.source.scaler.center);
    expect(scalerFromJson(back.folds[1]?.scaler as never).center).toEqual(dataset.fold(1).scaler.center);
  });

  it("refuses unreadable or foreign description files", async () => {
    const dir = tempDir();
    await expect(readDescription(join(dir, "missing.json"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    writeFileSync(join(dir, "bad.json"), "{");
    await expect(readDescription(join(dir, "bad.json"))).rejects.toThrow(/not valid JSON/);
    writeFileSync(join(dir, "v9.json"), JSON.stringify({ ...dataset.description, version: 9 }));
    await expect(readDescription(join(dir, "v9.json"))).rejects.toThrow(
      /version 9 is not the supported version 2/,
    );
    const badFold = structuredClone(dataset.description);
    (badFold.folds[1] as { scaler: unknown }).scaler = { kind: "zscore", features: [] };
    writeFileSync(join(dir, "fold.json"), JSON.stringify(badFold));
    await expect(readDescription(join(dir, "fold.json"))).rejects.toThrow(
      /folds\[1\]\.scaler is not a valid scaler/,
    );
  });
});

describe("buildDataset errors", () => {
  const build = (overrides: Parameters<typeof datasetConfig>[0]) =>
    buildDataset(series, frame, { ...config, ...overrides });

  it("names window + horizon when the series is too short", () => {
    expect(() => build({ window: 59, horizon: 2 })).toThrow(
      /has 60 candles but one sample needs window \+ horizon = 59 \+ 2 = 61/,
    );
  });

  it("names the sample count and the drops when too few samples are valid", () => {
    expect(() => build({ window: 40 })).toThrow(
      /0 valid samples but at least 3 are needed .* of 19 candidate windows, 19 span a gap/,
    );
  });

  it("names the rule a config value breaks, in the config check's words", () => {
    expect(() => build({ window: 0, embargo: -1 })).toThrow(
      /^dataset\.window: 0 must be an integer >= 1\ndataset\.embargo: -1 must be an integer >= 0$/,
    );
    expect(() => build({ split: { train: 0.7, validation: 0.3, test: 0.1 } })).toThrow(
      "dataset.split: train 0.7 + validation 0.3 + test 0.1 = 1.1 must be <= 1",
    );
    expect(() => build({ scaler: "zscore" as never })).toThrow(
      'dataset.scaler: "zscore" must be one of "standard", "minmax", "robust", "none"',
    );
  });

  it("accepts what the config file accepts: no validation or test part, and folds: 0", () => {
    const plain = build({
      split: { train: 0.8, validation: 0, test: 0 },
      walk_forward: walkForward({ folds: 0 }),
    });
    expect(plain.folds).toEqual([]);
    expect(plain.split.test).toEqual({ start: 38, end: 38 });
    expect(() => plain.fold(0)).toThrow(
      expect.objectContaining({
        message: "fold 0 does not exist; this dataset has 0 folds",
        hint: expect.stringContaining("0 disables walk-forward"),
      }),
    );
  });

  it("reports an empty training part", () => {
    expect(() => build({ split: { train: 0.05, validation: 0.5, test: 0.45 } })).toThrow(
      /the training part is empty: split.train = 0.05 of 48 samples, 2 purged/,
    );
  });

  it("reports a walk-forward test block that falls into a gap", () => {
    // Valid end rows 5..26 and 32..57; 14 blocks of 2 candles start at row 30, whose rows are invalid.
    expect(() =>
      build({ walk_forward: walkForward({ folds: 14, mode: "rolling", test_size: 2, span: "all" }) }),
    ).toThrow(/fold 0 has no valid samples: end rows 30..31 hold none/);
  });

  it("rejects a frame that does not match the series", () => {
    expect(() => buildDataset(series, rowFrame(makeSeries([1, 2, 3])), config)).toThrow(
      /feature frame has 3 rows but the series has 60/,
    );
  });
});
