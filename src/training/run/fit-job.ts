/**
 * One job of a run: fit (or, for mean/weighted ensembles, assemble and evaluate) a model on its data,
 * with checkpoints in the run directory, and save its best weights as a loadable model file.
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import type { ResolvedConfig } from "../../config/index.js";
import { Rng } from "../../engine/random.js";
import type { ForecastModel, ModelDefinition, ModelIo } from "../../models/definition.js";
import {
  createModel,
  defineModel,
  loadModel,
  loadWeights,
  saveModel,
  weightsOf,
} from "../../models/registry.js";
import type { JobTracking } from "../../tracking/training.js";
import { EarlyStopping } from "../callbacks/early-stopping.js";
import { ModelCheckpoint } from "../callbacks/model-checkpoint.js";
import { ProgressDisplay } from "../callbacks/progress.js";
import { LocalCheckpointIO } from "../checkpoint/local.js";
import type { CheckpointState } from "../checkpoint/state.js";
import { EvaluationAccumulator } from "../metrics.js";
import { predictBatches } from "../predict.js";
import type { MetricsLogger } from "../trainer.js";
import { type FitStatus, Trainer, type TrainingData } from "../trainer.js";
import { TRAINER_STATE_KEY } from "../trainer-state.js";
import type { JobPlan } from "./jobs.js";
import type { JobMonitorFactory } from "./monitor.js";
import type { RunDirectory } from "./run-dir.js";

export interface JobInputs {
  readonly plan: JobPlan;
  readonly config: ResolvedConfig;
  readonly data: TrainingData;
  readonly io: ModelIo;
  readonly runDir: RunDirectory;
  readonly workers: number;
  /** When the job must end (epoch ms). */
  readonly deadline: number;
  readonly signal?: AbortSignal;
  readonly log: (line: string) => void;
  /** Continue from the job's last checkpoint, if it has one. */
  readonly resume: boolean;
  /** The job's tracking run, when tracking is on. */
  readonly tracking?: JobTracking;
  /** Watches the job (the Prometheus exporter), when monitoring is on. */
  readonly monitor?: JobMonitorFactory;
}

export interface JobOutcome {
  readonly status: FitStatus;
  readonly reason: string;
  readonly epochs: number;
  readonly steps: number;
  readonly elapsedMs: number;
  readonly bestValLoss: number;
  readonly valDirectionalAccuracy: number;
  readonly valMae: number;
  readonly bestCheckpoint: string | null;
  readonly modelPath: string;
  /** The registered model version, when tracking is on. */
  readonly registered?: { readonly name: string; readonly version: string };
}

/** The job's checkpoint `last.safetensors`, when a previous process left one. */
async function lastCheckpoint(dir: string): Promise<CheckpointState | undefined> {
  const io = new LocalCheckpointIO();
  const last = (await io.list(dir)).find((p) => p.endsWith("last.safetensors"));
  return last === undefined ? undefined : io.read(last);
}

/** How long the job already trained before this process (from its checkpoint). */
export async function elapsedInCheckpoint(runDir: RunDirectory, job: string): Promise<number> {
  const state = await lastCheckpoint(runDir.checkpointDir(job)).catch(() => undefined);
  const trainer = state?.callbacks[TRAINER_STATE_KEY] as { elapsedMs?: number } | undefined;
  return typeof trainer?.elapsedMs === "number" ? trainer.elapsedMs : 0;
}

/** Validation loss, MAE and directional accuracy of a model (evaluation mode) on `data`. */
export function evaluate(model: ForecastModel, data: TrainingData, batchSize = 512) {
  const accumulator = new EvaluationAccumulator(model.definition.io);
  for (const { batch, output } of predictBatches(model, data.source, data.validationIndices, batchSize)) {
    accumulator.add(output, batch.yReg, batch.yCls);
  }
  return accumulator.result();
}

