import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isCryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import { type Interval, missingBetween, nextOpenTime } from "../data/intervals.js";
import type { FeatureFrame } from "../features/types.js";
import { buildDataset, type Dataset } from "./dataset.js";
import { enumerateSamples } from "./samples.js";
import { fitScaler, windowRows } from "./scalers.js";
import { makeSeries } from "./testing.js";
import type {
  DatasetConfig,
  SampleRange,
  SampleTable,
  ScalerKind,
  TargetKind,
  WalkForwardSpan,
} from "./types.js";
import { WindowBatchSource } from "./windows.js";

const RUNS = { numRuns: 250 };

/** mulberry32: the values of a scenario follow from one shrinkable seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scenario {
  series: CandleSeries;
  frame: FeatureFrame;
  config: DatasetConfig;
}

const arbScenario = fc
  .record({
    interval: fc.constantFrom<Interval>("1h", "1d", "1mo"),
    n: fc.integer({ min: 20, max: 180 }),
    gaps: fc.array(fc.record({ at: fc.nat(), size: fc.integer({ min: 1, max: 3 }) }), { maxLength: 4 }),
    warmup: fc.integer({ min: 0, max: 6 }),
    lookback: fc.integer({ min: 0, max: 5 }),
    nanRows: fc.array(fc.nat(), { maxLength: 2 }),
    seed: fc.integer(),
    window: fc.integer({ min: 1, max: 8 }),
    horizon: fc.integer({ min: 1, max: 6 }),
    kind: fc.constantFrom<TargetKind>("both", "regression", "classification"),
    deadZone: fc.constantFrom(0, 0, 0.002, 0.01),
    scaler: fc.constantFrom<ScalerKind>("standard", "minmax", "robust", "none"),
    parts: fc.tuple(fc.integer({ min: 3, max: 8 }), fc.nat(3), fc.nat(3), fc.nat(2)),
    embargo: fc.integer({ min: 0, max: 4 }),
    folds: fc.integer({ min: 0, max: 3 }),
    mode: fc.constantFrom("expanding" as const, "rolling" as const),
    trainSize: fc.option(fc.integer({ min: 5, max: 60 }), { nil: null }),
    testSize: fc.option(fc.integer({ min: 1, max: 20 }), { nil: null }),
    span: fc.constantFrom<WalkForwardSpan>("before_test", "all"),
  })
  .map((p): Scenario => {
    const random = rng(p.seed);
    const gapsBefore: number[] = [];
    for (const gap of p.gaps) gapsBefore[1 + (gap.at % (p.n - 1))] = gap.size;
    const closes = [100];
    while (closes.length < p.n) closes.push((closes.at(-1) as number) * Math.exp((random() - 0.5) * 0.04));
    const series = makeSeries(closes, gapsBefore, p.interval);
    const noise = Array.from({ length: p.n }, () => random() * 10 - 5);
    const ret = closes.map((close, i) =>
      i === 0 ? Number.NaN : Math.log(close / (closes[i - 1] as number)),
    );
    for (const row of p.nanRows) noise[row % p.n] = Number.NaN;
    const columns = [Float64Array.from(noise), Float64Array.from(ret)];
    for (const column of columns) column.fill(Number.NaN, 0, p.warmup);
    // "noise" pretends to read `lookback` earlier candles; "ret" really reads one.
    const frame: FeatureFrame = {
      names: ["noise", "ret"],
      columns,
      rows: p.n,
      warmup: Math.max(1, p.warmup),
      lookbacks: [p.lookback, 1],
      lookback: Math.max(p.lookback, 1),
      specs: [],
    };
    const [a, b, c, d] = p.parts;
    const sum = a + b + c + d;
    const config: DatasetConfig = {
      window: p.window,
      horizon: p.horizon,
      target: { kind: p.kind, dead_zone: p.deadZone },
      scaler: p.scaler,
      split: { train: a / sum, validation: b / sum, test: c / sum },
      embargo: p.embargo,
      walk_forward: {
        folds: p.folds,
        mode: p.mode,
        train_size: p.mode === "rolling" ? p.trainSize : null,
        test_size: p.testSize,
        span: p.span,
      },
    };
    return { series, frame, config };
  });

/** Builds, or returns undefined for a DATASET refusal (too few samples for this random config). */
function tryBuild({ series, frame, config }: Scenario): Dataset | undefined {
  try {
    return buildDataset(series, frame, config);
  } catch (error) {
    if (isCryptomlError(error) && error.code === "DATASET") return undefined;
    throw error;
  }
}

