/**
 * The contract between the Trainer and its callbacks: a frozen snapshot of where the run stands, and
 * optional async hooks that may ask the run to stop. See docs/callbacks.md.
 */
import { CryptomlError } from "../../core/errors.js";
import type { CheckpointIO } from "../checkpoint/io.js";
import type { CheckpointState } from "../checkpoint/state.js";

/**
 * What the Trainer lends callbacks at `setup`, before any hook: the means to write checkpoints of the
 * run as it stands. `captureCheckpoint` is only meaningful inside a hook (between steps), where the
 * weights, optimiser, position and callback states agree with each other.
 */
export interface TrainerContext {
  /** The complete, resumable state of the run now, callback states included. */
  captureCheckpoint(): CheckpointState;
  /** Where checkpoints are stored. */
  readonly io: CheckpointIO;
  /** The run's checkpoint directory (created on first write). */
  readonly checkpointDir: string;
  /** Writes a line for the user (progress, notices); the CLI points it at stderr. */
  readonly log: (line: string) => void;
}

/** What a callback sees of the run at a hook: a frozen copy, never the Trainer's live state. */
export interface TrainingSnapshot {
  /** The epoch in progress (0-based). */
  readonly epoch: number;
  /** Optimiser steps completed since the start of the run. */
  readonly step: number;
  /** Batches of `epoch` already consumed. */
  readonly positionInEpoch: number;
  /** The metrics of the last step (step hooks) or of the epoch, validation included (epoch hooks). */
  readonly metrics: Readonly<Record<string, number>>;
  /** The learning rate of the last optimiser step. */
  readonly learningRate: number;
  /** Milliseconds since the run started (wall clock, resumed runs included). */
  readonly elapsedMs: number;
  /** When the run must end, as epoch milliseconds, if it is time-bounded. */
  readonly deadline?: number;
}

/** A hook's request that the Trainer stop gracefully (finishing the step and checkpointing first). */
export interface StopRequest {
  readonly stop: true;
  readonly reason: string;
}

/** What a hook returns: nothing to carry on, or a stop request. */
// biome-ignore lint/suspicious/noConfusingVoidType: hooks that return nothing must type-check as hooks.
export type HookResult = void | StopRequest;

/** A hook, synchronous or asynchronous; the dispatcher awaits it either way. */
export type Hook = (snapshot: TrainingSnapshot) => HookResult | Promise<HookResult>;

/** The hooks, in the order a run calls them; `onException` replaces the rest when the run fails. */
export const HOOK_NAMES = [
  "onFitStart",
  "onEpochStart",
  "onStepEnd",
  "onValidationEnd",
  "onEpochEnd",
  "onFitEnd",
  "onException",
] as const;

export type HookName = (typeof HOOK_NAMES)[number];

/**
 * A training callback: every member is optional. A callback with state declares a `stateKey` (unique
 * within a run) and both `stateDict` (plain JSON) and `loadStateDict`; the checkpoint stores the state
 * under `CheckpointState.callbacks[stateKey]`.
 */
export interface Callback {
  /** The name quoted in errors; defaults to the class name. */
  readonly name?: string;
  /** The key of this callback's state in the checkpoint. */
  readonly stateKey?: string;
  /** Called once before `onFitStart` (and before states are restored on resume). */
  setup?(context: TrainerContext): void | Promise<void>;
  onFitStart?(snapshot: TrainingSnapshot): HookResult | Promise<HookResult>;
  onEpochStart?(snapshot: TrainingSnapshot): HookResult | Promise<HookResult>;
  onStepEnd?(snapshot: TrainingSnapshot): HookResult | Promise<HookResult>;
  onValidationEnd?(snapshot: TrainingSnapshot): HookResult | Promise<HookResult>;
  onEpochEnd?(snapshot: TrainingSnapshot): HookResult | Promise<HookResult>;
  onFitEnd?(snapshot: TrainingSnapshot): HookResult | Promise<HookResult>;
  /** Called when the run fails with `error`, before the error propagates. */
  onException?(snapshot: TrainingSnapshot, error: unknown): HookResult | Promise<HookResult>;
  /** This callback's state as plain JSON (no undefined, functions or non-finite numbers). */
  stateDict?(): unknown;
  /** Restores what `stateDict` returned (after a JSON round trip); throws on a malformed state. */
  loadStateDict?(state: unknown): void;
}

/** A stop request with `reason`. */
export function stopRequest(reason: string): StopRequest {
  return Object.freeze({ stop: true, reason });
}

/** True when `value` is a {@link StopRequest}. */
export function isStopRequest(value: unknown): value is StopRequest {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { stop?: unknown }).stop === true &&
    typeof (value as { reason?: unknown }).reason === "string"
  );
}

/** A frozen copy of `fields` (metrics copied too), so callbacks can neither mutate nor observe later changes. */
export function createSnapshot(fields: TrainingSnapshot): TrainingSnapshot {
  const snapshot: TrainingSnapshot = {
    epoch: fields.epoch,
    step: fields.step,
    positionInEpoch: fields.positionInEpoch,
    metrics: Object.freeze({ ...fields.metrics }),
    learningRate: fields.learningRate,
    elapsedMs: fields.elapsedMs,
    ...(fields.deadline === undefined ? {} : { deadline: fields.deadline }),
  };
  return Object.freeze(snapshot);
}

/** The error for a callback option or state that breaks its rule, e.g. `EarlyStopping: patience=-1 must be >= 0`. */
export function callbackError(message: string, hint?: string): CryptomlError {
  return new CryptomlError("USAGE", message, hint === undefined ? {} : { hint });
}

/** The name of `callback` in errors: its `name`, else its class name, else `callbacks[index]`. */
export function callbackName(callback: Callback, index: number): string {
  if (typeof callback.name === "string" && callback.name !== "") return callback.name;
  const ctor = (callback as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof ctor === "string" && ctor !== "" && ctor !== "Object" ? ctor : `callbacks[${index}]`;
}

/** `value` as an error quotes it: numbers as JavaScript prints them (NaN, Infinity), the rest as JSON. */
export function formatValue(value: unknown): string {
  return typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
}
