/**
 * The Trainer: the training and validation loops around a StepEngine, seeded and deterministic, with
 * metrics per step and per epoch, callbacks through one dispatcher, and checkpoints that resume exactly
 * (mid-epoch included: the epoch's order depends only on (seed, epoch), and the engine's weights,
 * optimiser and dropout generators are part of the checkpoint). See docs/trainer.md.
 */
import { CryptomlError } from "../core/errors.js";
import type { BatchSource } from "../datasets/windows.js";
import type { ModelDefinition } from "../models/definition.js";
import { packTargets } from "../models/heads.js";
import { CallbackDispatcher } from "./callbacks/dispatcher.js";
import {
  type Callback,
  createSnapshot,
  type TrainerContext,
  type TrainingSnapshot,
} from "./callbacks/types.js";
import type { CheckpointIO } from "./checkpoint/io.js";
import { LocalCheckpointIO } from "./checkpoint/local.js";
import { CHECKPOINT_VERSION, type CheckpointState } from "./checkpoint/state.js";
import { EpochTiming, timedCheckpointIO } from "./epoch-timing.js";
import { EvaluationAccumulator, epochOrder } from "./metrics.js";
import { createStepEngine } from "./step-engine/factory.js";
import type { OptimizerSettings, StepEngine, StepEngineFactory } from "./step-engine/types.js";
import { checkResumable, readTrainerState, TRAINER_STATE_KEY, type TrainerState } from "./trainer-state.js";

/** Where metrics go (JSON lines in the run directory; experiment tracking plugs in here). */
export interface MetricsLogger {
  log(record: {
    scope: "step" | "epoch";
    step: number;
    epoch: number;
    metrics: Readonly<Record<string, number>>;
  }): void | Promise<void>;
  /**
   * Writes out what is buffered. Called whenever a checkpoint is captured and at the end of the fit,
   * so the log never lags behind a checkpoint that a resumed run continues from.
   */
  flush?(): void;
}

/** The samples a fit trains and validates on, from one dataset partition's BatchSource. */
export interface TrainingData {
  readonly source: BatchSource;
  readonly trainIndices: Int32Array;
  readonly validationIndices: Int32Array;
}

export interface TrainerOptions {
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly optimizer: OptimizerSettings;
  /** Global gradient 2-norm clip; 0 = none. */
  readonly gradientClip: number;
  readonly workers?: number;
  readonly callbacks?: readonly Callback[];
  readonly checkpointIO?: CheckpointIO;
  readonly checkpointDir: string;
  readonly logger?: MetricsLogger;
  /** Stop gracefully at the end of the first step at or after this time (epoch ms). */
  readonly deadline?: number;
  /** Stop gracefully at the end of the current step once aborted (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** The resolved configuration, stored in checkpoints; a resume must present an equal one. */
  readonly config?: unknown;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly log?: (line: string) => void;
  readonly clock?: () => number;
  readonly engineFactory?: StepEngineFactory;
  /** Start from these weights instead of the seeded initialisation (an ensemble's trained members). */
  readonly initialWeights?: CheckpointState["weights"];
  /** Told of events that are not hooks (monitoring counts them); must not throw. */
  readonly observer?: TrainerObserver;
}

/** Notifications for observers such as the Prometheus exporter; called synchronously. */
export interface TrainerObserver {
  /** A checkpoint file was written (by any callback, through the run's CheckpointIO). */
  checkpointWritten?(path: string): void;
  /** A step's loss or gradient was non-finite; the update was refused and the fit stops as diverged. */
  nonFinite?(loss: number, gradNorm: number): void;
}

/** How a fit ended. */
export type FitStatus = "completed" | "stopped" | "deadline" | "interrupted" | "diverged";