/** The open time of sample i's label candle (row t+h). */
const labelOpen = (series: CandleSeries, samples: SampleTable, i: number) =>
  series.openTime[(samples.endRow[i] as number) + samples.horizon] as number;

/** Why sample i (earlier) may not train for sample j (later), or undefined when it may. */
function conflict(series: CandleSeries, samples: SampleTable, i: number, j: number, embargo: number) {
  const firstFeature = samples.firstFeatureTime[j] as number;
  if ((samples.labelTime[i] as number) >= firstFeature) return `label of ${i} reaches features of ${j}`;
  const between = missingBetween(series.interval, labelOpen(series, samples, i), firstFeature);
  if (between < embargo) return `only ${between} candles between label of ${i} and features of ${j}`;
  return undefined;
}

/** Every sample of `before` is clear of every sample of `after`; the first cut sample was not. */
function assertClear(
  scenario: Scenario,
  dataset: Dataset,
  before: SampleRange,
  rawEnd: number,
  after: SampleRange[],
) {
  const { samples } = dataset;
  const later = after.flatMap((range) => Array.from(dataset.indices(range)));
  for (let i = before.start; i < before.end; i++) {
    for (const j of later) {
      const why = conflict(scenario.series, samples, i, j, scenario.config.embargo);
      if (why !== undefined) throw new Error(`leak: ${why}`);
    }
  }
  const first = later[0];
  if (before.end < rawEnd && first !== undefined) {
    // Purging must be minimal: the first sample cut off really did conflict.
    expect(conflict(scenario.series, samples, before.end, first, scenario.config.embargo)).toBeDefined();
  }
}