/** The ensemble's definition and starting weights: members from their saved models, blend as built. */
async function assembleEnsemble(
  inputs: JobInputs,
): Promise<{ definition: ModelDefinition; weights: ReturnType<typeof weightsOf> }> {
  const { plan, config, runDir, data, io } = inputs;
  const members = await Promise.all(
    (plan.members ?? []).map((m) => loadModel(m.path ?? runDir.modelPath(m.job as string))),
  );
  // weighted: each member by its inverse validation loss on this job's data (normalised by the registry).
  const weights =
    config.models.ensemble.method === "weighted"
      ? members.map((m) => 1 / Math.max(evaluate(m, data).loss, 1e-12))
      : undefined;
  const definition = defineModel(
    "ensemble",
    config.models,
    io,
    members.map((m) => m.definition),
    weights,
  );
  const ensemble = createModel(definition, new Rng(config.training.seed));
  const memberWeights = members.flatMap((m, i) =>
    weightsOf(m).map((w) => ({ ...w, name: `members.${i}.${w.name}` })),
  );
  const byName = new Map(memberWeights.map((w) => [w.name, w]));
  const combined = weightsOf(ensemble).map((w) => byName.get(w.name) ?? w);
  return { definition, weights: combined };
}

/** Runs the job to its end (or its deadline) and saves its best model. */
export async function runJob(inputs: JobInputs): Promise<JobOutcome> {
  const { plan, config, data, runDir, log } = inputs;
  const training = config.training;
  let definition: ModelDefinition;
  let initialWeights: ReturnType<typeof weightsOf> | undefined;
  if (plan.model === "ensemble") {
    ({ definition, weights: initialWeights } = await assembleEnsemble(inputs));
  } else {
    definition = defineModel(plan.model, config.models, inputs.io);
  }
  const modelPath = runDir.modelPath(plan.key);
  const checkpointDir = runDir.checkpointDir(plan.key);

  if (definition.className === "ensemble" && definition.config.method !== "stacked") {
    // Nothing to train: the combination is fixed; judge it on the validation samples.
    const model = createModel(definition, new Rng(training.seed));
    loadWeights(model, initialWeights ?? []);
    const started = Date.now();
    const metrics = evaluate(model, data);
    await saveModel(modelPath, model, { job: plan.key });
    return finishTracking(inputs, {
      status: "completed",
      reason: `${definition.config.method} of ${definition.config.members.length} members`,
      epochs: 0,
      steps: 0,
      elapsedMs: Date.now() - started,
      bestValLoss: metrics.loss,
      valDirectionalAccuracy: metrics.directional_accuracy,
      valMae: metrics.mae,
      bestCheckpoint: null,
      modelPath,
    });
  }

  const resumeFrom = inputs.resume ? await lastCheckpoint(checkpointDir) : undefined;
  const checkpoint = new ModelCheckpoint({
    monitor: "val_loss",
    mode: "min",
    saveTopK: 1,
    saveLast: true,
    ...(training.checkpoint_every_steps > 0 ? { everyNSteps: training.checkpoint_every_steps } : {}),
    ...(training.checkpoint_every_minutes > 0 ? { everyMinutes: training.checkpoint_every_minutes } : {}),
  });
  const batchesPerEpoch = Math.ceil(data.trainIndices.length / training.batch_size);
  const monitor = inputs.monitor?.({
    key: plan.key,
    model: plan.model,
    symbols: plan.symbols,
    batchSize: training.batch_size,
    trainRows: data.trainIndices.length,
  });
  const callbacks = [
    ...(monitor?.callbacks ?? []),
    ...(training.early_stopping_patience > 0
      ? [new EarlyStopping({ monitor: "val_loss", mode: "min", patience: training.early_stopping_patience })]
      : []),
    new ProgressDisplay({
      epochs: training.epochs,
      batchesPerEpoch,
      write: (line) => log(`${plan.key}: ${line}`),
    }),
    // Last, so the checkpoints it writes at epoch end hold the other callbacks' updated states.
    checkpoint,
  ];
  const trainer = new Trainer({
    epochs: training.epochs,
    batchSize: training.batch_size,
    seed: training.seed,
    optimizer: { kind: training.optimizer, lr: training.learning_rate, weightDecay: training.weight_decay },
    gradientClip: training.gradient_clip,
    workers: inputs.workers,
    callbacks,
    checkpointDir,
    logger: teeLoggers(
      await runDir.metricsLogger(plan.key, resumeFrom?.step),
      inputs.tracking?.metricsLogger(),
    ),
    deadline: inputs.deadline,
    ...(inputs.signal === undefined ? {} : { signal: inputs.signal }),
    config: {
      job: plan.key,
      model: definition,
      training: { ...training, workers: inputs.workers },
      dataset: config.dataset,
      features: config.features,
    },
    metadata: { job: plan.key, symbols: plan.symbols.join(",") },
    log,
    ...(initialWeights === undefined ? {} : { initialWeights }),
    ...(monitor === undefined ? {} : { observer: monitor.observer }),
  });
  if (resumeFrom !== undefined)
    log(`${plan.key}: resuming at epoch ${resumeFrom.epoch}, step ${resumeFrom.step}`);
  let result: Awaited<ReturnType<Trainer["fit"]>>;
  try {
    result = await trainer.fit(definition, data, resumeFrom);
  } catch (error) {
    monitor?.finished("failed", (error as Error).message);
    throw error;
  }
  monitor?.finished(result.status, result.reason);

  // The best checkpoint's weights become the job's model; without one (no epoch finished) the last good weights.
  const model = createModel(definition, new Rng(training.seed));
  const best = checkpoint.bestModelPath;
  loadWeights(model, best === null ? result.weights : (await new LocalCheckpointIO().read(best)).weights);
  await saveModel(modelPath, model, { job: plan.key });
  const bestEpoch = result.history.reduce<Record<string, number> | undefined>(
    (acc, h) => (acc === undefined || (h.val_loss ?? Infinity) < (acc.val_loss ?? Infinity) ? h : acc),
    undefined,
  );
  const evaluated = bestEpoch === undefined ? evaluate(model, data) : undefined;
  return finishTracking(inputs, {
    status: result.status,
    reason: result.reason,
    epochs: result.epochsCompleted,
    steps: result.steps,
    elapsedMs: result.elapsedMs,
    bestValLoss: bestEpoch?.val_loss ?? evaluated?.loss ?? Number.NaN,
    valDirectionalAccuracy:
      bestEpoch?.val_directional_accuracy ?? evaluated?.directional_accuracy ?? Number.NaN,
    valMae: bestEpoch?.val_mae ?? evaluated?.mae ?? Number.NaN,
    bestCheckpoint: best,
    modelPath,
  });
}

