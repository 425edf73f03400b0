/**
 * The Trainer's own part of a checkpoint (stored under `callbacks["trainer"]`, a key no callback may
 * use), and the check that a checkpoint belongs to the run being resumed.
 */
import { CryptomlError } from "../core/errors.js";
import type { ModelDefinition } from "../models/definition.js";
import type { CheckpointState } from "./checkpoint/state.js";

/** The key of the Trainer's state inside `CheckpointState.callbacks`. */
export const TRAINER_STATE_KEY = "trainer";

/** Loop position and the running sums of the epoch in progress, so a resumed epoch reports the same metrics. */
export interface TrainerState {
  epoch: number;
  step: number;
  positionInEpoch: number;
  /** The epoch's validation and epoch-end hooks ran: a resume starts the next epoch. */
  epochDone: boolean;
  elapsedMs: number;
  epochLossSum: number;
  epochRows: number;
  epochComputeMs: number;
  history: Record<string, number>[];
}

const NOT_RESUMABLE_HINT =
  "resume from a checkpoint written by `cryptoml train` with this version, or start again";

/** Validates the stored Trainer state (after a JSON round trip). */
export function readTrainerState(stored: unknown, batchesPerEpoch: number): TrainerState {
  const fail = (problem: string) =>
    new CryptomlError("CONFIG_INVALID", `checkpoint: trainer state ${problem}`, { hint: NOT_RESUMABLE_HINT });
  if (typeof stored !== "object" || stored === null) throw fail("is missing");
  const s = stored as Record<string, unknown>;
  for (const key of ["epoch", "step", "positionInEpoch", "epochRows"]) {
    if (!Number.isSafeInteger(s[key]) || (s[key] as number) < 0) {
      throw fail(`${key}=${JSON.stringify(s[key])} must be an integer >= 0`);
    }
  }
  for (const key of ["elapsedMs", "epochLossSum", "epochComputeMs"]) {
    if (typeof s[key] !== "number" || !Number.isFinite(s[key])) throw fail(`${key} must be a finite number`);
  }
  if (typeof s.epochDone !== "boolean") throw fail("epochDone must be a boolean");
  if (!Array.isArray(s.history)) throw fail("history must be a list");
  if ((s.positionInEpoch as number) > batchesPerEpoch) {
    throw new CryptomlError(
      "CONFIG_INVALID",
      `checkpoint is at batch ${s.positionInEpoch} of an epoch, but this data has ${batchesPerEpoch} batches per epoch`,
      { hint: "resume with the same data, dataset settings and batch size as the run that wrote it" },
    );
  }
  // JSON turns NaN metrics into null; bring them back as NaN.
  const history = (s.history as Record<string, unknown>[]).map((h) =>
    Object.fromEntries(Object.entries(h).map(([k, v]) => [k, typeof v === "number" ? v : Number.NaN])),
  );
  return { ...(s as unknown as TrainerState), history };
}

/** The first path where two JSON values differ, e.g. `training.batch_size: 64 → 32`. */
export function firstDifference(a: unknown, b: unknown, path = ""): string | undefined {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) {
    return `${path || "(root)"}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`;
  }
  if (typeof a === "object" && a !== null) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const key of new Set([...Object.keys(ao), ...Object.keys(bo)])) {
      const found = firstDifference(ao[key], bo[key], path === "" ? key : `${path}.${key}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return a === b ? undefined : `${path || "(root)"}: ${JSON.stringify(a)} → ${JSON.stringify(b)}`;
}

/**
 * Refuses a checkpoint written for another model or another configuration, naming the first
 * difference (resuming with other settings would not continue the same run).
 */
export function checkResumable(
  checkpoint: CheckpointState,
  definition: ModelDefinition,
  config: unknown,
): void {
  const className = checkpoint.metadata.className;
  if (className !== undefined && className !== definition.className) {
    throw new CryptomlError(
      "CONFIG_INVALID",
      `the checkpoint is of a ${className} model, but this run trains ${definition.className}`,
      { hint: "resume with the model the run was started with, or start a new run" },
    );
  }
  if (config === undefined) return;
  const difference = firstDifference(
    JSON.parse(JSON.stringify(checkpoint.config ?? null)),
    JSON.parse(JSON.stringify(config)),
  );
  if (difference !== undefined) {
    throw new CryptomlError(
      "CONFIG_INVALID",
      `the checkpoint was written with a different configuration (${difference})`,
      {
        hint: "resume with the configuration the run was started with (it is saved in the run directory as config.json), or start a new run",
      },
    );
  }
}
