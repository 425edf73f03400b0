/**
 * Checks of the state a DataParallelTrainer is asked to import, made on the coordinator before any
 * replica sees it: a replica that failed on bad input would take the whole pool down, while a
 * rejected call leaves the trainer as it was.
 */
import { CryptomlError } from "../../core/errors.js";
import { Rng, type RngState } from "../random.js";
import type { FlatLayout } from "./layout.js";

/** A named weight tensor, as `writeSafetensors` takes it. */
export interface NamedWeights {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

const WEIGHTS_HINT = "load weights saved from a model built with the same definition";

/**
 * The data of `weights` in the layout's parameter order, after checking that the names are exactly
 * the model's and every shape matches.
 * @throws CryptomlError (USAGE) naming the first mismatch.
 */
export function orderWeights(
  layout: FlatLayout,
  shapes: readonly (readonly number[])[],
  weights: readonly { name: string; shape: readonly number[]; data: Float32Array }[],
): Float32Array[] {
  const byName = new Map(weights.map((w) => [w.name, w]));
  const ordered = layout.names.map((name, i) => {
    const w = byName.get(name);
    const shape = shapes[i] as readonly number[];
    if (w === undefined) {
      throw new CryptomlError("USAGE", `weight ${name} [${shape.join(", ")}] is missing`, {
        hint: WEIGHTS_HINT,
      });
    }
    if (w.shape.length !== shape.length || w.shape.some((d, k) => d !== shape[k])) {
      throw new CryptomlError(
        "USAGE",
        `weight ${name} has shape [${w.shape.join(", ")}] but the model needs [${shape.join(", ")}]`,
        { hint: WEIGHTS_HINT },
      );
    }
    if (!(w.data instanceof Float32Array) || w.data.length !== layout.sizes[i]) {
      throw new CryptomlError("USAGE", `weight ${name} must hold ${layout.sizes[i]} float32 values`, {
        hint: WEIGHTS_HINT,
      });
    }
    return w.data;
  });
  const known = new Set(layout.names);
  const extra = weights.find((w) => !known.has(w.name));
  if (extra !== undefined) {
    throw new CryptomlError("USAGE", `weight ${extra.name} is not a parameter of the model`, {
      hint: WEIGHTS_HINT,
    });
  }
  if (weights.length !== layout.names.length) {
    throw new CryptomlError("USAGE", "a weight name appears more than once", { hint: WEIGHTS_HINT });
  }
  return ordered;
}

/**
 * One dropout generator state per replica, each checked by restoring it.
 * @throws CryptomlError (CONFIG_INVALID) when the count differs from `workers` or a state is invalid.
 */
export function checkRngStates(states: unknown, workers: number): RngState[] {
  if (!Array.isArray(states) || states.length !== workers) {
    const count = Array.isArray(states) ? states.length : "no";
    throw new CryptomlError(
      "CONFIG_INVALID",
      `the checkpoint holds ${count} dropout generator state(s); this run has ${workers} worker(s)`,
      { hint: "resume with the --workers the run was started with" },
    );
  }
  return states.map((state) => Rng.fromState(state as RngState).state());
}
