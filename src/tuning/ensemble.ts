/**
 * Ensemble optimisation after a study: the best COMPLETE trials are retrained over the objective's
 * walk-forward folds (same seeds, same training subsets) to collect their out-of-fold predictions, greedy
 * selection (ensemble-weights.ts) picks members and weights that optimise the cross-validated metric of
 * the blend, and the chosen members, retrained on the chronological split's training part, are saved
 * as one `weighted` ensemble model.
 */
import type { ResolvedConfig } from "../config/index.js";
import { CryptomlError } from "../core/errors.js";
import type { CandleSeries } from "../data/candles.js";
import type { Dataset } from "../datasets/index.js";
import type { BatchSource } from "../datasets/windows.js";
import { Rng } from "../engine/random.js";
import type { ModelDefinition, ModelIo, ModelName } from "../models/definition.js";
import { createModel, defineModel, loadWeights, type NamedWeights, saveModel } from "../models/registry.js";
import { EvaluationAccumulator } from "../training/metrics.js";
import { predictBatches } from "../training/predict.js";
import { evaluate } from "../training/run/fit-job.js";
import { type FoldPredictions, greedyEnsembleSelection } from "./ensemble-weights.js";
import { buildFoldedDataset, foldIo, foldTrainer, recentSamples } from "./fold-fit.js";
import { better } from "./frozen.js";
import { OBJECTIVE_METRICS, type ObjectiveMetric } from "./objective.js";
import { applyParams } from "./space.js";
import type { Study } from "./study.js";
import type { FrozenTrial, StudyDirection } from "./types.js";