export interface FitResult {
  readonly status: FitStatus;
  /** Why the fit ended before its epochs, or "completed". */
  readonly reason: string;
  readonly epochsCompleted: number;
  readonly steps: number;
  /** Per completed epoch, its metrics (train_loss, val_loss, val_mae, val_directional_accuracy, ...). */
  readonly history: readonly Readonly<Record<string, number>>[];
  readonly elapsedMs: number;
  /** The weights at the end (the last good ones when the fit diverged). */
  readonly weights: CheckpointState["weights"];
}

/** How long the training loop may hold the event loop before it lets timers and I/O run. */
const YIELD_EVERY_MS = 25;

function requireCount(what: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new CryptomlError("CONFIG_INVALID", `${what}=${value} must be an integer >= ${min}`, {
      hint: `set ${what} in training.yaml`,
    });
  }
}

export class Trainer {
  readonly #options: TrainerOptions;
  readonly #clock: () => number;

  constructor(options: TrainerOptions) {
    requireCount("training.epochs", options.epochs, 1);
    requireCount("training.batch_size", options.batchSize, 1);
    requireCount("training.workers", options.workers ?? 1, 1);
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * Trains `definition` on `data` until its epochs are done, a callback asks to stop, the deadline
   * passes, the signal aborts, or the loss turns non-finite (then the last good weights are kept and no
   * checkpoint of the bad step is written). `resume` continues a run from its checkpoint.
   */
  async fit(definition: ModelDefinition, data: TrainingData, resume?: CheckpointState): Promise<FitResult> {
    const options = this.#options;
    if (data.trainIndices.length === 0) {
      throw new CryptomlError("DATASET", "there are no training samples", {
        hint: "use a longer period of candles, or a shorter dataset.window / horizon",
      });
    }
    if (resume !== undefined) checkResumable(resume, definition, options.config);
    const engine = await (options.engineFactory ?? createStepEngine)({
      definition,
      seed: options.seed,
      optimizer: options.optimizer,
      gradientClip: options.gradientClip,
      workers: options.workers ?? 1,
    });
    try {
      return await this.#run(engine, definition, data, resume);
    } finally {
      await engine.close();
    }
  }

  async #run(
    engine: StepEngine,
    definition: ModelDefinition,
    data: TrainingData,
    resume: CheckpointState | undefined,
  ): Promise<FitResult> {
    const options = this.#options;
    const dispatcher = new CallbackDispatcher(options.callbacks ?? []);
    const batchesPerEpoch = Math.ceil(data.trainIndices.length / options.batchSize);
    const state: TrainerState = {
      epoch: 0,
      step: 0,
      positionInEpoch: 0,
      epochDone: false,
      elapsedMs: 0,
      epochLossSum: 0,
      epochRows: 0,
      epochComputeMs: 0,
      history: [],
    };
    let lastLearningRate = engine.lr;
    const startedAt = this.#clock();
    const elapsed = (): number => state.elapsedMs + (this.#clock() - startedAt);
    let stepMetrics: Record<string, number> = {};
    let lastYield = performance.now();
    const timing = new EpochTiming();

    const snapshot = (metrics: Record<string, number>): TrainingSnapshot =>
      createSnapshot({
        epoch: state.epoch,
        step: state.step,
        positionInEpoch: state.positionInEpoch,
        metrics,
        learningRate: lastLearningRate,
        elapsedMs: elapsed(),
        ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
      });
    const capture = (): CheckpointState => {
      const t0 = performance.now();
      options.logger?.flush?.();
      const captured = captureState();
      timing.add("checkpoint", performance.now() - t0);
      return captured;
    };
    const captureState = (): CheckpointState => ({
      version: CHECKPOINT_VERSION,
      createdAt: new Date(this.#clock()).toISOString(),
      step: state.step,
      epoch: state.epoch,
      positionInEpoch: state.positionInEpoch,
      weights: engine.weights(),
      optimizer: engine.optimizerState(),
      scheduler: null,
      rng: { dropout: engine.rngState() },
      callbacks: {
        ...dispatcher.stateDicts(),
        [TRAINER_STATE_KEY]: {
          ...state,
          elapsedMs: elapsed(),
          history: state.history.map((h) => ({ ...h })),
        },
      },
      config: options.config ?? null,
      metadata: { className: definition.className, ...options.metadata },
    });
    const context: TrainerContext = {
      captureCheckpoint: capture,
      io: timedCheckpointIO(options.checkpointIO ?? new LocalCheckpointIO(), timing, options.observer),
      checkpointDir: options.checkpointDir,
      log: options.log ?? (() => {}),
    };
    await dispatcher.setup(context);

    if (resume === undefined && options.initialWeights !== undefined) {
      await engine.loadWeights(options.initialWeights);
    }
    if (resume !== undefined) {
      await engine.loadWeights(resume.weights);
      await engine.loadOptimizerState(resume.optimizer);
      await engine.loadRngState((resume.rng as { dropout?: unknown }).dropout);
      const { [TRAINER_STATE_KEY]: saved, ...callbackStates } = resume.callbacks;
      Object.assign(state, readTrainerState(saved, batchesPerEpoch));
      dispatcher.loadStateDicts(callbackStates);
      lastLearningRate = engine.lr;
    }

    let status: FitStatus = "completed";
    let reason = "completed";
    const stopWith = (s: FitStatus, why: string): void => {
      status = s;
      reason = why;
    };
    const external = (): boolean => {
      if (options.signal?.aborted === true) {
        stopWith("interrupted", "interrupted (Ctrl-C); checkpointed at the last completed step");
        return true;
      }
      if (options.deadline !== undefined && this.#clock() >= options.deadline) {
        stopWith("deadline", `time budget spent at step ${state.step}`);
        return true;
      }
      return false;
    };
    const dispatchStop = async (
      hook: "onStepEnd" | "onValidationEnd" | "onEpochEnd",
      m: Record<string, number>,
    ) => {
      const stop = await timing.time("callbacks", () => dispatcher.dispatch(hook, snapshot(m)));
      if (stop !== undefined && status === "completed") stopWith("stopped", stop.reason);
      return stop !== undefined;
    };

    try {
      if (resume === undefined) await dispatcher.dispatch("onFitStart", snapshot({}));
      let stopped = resume !== undefined && external();
      while (!stopped && state.epoch < options.epochs) {
        if (state.epochDone) {
          state.epoch += 1;
          state.positionInEpoch = 0;
          state.epochDone = false;
          state.epochLossSum = 0;
          state.epochRows = 0;
          state.epochComputeMs = 0;
          if (state.epoch >= options.epochs) break;
        }
        if (state.positionInEpoch === 0 && state.epochRows === 0) {
          await dispatcher.dispatch("onEpochStart", snapshot({}));
        }
        const order = epochOrder(data.trainIndices, options.seed, state.epoch);
        while (state.positionInEpoch < batchesPerEpoch) {
          const from = state.positionInEpoch * options.batchSize;
          const indices = order.subarray(from, from + options.batchSize);
          const tData = performance.now();
          const batch = data.source.batch(indices);
          requireFinite(batch.x, batch.index, batch.shape);
          const targets = packTargets(batch.yReg, batch.yCls, definition.io);
          const t0 = performance.now();
          timing.add("data", t0 - tData);
          lastLearningRate = engine.lr;
          const result = await engine.step(batch.x, targets, indices.length);
          const computeMs = performance.now() - t0;
          timing.add("compute", computeMs);
          if (!result.applied) {
            options.observer?.nonFinite?.(result.loss, result.gradNorm);
            stopWith(
              "diverged",
              `non-finite ${Number.isFinite(result.loss) ? `gradient norm (${result.gradNorm})` : `loss (${result.loss})`} at epoch ${state.epoch}, batch ${state.positionInEpoch} (step ${state.step + 1}); the update was not applied and the last good weights are kept`,
            );
            stopped = true;
            break;
          }
          state.step += 1;
          state.positionInEpoch += 1;
          state.epochLossSum += result.loss * indices.length;
          state.epochRows += indices.length;
          state.epochComputeMs += computeMs;
          stepMetrics = {
            loss: result.loss,
            lr: lastLearningRate,
            grad_norm: result.gradNorm,
            samples_per_s: computeMs > 0 ? (indices.length * 1000) / computeMs : 0,
          };
          const tLog = performance.now();
          await options.logger?.log({
            scope: "step",
            step: state.step,
            epoch: state.epoch,
            metrics: stepMetrics,
          });
          timing.add("logging", performance.now() - tLog);
          // The engine's steps resolve as microtasks; give timers, I/O (tracking uploads) and signal
          // handlers (Ctrl-C) a turn of the event loop at least every YIELD_EVERY_MS.
          if (performance.now() - lastYield >= YIELD_EVERY_MS) {
            await new Promise((resolve) => setImmediate(resolve));
            lastYield = performance.now();
          }
          const stop = await dispatchStop("onStepEnd", stepMetrics);
          if (stop || external()) {
            stopped = true;
            break;
          }
        }
        if (stopped) break;
        const validation = await timing.time("validation", () => this.#validate(engine, definition, data));
        const epochMetrics = {
          train_loss: state.epochLossSum / state.epochRows,
          ...validation,
          lr: lastLearningRate,
          samples_per_s: state.epochComputeMs > 0 ? (state.epochRows * 1000) / state.epochComputeMs : 0,
          epoch_time_s: state.epochComputeMs / 1000,
          ...timing.take(),
        };
        state.epochDone = true;
        state.history.push(epochMetrics);
        await options.logger?.log({
          scope: "epoch",
          step: state.step,
          epoch: state.epoch,
          metrics: epochMetrics,
        });
        const stopAtValidation = await dispatchStop("onValidationEnd", epochMetrics);
        const stopAtEpoch = await dispatchStop("onEpochEnd", epochMetrics);
        if (stopAtValidation || stopAtEpoch || external()) stopped = true;
      }
      await dispatcher.dispatch("onFitEnd", snapshot(state.history.at(-1) ?? stepMetrics));
      options.logger?.flush?.();
    } catch (error) {
      options.logger?.flush?.();
      await dispatcher.dispatchException(snapshot(stepMetrics), error);
      throw error;
    }
    return {
      status,
      reason,
      epochsCompleted: state.history.length,
      steps: state.step,
      history: state.history,
      elapsedMs: elapsed(),
      weights: engine.weights(),
    };
  }

  async #validate(
    engine: StepEngine,
    definition: ModelDefinition,
    data: TrainingData,
  ): Promise<Record<string, number>> {
    if (data.validationIndices.length === 0) return {};
    const accumulator = new EvaluationAccumulator(definition.io);
    for (const batch of data.source.batches(data.validationIndices, Math.max(this.#options.batchSize, 256))) {
      requireFinite(batch.x, batch.index, batch.shape);
      accumulator.add(await engine.predict(batch.x, batch.index.length), batch.yReg, batch.yCls);
    }
    const { loss, mae, directional_accuracy } = accumulator.result();
    return { val_loss: loss, val_mae: mae, val_directional_accuracy: directional_accuracy };
  }
}

/** Inputs must be finite: a NaN window would silently turn the loss NaN several layers later. */
function requireFinite(x: Float32Array, index: Int32Array, shape: readonly [number, number, number]): void {
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i] as number)) continue;
    const perSample = shape[1] * shape[2];
    const n = Math.floor(i / perSample);
    const feature = (i % perSample) % shape[2];
    throw new CryptomlError(
      "DATASET",
      `input window of sample ${index[n]} holds ${x[i]} (feature column ${feature}); the model needs finite inputs`,
      {
        hint: "check the candles for NaN/zero prices with `cryptoml data inspect`; the dataset builder drops such windows",
      },
    );
  }
}