describe("leakage properties", () => {
  it("(1) no training label reaches later features, with the embargo kept, in splits and folds", () => {
    let built = 0;
    fc.assert(
      fc.property(arbScenario, (scenario) => {
        const dataset = tryBuild(scenario);
        if (dataset === undefined) return;
        built++;
        const { split, folds, samples } = dataset;
        const n = samples.count;
        const { train, validation } = scenario.config.split;
        const rawTrainEnd = Math.min(n, Math.round(n * train));
        const rawValidationEnd = Math.max(rawTrainEnd, Math.min(n, Math.round(n * (train + validation))));
        expect(split.train.start).toBe(0);
        expect(split.validation.start).toBe(rawTrainEnd);
        expect(split.test.start).toBe(rawValidationEnd);
        assertClear(scenario, dataset, split.train, rawTrainEnd, [split.validation, split.test]);
        assertClear(scenario, dataset, split.validation, rawValidationEnd, [split.test]);
        const cut = split.drops.train.purged + split.drops.train.embargoed;
        expect(cut).toBe(rawTrainEnd - split.train.end);

        const wf = scenario.config.walk_forward;
        // Folds end with their span: every sample, or (by default) the samples before the test part,
        // which they then never touch and whose features no fold label reaches.
        const { validation: v, train: tr } = split;
        const spanEnd = wf.span === "all" ? n : v.end > v.start ? v.end : tr.end;
        expect(folds.length).toBe(wf.folds);
        folds.forEach((fold, k) => {
          expect(fold.train.end).toBeGreaterThan(fold.train.start);
          expect(fold.test.end).toBeGreaterThan(fold.test.start);
          expect(fold.train.end).toBeLessThanOrEqual(fold.test.start);
          expect(fold.test.start).toBeGreaterThanOrEqual(k === 0 ? 1 : (folds[k - 1]?.test.end as number));
          if (wf.mode === "expanding") expect(fold.train.start).toBe(0);
          if (wf.mode === "rolling" && wf.train_size !== null) {
            const oldest = fold.testRows.start - wf.train_size;
            expect(samples.endRow[fold.train.start] as number).toBeGreaterThanOrEqual(oldest);
            if (fold.train.start > 0)
              expect(samples.endRow[fold.train.start - 1] as number).toBeLessThan(oldest);
          }
          if (wf.test_size !== null) {
            expect(fold.testRows.end - fold.testRows.start).toBe(wf.test_size);
            const next = folds[k + 1];
            const lastRow = samples.endRow[spanEnd - 1] as number;
            expect(next === undefined ? lastRow + 1 : next.testRows.start).toBe(fold.testRows.end);
          }
          for (const i of dataset.indices(fold.test)) {
            const row = samples.endRow[i] as number;
            expect(row >= fold.testRows.start && row < fold.testRows.end).toBe(true);
          }
          assertClear(scenario, dataset, fold.train, fold.test.start, [fold.test]);
        });
        expect(dataset.description.foldSpan).toMatchObject({ start: 0, end: spanEnd });
        if (folds.length > 0) expect(folds.at(-1)?.test.end).toBe(spanEnd);
        if (wf.span === "before_test") {
          for (const fold of folds) {
            expect(fold.test.end).toBeLessThanOrEqual(split.test.start);
            assertClear(scenario, dataset, fold.test, fold.test.end, [split.test]);
            assertClear(scenario, dataset, fold.train, fold.train.end, [split.test]);
          }
        }
        expect(JSON.parse(JSON.stringify(dataset.description))).toEqual(dataset.description);
      }),
      RUNS,
    );
    expect(built).toBeGreaterThan(RUNS.numRuns / 3);
  });

  it("(2) changing rows after t changes no sample ending by t − h, and no features ending by t", () => {
    const arb = fc.record({ scenario: arbScenario, cut: fc.nat(), seed: fc.integer(), shift: fc.nat(3) });
    fc.assert(
      fc.property(arb, ({ scenario, cut: cutSeed, seed, shift }) => {
        const { series, frame, config } = scenario;
        const cut = cutSeed % series.length;
        const changed = perturbAfter(series, frame, cut, rng(seed), shift);
        const before = windows(series, frame, config);
        const after = windows(changed.series, changed.frame, config);
        const h = config.horizon;
        const settled = (table: SampleTable) => Array.from(table.endRow).filter((row) => row <= cut - h);
        expect(settled(after.samples)).toEqual(settled(before.samples));
        for (let i = 0; i < before.samples.count; i++) {
          const row = before.samples.endRow[i] as number;
          if (row > cut) break;
          const j = after.samples.endRow.indexOf(row);
          if (j < 0) continue; // its label horizon now spans a changed row; fine when row > cut − h
          const x = (source: typeof before, k: number) => source.source.batch([k]);
          const [a, b] = [x(before, i), x(after, j)];
          expect(b.x).toEqual(a.x);
          expect(b.firstFeatureTime).toEqual(a.firstFeatureTime);
          if (row <= cut - h) {
            expect([b.yReg, b.yCls, b.labelTime]).toEqual([a.yReg, a.yCls, a.labelTime]);
          }
        }
      }),
      RUNS,
    );
  });

  it("(3) every scaler is the one fitted on its own training windows, and blind to all other rows", () => {
    let built = 0;
    let foldsChecked = 0;
    fc.assert(
      fc.property(arbScenario, fc.integer(), (raw, seed) => {
        // A regression target and finite, positive replacements: the samples, split and folds cannot move.
        const scenario = {
          ...raw,
          config: { ...raw.config, target: { kind: "regression" as const, dead_zone: 0 } },
        };
        const dataset = tryBuild(scenario);
        if (dataset === undefined) return;
        built++;
        const { samples, split, folds } = dataset;
        // Each partition: its training range, and how to find its scaler (live and saved) in a dataset.
        const partitions = [
          {
            name: "split",
            range: split.train,
            scaler: (d: Dataset) => d.split.source.scaler,
            saved: (d: Dataset) => d.description.scaler,
          },
          ...folds.map((fold, k) => ({
            name: `fold ${k}`,
            range: fold.train,
            scaler: (d: Dataset) => d.fold(k).scaler,
            saved: (d: Dataset) => d.description.folds[k]?.scaler,
          })),
        ];
        for (const { name, range, scaler, saved } of partitions) {
          const rows = windowRows(samples, range);
          const expected = fitScaler(scenario.config.scaler, scenario.frame, rows).toJSON();
          expect(scaler(dataset).toJSON(), name).toEqual(expected);
          expect(saved(dataset), `${name} in the description`).toEqual(expected);

          const altered = buildDataset(...alterOutside(scenario, new Set(rows), seed), scenario.config);
          expect(altered.split.train).toEqual(split.train);
          expect(altered.folds.map((f) => [f.train, f.test])).toEqual(folds.map((f) => [f.train, f.test]));
          const after = `${name} after changing rows outside its training windows`;
          expect(scaler(altered).toJSON(), after).toEqual(expected);
          expect(saved(altered), after).toEqual(expected);
        }
        foldsChecked += folds.length;
      }),
      RUNS,
    );
    expect(built).toBeGreaterThan(RUNS.numRuns / 3);
    expect(foldsChecked).toBeGreaterThan(RUNS.numRuns / 3);
  });

  it("(5) the dead zone selects no evaluation sample: only training index lists leave it out", () => {
    let zoned = 0;
    fc.assert(
      fc.property(arbScenario, (raw) => {
        const kind = raw.config.target.kind === "regression" ? "both" : raw.config.target.kind;
        const config = { ...raw.config, target: { kind, dead_zone: 0.004 } };
        const dataset = tryBuild({ ...raw, config });
        if (dataset === undefined) return;
        // The same samples, split and folds as with no dead zone at all: nothing is chosen by its label.
        const plain = buildDataset(raw.series, raw.frame, { ...config, target: { kind, dead_zone: 0 } });
        expect(Array.from(dataset.samples.endRow)).toEqual(Array.from(plain.samples.endRow));
        expect([dataset.split.train, dataset.split.validation, dataset.split.test]).toEqual([
          plain.split.train,
          plain.split.validation,
          plain.split.test,
        ]);
        const { source } = dataset.split;
        expect(Array.from(source.validationIndices)).toEqual(
          Array.from(dataset.indices(dataset.split.validation)),
        );
        expect(Array.from(source.testIndices)).toEqual(Array.from(dataset.indices(dataset.split.test)));
        const train = Array.from(dataset.indices(dataset.split.train));
        expect(Array.from(source.trainIndices)).toEqual(
          train.filter((i) => !Number.isNaN(dataset.samples.yCls[i])),
        );
        expect(dataset.description.counts.droppedForDeadZone).toBe(train.length - source.trainIndices.length);
        dataset.folds.forEach((fold, k) => {
          const f = dataset.fold(k);
          expect(Array.from(f.testIndices)).toEqual(Array.from(dataset.indices(fold.test)));
          expect(f.trainIndices.every((i) => !Number.isNaN(dataset.samples.yCls[i]))).toBe(true);
        });
        const evaluation = [...source.validationIndices, ...source.testIndices];
        if (evaluation.some((i) => Number.isNaN(dataset.samples.yCls[i]))) zoned++;
      }),
      RUNS,
    );
    expect(zoned).toBeGreaterThan(10); // evaluation parts really do hold dead-zone samples, kept
  });

  it("(4) every sample is contiguous and finite, and every such candidate is a sample", () => {
    fc.assert(
      fc.property(arbScenario, ({ series, frame, config }) => {
        const { samples, drops } = enumerateSamples(series, frame, config);
        const expected = referenceSamples(series, frame, config);
        expect(Array.from(samples.endRow)).toEqual(expected.endRows);
        expect(drops).toEqual(expected.drops);
      }),
      RUNS,
    );
  });
});