export interface EnsembleOptions {
  readonly study: Study;
  /** The configuration the study was tuned with (trial parameters are applied to it). */
  readonly config: ResolvedConfig;
  /** The architecture the study tuned. */
  readonly model: ModelName;
  readonly symbol: string;
  readonly loadSeries: (symbol: string) => Promise<CandleSeries>;
  /** The study's objective (its direction must be the study's). */
  readonly metric: ObjectiveMetric;
  /** Epochs per fold, as in the study; also the epochs of the final members. */
  readonly epochs: number;
  /** Use the first N walk-forward folds (default: all), as in the study. */
  readonly folds?: number;
  /** Train on at most the most recent N samples, as in the study. */
  readonly maxTrainSamples: number;
  /** How many of the best COMPLETE trials are candidates. Default 5. */
  readonly top?: number;
  /** Greedy selection rounds. Default 30. */
  readonly rounds?: number;
  /** Where the ensemble model is saved (.safetensors). */
  readonly out: string;
  readonly log?: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface EnsembleResult {
  /** The chosen members (trial numbers) and their weights (summing to 1), heaviest first. */
  readonly members: { trial: number; weight: number }[];
  /** The cross-validated metric of the blend on the candidates' out-of-fold predictions. */
  readonly cvScore: number;
  /** The best single candidate's cross-validated metric on the same predictions. */
  readonly bestSingleScore: number;
  readonly path: string;
}

/** EvaluationAccumulator's name for each objective metric. */
const RESULT_KEY = {
  val_loss: "loss",
  val_mae: "mae",
  val_directional_accuracy: "directional_accuracy",
} as const;

/**
 * The `top` best COMPLETE trials that can be blended with the best one: members must share the
 * dataset layout (window, features, target), so only trials with the best trial's `keyOf` remain.
 */
export function ensembleCandidates(
  trials: readonly FrozenTrial[],
  direction: StudyDirection,
  top: number,
  keyOf: (trial: FrozenTrial) => string,
): { candidates: FrozenTrial[]; skipped: FrozenTrial[] } {
  const complete = trials.filter((t) => t.state === "COMPLETE" && Number.isFinite(t.values?.[0]));
  const ranked = [...complete].sort((a, b) => {
    const x = a.values?.[0] as number;
    const y = b.values?.[0] as number;
    if (x === y) return a.number - b.number;
    return better(direction, x, y) ? -1 : 1;
  });
  const best = ranked.slice(0, top);
  if (best.length === 0) return { candidates: [], skipped: [] };
  const key = keyOf(best[0] as FrozenTrial);
  return {
    candidates: best.filter((t) => keyOf(t) === key),
    skipped: best.filter((t) => keyOf(t) !== key),
  };
}

function requireOptions(options: EnsembleOptions, top: number): void {
  if (!Number.isInteger(top) || top < 1) {
    throw new CryptomlError("USAGE", `--top ${top} must be an integer >= 1`, { hint: "use --top 5" });
  }
  if (
    options.study.directions.length !== 1 ||
    options.study.direction !== OBJECTIVE_METRICS[options.metric]
  ) {
    throw new CryptomlError(
      "USAGE",
      `study "${options.study.studyName}" is to ${options.study.directions.join(", ")} but ${options.metric} is to ${OBJECTIVE_METRICS[options.metric]}`,
      { hint: "pass the --metric the study was tuned with (cryptoml tune show lists it)" },
    );
  }
}

/** The trial's configuration: its parameters applied to the study's configuration. */
const configOf = (options: EnsembleOptions, trial: FrozenTrial): ResolvedConfig =>
  applyParams(options.config, options.model, trial.params);

/** Trains `trial`'s model on `trainIndices` as the objective does (same seed), returning its weights. */
async function trainMember(
  options: EnsembleOptions,
  trial: FrozenTrial,
  definition: ModelDefinition,
  source: BatchSource,
  trainIndices: Int32Array,
  validationIndices: Int32Array,
): Promise<readonly NamedWeights[]> {
  const result = await foldTrainer(configOf(options, trial), trial.number, options.epochs, {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  }).fit(definition, { source, trainIndices, validationIndices });
  if (result.status === "interrupted")
    throw new CryptomlError("INTERRUPTED", "ensemble optimisation interrupted");
  return result.weights;
}

/** The model's output rows (all columns) for `indices`, in evaluation mode. */
function predict(
  definition: ModelDefinition,
  weights: readonly NamedWeights[],
  source: BatchSource,
  indices: Int32Array,
): Float32Array {
  const model = createModel(definition, new Rng(0));
  loadWeights(model, weights);
  const parts = [...predictBatches(model, source, indices)].map((p) => p.output);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One fold's test block: what the candidates predict and what their blend is scored against. */
interface FoldTargets {
  readonly io: ModelIo;
  readonly yReg: Float32Array;
  readonly yCls: Float32Array;
}

/** Every candidate's out-of-fold predictions over the objective's folds, and the folds' targets. */
async function outOfFold(
  options: EnsembleOptions,
  dataset: Dataset,
  candidates: readonly FrozenTrial[],
  log: (line: string) => void,
): Promise<{ predictions: FoldPredictions[]; folds: FoldTargets[] }> {
  const count = Math.min(options.folds ?? dataset.folds.length, dataset.folds.length);
  const folds: FoldTargets[] = [];
  for (let k = 0; k < count; k++) {
    const source = dataset.fold(k);
    const batch = source.batch(source.testIndices);
    const io = foldIo(
      dataset,
      configOf(options, candidates[0] as FrozenTrial),
      recentSamples(source.trainIndices, options.maxTrainSamples),
    );
    folds.push({ io, yReg: batch.yReg, yCls: batch.yCls });
  }
  const predictions: FoldPredictions[] = [];
  for (const trial of candidates) {
    const config = configOf(options, trial);
    const perFold: Float32Array[] = [];
    for (let k = 0; k < count; k++) {
      const source = dataset.fold(k);
      const definition = defineModel(options.model, config.models, (folds[k] as FoldTargets).io);
      // No validation during the fit: it does not change the weights, and the test block is predicted below.
      const weights = await trainMember(
        options,
        trial,
        definition,
        source,
        recentSamples(source.trainIndices, options.maxTrainSamples),
        new Int32Array(0),
      );
      perFold.push(predict(definition, weights, source, source.testIndices));
    }
    predictions.push(perFold);
    log(`trial ${trial.number}: out-of-fold predictions over ${count} fold(s)`);
  }
  return { predictions, folds };
}

/** The objective's score of per-fold predictions: the metric on each test block, averaged over folds. */
function cvScorer(metric: ObjectiveMetric, folds: readonly FoldTargets[]) {
  return (blend: readonly Float32Array[]): number => {
    let total = 0;
    folds.forEach((fold, k) => {
      const accumulator = new EvaluationAccumulator(fold.io);
      accumulator.add(blend[k] as Float32Array, fold.yReg, fold.yCls);
      total += accumulator.result()[RESULT_KEY[metric]];
    });
    return total / folds.length;
  };
}

/**
 * Chooses members among the study's best trials and their weights to optimise the cross-validated
 * metric, then trains the members on the chronological split and saves the weighted ensemble at `out`.
 * @throws CryptomlError (USAGE) when the study has no COMPLETE trial or the metric is not the study's.
 */
export async function optimizeEnsemble(options: EnsembleOptions): Promise<EnsembleResult> {
  const log = options.log ?? (() => {});
  const top = options.top ?? 5;
  requireOptions(options, top);
  const layoutOf = (trial: FrozenTrial): string => {
    const config = configOf(options, trial);
    return JSON.stringify({ dataset: config.dataset, features: config.features });
  };
  const { candidates, skipped } = ensembleCandidates(
    await options.study.getTrials(["COMPLETE"]),
    options.study.direction,
    top,
    layoutOf,
  );
  const first = candidates[0];
  if (first === undefined) {
    throw new CryptomlError("USAGE", `study "${options.study.studyName}" has no COMPLETE trial to ensemble`, {
      hint: "run cryptoml tune on the study until some trials complete",
    });
  }
  if (skipped.length > 0) {
    log(
      `skipping trial(s) ${skipped.map((t) => t.number).join(", ")}: their dataset settings (window, features, target) differ from the best trial ${first.number}'s, so they cannot be blended with it`,
    );
  }
  log(
    `candidates: trial(s) ${candidates.map((t) => `${t.number} (${options.metric}=${t.values?.[0]})`).join(", ")}`,
  );

  const config = configOf(options, first);
  const candles = await options.loadSeries(options.symbol);
  const dataset = buildFoldedDataset(
    candles,
    config,
    "ensemble optimisation",
    "set dataset.walk_forward.folds to the value the study was tuned with",
  );
  const { predictions, folds } = await outOfFold(options, dataset, candidates, log);
  const selection = greedyEnsembleSelection({
    candidates: predictions,
    score: cvScorer(options.metric, folds),
    direction: options.study.direction,
    ...(options.rounds === undefined ? {} : { rounds: options.rounds }),
  });
  const bestSingleScore = selection.singleScores[selection.bestSingle] as number;
  const chosen = candidates
    .map((trial, i) => ({ trial, weight: selection.weights[i] as number }))
    .filter((m) => m.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.trial.number - b.trial.number);
  log(
    `ensemble ${chosen.map((m) => `trial ${m.trial.number} × ${m.weight.toFixed(3)}`).join(" + ")}: CV ${options.metric} ${selection.score.toFixed(6)} (best single: trial ${candidates[selection.bestSingle]?.number} ${bestSingleScore.toFixed(6)})`,
  );

  // The final members: each trained on the chronological split's training part, as `cryptoml train` would.
  const source = dataset.split.source;
  const trainIndices = recentSamples(source.trainIndices, options.maxTrainSamples);
  const io = foldIo(dataset, config, trainIndices);
  const definitions: ModelDefinition[] = [];
  const memberWeights: NamedWeights[] = [];
  for (const [i, { trial }] of chosen.entries()) {
    const definition = defineModel(options.model, configOf(options, trial).models, io);
    const weights = await trainMember(options, trial, definition, source, trainIndices, new Int32Array(0));
    definitions.push(definition);
    memberWeights.push(...weights.map((w) => ({ ...w, name: `members.${i}.${w.name}` })));
    log(`trial ${trial.number}: trained on ${trainIndices.length} samples of the training split`);
  }
  const definition = defineModel(
    "ensemble",
    {
      ...options.config.models,
      ensemble: { method: "weighted", members: chosen.map((m) => `trial-${m.trial.number}`) },
    },
    io,
    definitions,
    chosen.map((m) => m.weight),
  );
  const ensemble = createModel(definition, new Rng(options.config.training.seed));
  loadWeights(ensemble, memberWeights);
  if (source.validationIndices.length > 0) {
    const metrics = evaluate(ensemble, { source, trainIndices, validationIndices: source.validationIndices });
    log(
      `ensemble on the validation split: loss ${metrics.loss.toFixed(6)}, mae ${metrics.mae.toFixed(6)}, directional accuracy ${metrics.directional_accuracy.toFixed(4)}`,
    );
  }
  const members = chosen.map((m) => ({ trial: m.trial.number, weight: m.weight }));
  await saveModel(options.out, ensemble, {
    study: options.study.studyName,
    trials: JSON.stringify(members),
    metric: options.metric,
    cv_score: String(selection.score),
  });
  log(`saved the ensemble to ${options.out}`);
  return { members, cvScore: selection.score, bestSingleScore, path: options.out };
}