/** Both the run directory's log and the tracking run's, when there is one. */
function teeLoggers(first: MetricsLogger, second: MetricsLogger | undefined): MetricsLogger {
  if (second === undefined) return first;
  return {
    log: async (record) => {
      await first.log(record);
      await second.log(record);
    },
    flush: () => {
      first.flush?.();
      second.flush?.();
    },
  };
}

/** Records the outcome in the job's tracking run: final metrics, artifacts, the registered version. */
async function finishTracking(inputs: JobInputs, outcome: JobOutcome): Promise<JobOutcome> {
  const tracking = inputs.tracking;
  if (tracking === undefined) return outcome;
  if (outcome.status === "interrupted") {
    await tracking.suspend();
    return outcome;
  }
  const checkpoints = [
    outcome.bestCheckpoint,
    join(inputs.runDir.checkpointDir(inputs.plan.key), "last.safetensors"),
  ].filter((p): p is string => p !== null && existsSync(p));
  const version = await tracking.finish({
    status: outcome.status === "diverged" ? "FAILED" : "FINISHED",
    step: outcome.steps,
    metrics: {
      best_val_loss: outcome.bestValLoss,
      best_val_mae: outcome.valMae,
      best_val_directional_accuracy: outcome.valDirectionalAccuracy,
      epochs_completed: outcome.epochs,
      time_s: outcome.elapsedMs / 1000,
    },
    artifacts: [
      { localPath: outcome.modelPath, artifactPath: "model" },
      ...[...new Set(checkpoints)].map((localPath) => ({ localPath, artifactPath: "checkpoints" })),
    ],
    register: {
      name: `cryptoml-${inputs.plan.key.split("/")[0]}-${inputs.plan.model}`,
      modelArtifact: `model/${basename(outcome.modelPath)}`,
      description: `${inputs.plan.model} on ${inputs.plan.symbols.join(", ")} (${outcome.status}: ${outcome.reason})`,
    },
  });
  return version === undefined
    ? outcome
    : { ...outcome, registered: { name: version.name, version: version.version } };
}