/** A brute-force restatement of the sample rules, using nextOpenTime instead of missingBetween. */
function referenceSamples(series: CandleSeries, frame: FeatureFrame, config: DatasetConfig) {
  const { window: T, horizon: h } = config;
  const endRows: number[] = [];
  const drops = { gaps: 0, warmup: 0, invalidTarget: 0 };
  for (let t = T - 1; t + h < series.length; t++) {
    let contiguous = true;
    // Every feature of the window must have been computed from gap-free candles: back to L rows earlier.
    for (let r = Math.max(0, t - T + 1 - frame.lookback); r < t + h; r++) {
      if (nextOpenTime(series.interval, series.openTime[r] as number) !== series.openTime[r + 1])
        contiguous = false;
    }
    let finite = t - T + 1 >= frame.warmup;
    for (let r = t - T + 1; r <= t; r++)
      for (const column of frame.columns) finite &&= Number.isFinite(column[r]);
    const y = Math.log((series.close[t + h] as number) / (series.close[t] as number));
    if (!contiguous) drops.gaps++;
    else if (!finite) drops.warmup++;
    else if (!Number.isFinite(y)) drops.invalidTarget++;
    else endRows.push(t);
  }
  return { endRows, drops };
}

function windows(series: CandleSeries, frame: FeatureFrame, config: DatasetConfig) {
  const { samples } = enumerateSamples(series, frame, config);
  const source = new WindowBatchSource(
    samples,
    frame,
    fitScaler("none", frame, new Int32Array(0)),
    "regression",
  );
  return { samples, source };
}

