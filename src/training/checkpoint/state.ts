/**
 * The assembly layer of checkpoints: one versioned state object holding everything a run needs to
 * resume exactly, and its encoding as a single safetensors file. See docs/checkpoints.md.
 */
import { CryptomlError, DataFormatError } from "../../core/errors.js";
import { decodeSafetensors, encodeSafetensors } from "../../engine/safetensors/index.js";

/** The current layout of {@link CheckpointState}; bump it (and teach the reader) when the layout changes. */
export const CHECKPOINT_VERSION = 1;

/** The `__metadata__` key that holds the JSON of everything but the weights. */
export const CHECKPOINT_METADATA_KEY = "cryptoml.checkpoint";

/** One weight tensor, stored as an F32 tensor of the safetensors file under `name`. */
export interface CheckpointWeight {
  /** The parameter's name, e.g. PyTorch's `rnn.weight_ih_l0`; unique within a checkpoint. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/**
 * Everything a run needs to continue exactly where it stopped. All fields except `weights` must be
 * plain JSON (no `undefined`, functions, or non-finite numbers: `JSON.stringify` would drop or null them);
 * the optimiser and scheduler states already encode their buffers and infinities as strings.
 */
export interface CheckpointState {
  /** Always {@link CHECKPOINT_VERSION} when written by this code. */
  readonly version: number;
  /** When the checkpoint was assembled, ISO-8601 (`new Date().toISOString()`). */
  readonly createdAt: string;
  /** Optimiser steps completed since the start of the run. */
  readonly step: number;
  /** The epoch in progress (0-based). */
  readonly epoch: number;
  /** Batches of `epoch` already consumed, so a mid-epoch resume skips exactly those. */
  readonly positionInEpoch: number;
  /** The model's parameters, in the model's order (restored in this order). */
  readonly weights: readonly CheckpointWeight[];
  /** `Optimizer.stateDict()`. */
  readonly optimizer: unknown;
  /** `LrScheduler.stateDict()`, or null when the run has no scheduler. */
  readonly scheduler: unknown;
  /** `Rng.state()` of the run's generator (shuffles, dropout). */
  readonly rng: unknown;
  /** Each callback's own state, by callback name. */
  readonly callbacks: Readonly<Record<string, unknown>>;
  /** The resolved configuration of the run, to refuse resuming with an incompatible one. */
  readonly config: unknown;
  /** Free-form strings (symbol, model class, git commit...). */
  readonly metadata: Readonly<Record<string, string>>;
}

const CORRUPT_HINT =
  "the checkpoint is truncated or corrupt (a crash while copying it?); resume from an earlier checkpoint in the same directory, or start the run again";

/** The JSON stored under {@link CHECKPOINT_METADATA_KEY}: the state minus weight data, plus the weights' order. */
type StoredState = Omit<CheckpointState, "weights"> & { weights: { name: string; shape: number[] }[] };

/**
 * The bytes of the checkpoint file for `state`: a safetensors file whose tensors are the weights (F32)
 * and whose `__metadata__[CHECKPOINT_METADATA_KEY]` is the JSON of everything else.
 * @throws CryptomlError (INTERNAL) when `state` does not have the documented structure.
 */
export function encodeCheckpoint(state: CheckpointState): Uint8Array {
  const { weights, ...rest } = state;
  const stored: StoredState = {
    ...rest,
    weights: weights.map((w) => ({ name: w.name, shape: [...w.shape] })),
  };
  const problem = checkStored(JSON.parse(JSON.stringify(stored)) as unknown);
  if (problem !== undefined) {
    throw new CryptomlError("INTERNAL", `cannot write checkpoint: ${problem}`, {
      hint: "assemble the state with the documented fields (docs/checkpoints.md)",
    });
  }
  const tensors = weights.map((w) => ({ name: w.name, shape: w.shape, data: w.data, dtype: "F32" as const }));
  return encodeSafetensors(tensors, { [CHECKPOINT_METADATA_KEY]: JSON.stringify(stored) });
}

/**
 * Reads a checkpoint file's bytes back; `source` (usually the path) names the file in errors.
 * @throws DataFormatError naming `source`, with a hint, when the bytes are truncated, corrupt, not a
 *   checkpoint, of another version, or their structure does not match the documented one.
 */
export function decodeCheckpoint(bytes: Uint8Array, source: string): CheckpointState {
  const fail = (problem: string, cause?: unknown): DataFormatError =>
    new DataFormatError(source, undefined, `checkpoint: ${problem}`, { hint: CORRUPT_HINT, cause });
  let contents: ReturnType<typeof decodeSafetensors>;
  try {
    contents = decodeSafetensors(bytes, source);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // The safetensors reader already names the file; say it once.
    throw fail(message.startsWith(`${source}: `) ? message.slice(source.length + 2) : message, error);
  }
  const json = contents.metadata[CHECKPOINT_METADATA_KEY];
  if (json === undefined) {
    throw fail(
      `a safetensors file without "${CHECKPOINT_METADATA_KEY}" metadata is weights only, not a checkpoint`,
    );
  }
  let stored: unknown;
  try {
    stored = JSON.parse(json);
  } catch (error) {
    throw fail(`"${CHECKPOINT_METADATA_KEY}" metadata is not valid JSON`, error);
  }
  const version = (stored as { version?: unknown } | null)?.version;
  if (typeof version === "number" && version !== CHECKPOINT_VERSION) {
    throw new DataFormatError(
      source,
      undefined,
      `checkpoint: version ${version} is not supported (this cryptoml reads version ${CHECKPOINT_VERSION})`,
      { hint: "resume with the cryptoml version that wrote the checkpoint, or start the run again" },
    );
  }
  const problem = checkStored(stored);
  if (problem !== undefined) throw fail(problem);
  const { weights: layout, ...rest } = stored as StoredState;
  if (contents.tensors.size !== layout.length) {
    throw fail(
      `the file holds ${contents.tensors.size} tensors but the state lists ${layout.length} weights`,
    );
  }
  const weights = layout.map(({ name, shape }): CheckpointWeight => {
    const tensor = contents.tensors.get(name);
    if (tensor === undefined) throw fail(`weight "${name}" is listed but not stored`);
    if (tensor.dtype !== "F32" || !(tensor.data instanceof Float32Array)) {
      throw fail(`weight "${name}" is ${tensor.dtype}, expected F32`);
    }
    if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
      throw fail(
        `weight "${name}" has shape [${tensor.shape.join(", ")}] but the state says [${shape.join(", ")}]`,
      );
    }
    return { name, shape, data: tensor.data };
  });
  return { ...rest, weights };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isCount = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

/** The first structural problem of a stored state (already through JSON), or undefined when it is sound. */
function checkStored(stored: unknown): string | undefined {
  if (!isRecord(stored)) return "the state is not a JSON object";
  if (stored.version !== CHECKPOINT_VERSION)
    return `version=${JSON.stringify(stored.version)} must be ${CHECKPOINT_VERSION}`;
  if (typeof stored.createdAt !== "string" || Number.isNaN(Date.parse(stored.createdAt))) {
    return `createdAt=${JSON.stringify(stored.createdAt)} must be an ISO-8601 date`;
  }
  for (const key of ["step", "epoch", "positionInEpoch"] as const) {
    if (!isCount(stored[key])) return `${key}=${JSON.stringify(stored[key])} must be an integer >= 0`;
  }
  if (!isRecord(stored.optimizer)) return "optimizer must be an object (Optimizer.stateDict())";
  if (stored.scheduler !== null && !isRecord(stored.scheduler)) return "scheduler must be an object or null";
  if (!isRecord(stored.rng)) return "rng must be an object (Rng.state())";
  if (!isRecord(stored.callbacks)) return "callbacks must be an object keyed by callback name";
  if (!("config" in stored)) return "config is missing";
  if (!isRecord(stored.metadata) || Object.values(stored.metadata).some((v) => typeof v !== "string")) {
    return "metadata must be an object of strings";
  }
  return checkLayout(stored.weights);
}

function checkLayout(weights: unknown): string | undefined {
  if (!Array.isArray(weights)) return "weights must be an array";
  const names = new Set<string>();
  for (const [i, w] of weights.entries()) {
    if (!isRecord(w) || typeof w.name !== "string" || w.name === "") return `weights[${i}] must have a name`;
    if (names.has(w.name)) return `weight "${w.name}" appears more than once`;
    names.add(w.name);
    if (!Array.isArray(w.shape) || !w.shape.every(isCount)) {
      return `weight "${w.name}" must have a shape of integers >= 0`;
    }
  }
  return undefined;
}
