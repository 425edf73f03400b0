import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/helpers/temp-dir.js";
import { buildDataset } from "./dataset.js";
import { canonicalJson, datasetFingerprint, readDescription, writeDescription } from "./description.js";
import { scalerFromJson } from "./scalers.js";
import { datasetConfig, makeSeries, rowFrame } from "./testing.js";

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
  walk_forward: { folds: 2, mode: "expanding", train_size: null, test_size: null },
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

  it("fits the scaler on training windows and serves scaled batches", () => {
    const rows = dataset.samples.endRow[dataset.split.train.end - 1] as number;
    // Feature "row" over training rows 2..rows is uniform: mean (2 + rows) / 2.
    expect(dataset.scaler.center[0]).toBeCloseTo((2 + rows) / 2, 10);
    const batch = dataset.batch(dataset.indices(dataset.split.test).subarray(0, 3));
    expect(batch.shape).toEqual([3, 4, 2]);
    expect(batch.y).toBe(batch.yReg);
    expect(dataset.materialize().shape).toEqual([48, 4, 2]);
  });

  it("gives each fold its own scaler fitted on its training windows", () => {
    const fold = dataset.fold(1);
    expect(fold.fold).toBe(dataset.folds[1]);
    expect(fold.scaler.center[0]).not.toBe(dataset.fold(0).scaler.center[0]);
    expect(dataset.fold(1)).toBe(fold);
    expect(() => dataset.fold(2)).toThrow(/fold 2 does not exist; this dataset has 2 folds/);
  });

  it("keeps the fingerprint stable and sensitive to config and data range", () => {
    expect(dataset.description.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(buildDataset(series, frame, structuredClone(config)).description.fingerprint).toBe(
      dataset.description.fingerprint,
    );
    expect(datasetFingerprint(series, frame, { ...config, embargo: 2 })).not.toBe(
      dataset.description.fingerprint,
    );
    const shorter = makeSeries(Array.from({ length: 59 }, () => 1));
    expect(datasetFingerprint(shorter, rowFrame(shorter), config)).not.toBe(dataset.description.fingerprint);
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3] } })).toBe('{"a":{"c":[3],"d":2},"b":1}');
  });

  it("round-trips the description through an atomic file write", async () => {
    const dir = join(tempDir(), "nested", "out");
    const path = join(dir, "dataset.json");
    await writeDescription(path, dataset.description);
    await writeDescription(path, dataset.description); // replaces in place
    expect(readdirSync(dir)).toEqual(["dataset.json"]); // no temporary file left behind
    const back = await readDescription(path);
    expect(back).toEqual(JSON.parse(JSON.stringify(dataset.description)));
    expect(scalerFromJson(back.scaler).center).toEqual(dataset.scaler.center);
  });

  it("refuses unreadable or foreign description files", async () => {
    const dir = tempDir();
    await expect(readDescription(join(dir, "missing.json"))).rejects.toMatchObject({ code: "NOT_FOUND" });
    writeFileSync(join(dir, "bad.json"), "{");
    await expect(readDescription(join(dir, "bad.json"))).rejects.toThrow(/not valid JSON/);
    writeFileSync(join(dir, "v9.json"), JSON.stringify({ ...dataset.description, version: 9 }));
    await expect(readDescription(join(dir, "v9.json"))).rejects.toThrow(
      /version 9 is not the supported version 1/,
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

  it("names the rule a config value breaks", () => {
    expect(() => build({ window: 0, embargo: -1 })).toThrow(
      /dataset.window=0 must be an integer >= 1\ndataset.embargo=-1 must be an integer >= 0/,
    );
    expect(() => build({ split: { train: 0.7, validation: 0.3, test: 0.1 } })).toThrow(/must be <= 1/);
  });

  it("reports an empty training part", () => {
    expect(() => build({ split: { train: 0.05, validation: 0.5, test: 0.45 } })).toThrow(
      /the training part is empty: split.train = 0.05 of 48 samples, 2 purged/,
    );
  });

  it("reports a walk-forward test block that falls into a gap", () => {
    // Valid end rows 5..26 and 32..57; 14 blocks of 2 candles start at row 30, whose rows are invalid.
    expect(() =>
      build({ walk_forward: { folds: 14, mode: "rolling", train_size: null, test_size: 2 } }),
    ).toThrow(/fold 0 has no valid samples: end rows 30..31 hold none/);
  });

  it("rejects a frame that does not match the series", () => {
    expect(() => buildDataset(series, rowFrame(makeSeries([1, 2, 3])), config)).toThrow(
      /feature frame has 3 rows but the series has 60/,
    );
  });
});