function copySeries(series: CandleSeries): CandleSeries {
  return structuredClone(series);
}

function copyFrame(frame: FeatureFrame): FeatureFrame {
  return { ...frame, columns: frame.columns.map((column) => Float64Array.from(column)) };
}

/** New closes and feature values on every row outside `covered` (finite stays finite, positive positive). */
function alterOutside(
  scenario: Scenario,
  covered: ReadonlySet<number>,
  seed: number,
): [CandleSeries, FeatureFrame] {
  const random = rng(seed);
  const series = copySeries(scenario.series);
  const frame = copyFrame(scenario.frame);
  for (let row = 0; row < series.length; row++) {
    if (covered.has(row)) continue;
    if ((series.close[row] as number) > 0) series.close[row] = 1 + random() * 1000;
    for (const column of frame.columns) if (Number.isFinite(column[row])) column[row] = random() * 1e6 - 5e5;
  }
  return [series, frame];
}

/** New closes, features (some NaN) and later open times (`shift` more candles missing) after row `cut`. */
function perturbAfter(
  series: CandleSeries,
  frame: FeatureFrame,
  cut: number,
  random: () => number,
  shift: number,
) {
  const changed = copySeries(series);
  const changedFrame = copyFrame(frame);
  for (let row = cut + 1; row < series.length; row++) {
    let time = changed.openTime[row] as number;
    for (let k = 0; k < shift; k++) time = nextOpenTime(series.interval, time);
    changed.openTime[row] = time;
    changed.close[row] = random() < 0.05 ? Number.NaN : 1 + random() * 500;
    for (const column of changedFrame.columns) column[row] = random() < 0.05 ? Number.NaN : random() * 100;
  }
  return { series: changed, frame: changedFrame };
}
