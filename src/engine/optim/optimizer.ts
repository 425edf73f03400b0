/**
 * The optimiser contract the Trainer, the schedulers and checkpoints depend on, its serialisable state,
 * and the bookkeeping every implementation shares (parameter checks, zeroGrad, per-parameter buffers).
 */
import type { Parameter } from "../parameter.js";
import { BAD_STATE, decodeFloat32, encodeFloat32, field } from "./state.js";
import { optimError, requireInteger } from "./validate.js";

export type OptimizerKind = "sgd" | "adam" | "adamw";

/**
 * One optimiser over one group of parameters (PyTorch's single `param_group`). Schedulers change `lr`
 * (and, for one-cycle, `momentum`) between steps; `step()` reads them afresh each time.
 */
export interface Optimizer {
  readonly kind: OptimizerKind;
  readonly params: readonly Parameter[];
  /** Learning rate used by the next `step()`; a finite number >= 0 (schedulers may reach 0). */
  lr: number;
  /**
   * The coefficient a one-cycle schedule cycles, as torch's OneCycleLR does: SGD's `momentum`, Adam's
   * and AdamW's `betas[0]`.
   */
  momentum: number;
  /** Steps taken so far (torch's `state["step"]` for Adam). */
  readonly stepCount: number;
  /** Applies one update from the gradients in `params[i].grad`. */
  step(): void;
  /** Sets every gradient to zero (torch's `zero_grad(set_to_none=False)`). */
  zeroGrad(): void;
  /** A JSON-serialisable snapshot: hyper-parameters as they are now, step count and every buffer. */
  stateDict(): OptimizerState;
  /**
   * Restores a snapshot, hyper-parameters included (as torch's `load_state_dict` restores
   * `param_groups`), after checking that it belongs to the same kind and the same parameters.
   */
  loadStateDict(state: OptimizerState): void;
}

/** The current state format; bump when the layout changes. */
export const OPTIMIZER_STATE_FORMAT = 1;

/** SGD's hyper-parameters as saved. */
export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** Adam's and AdamW's hyper-parameters as saved. */
export interface AdamHyper {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

/**
 * Per-parameter state, in `params` order. `buffers` maps torch's state names (`momentum_buffer`,
 * `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`) to base64 of the float32 values' little-endian bytes;
 * a buffer not yet created (SGD's momentum buffer before the first step) is absent.
 */
export interface ParameterState {
  name: string;
  size: number;
  buffers: Record<string, string>;
}

interface StateCommon {
  format: typeof OPTIMIZER_STATE_FORMAT;
  step: number;
  params: ParameterState[];
}

/** What `Optimizer.stateDict()` returns: plain JSON (numbers, booleans, strings, arrays, objects). */
export type OptimizerState =
  | (StateCommon & { kind: "sgd"; hyper: SgdHyper })
  | (StateCommon & { kind: "adam" | "adamw"; hyper: AdamHyper });

/** Checks the parameter list an optimiser is built over. */
export function checkParams(params: readonly Parameter[], what: string): readonly Parameter[] {
  if (!Array.isArray(params) || params.length === 0) {
    throw optimError(`${what}: got an empty parameter list`, "pass model.parameters() (at least one)");
  }
  const names = new Set<string>();
  for (const [i, p] of params.entries()) {
    if (!(p.data instanceof Float32Array) || !(p.grad instanceof Float32Array)) {
      throw optimError(`${what}: params[${i}] "${p.name}" must hold Float32Array data and grad`);
    }
    if (p.grad.length !== p.data.length) {
      throw optimError(
        `${what}: params[${i}] "${p.name}" has ${p.data.length} values but ${p.grad.length} grads`,
      );
    }
    if (names.has(p.name)) throw optimError(`${what}: parameter name "${p.name}" appears more than once`);
    names.add(p.name);
  }
  return [...params];
}

/** A slot per parameter: one named buffer (or null while it does not exist) for each parameter. */
export type Slots = Record<string, (Float32Array | null)[]>;

/** Encodes `slots` into per-parameter state entries. */
export function encodeParams(params: readonly Parameter[], slots: Slots): ParameterState[] {
  return params.map((p, i) => {
    const buffers: Record<string, string> = {};
    for (const [slot, values] of Object.entries(slots)) {
      const buffer = values[i];
      if (buffer) buffers[slot] = encodeFloat32(buffer);
    }
    return { name: p.name, size: p.data.length, buffers };
  });
}

/**
 * Decodes per-parameter state for `slotNames`, checking that names and sizes match `params` in order.
 * A slot absent from a parameter's buffers decodes to null.
 */
export function decodeParams(
  params: readonly Parameter[],
  state: unknown,
  slotNames: readonly string[],
  what: string,
): Slots {
  const saved = field(state, "params", what);
  if (!Array.isArray(saved) || saved.length !== params.length) {
    const count = Array.isArray(saved) ? saved.length : "no";
    throw optimError(`${what}.params has ${count} entries but the optimiser has ${params.length}`, BAD_STATE);
  }
  const slots: Slots = Object.fromEntries(slotNames.map((name) => [name, [] as (Float32Array | null)[]]));
  params.forEach((p, i) => {
    const entry = saved[i] as unknown;
    const where = `${what}.params[${i}]`;
    const name = field(entry, "name", where);
    const size = field(entry, "size", where);
    if (name !== p.name || size !== p.data.length) {
      throw optimError(
        `${where} is ${JSON.stringify(name)} (${String(size)} values) but the optimiser's is "${p.name}" (${p.data.length})`,
        BAD_STATE,
      );
    }
    const buffers = field(entry, "buffers", where) as Record<string, unknown>;
    for (const slot of slotNames) {
      const text = buffers[slot];
      slots[slot]?.push(text === undefined ? null : decodeFloat32(text, p.data.length, `${where}.${slot}`));
    }
  });
  return slots;
}

/** Reads the saved step count. */
export function decodeStep(state: unknown, what: string): number {
  const step = field(state, "step", what) as number;
  requireInteger(`${what}.step`, step, 0);
  return step;
}

/** Zeroes every gradient. */
export function zeroGrads(params: readonly Parameter[]): void {
  for (const p of params) p.grad.fill(0);
}
