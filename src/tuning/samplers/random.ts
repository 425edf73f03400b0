/**
 * Independent uniform sampling (Optuna's RandomSampler): log-uniform for log distributions, uniform over
 * the grid points for stepped ones, ints inclusive of both ends. Useful alone as a baseline and as the
 * start-up sampler of TPE.
 */
import { randomInt } from "node:crypto";
import { Rng } from "../../engine/random.js";
import type { Distribution, FrozenTrial, ParamValue, Sampler, StudyView } from "../types.js";

export interface RandomSamplerOptions {
  /** Seed of the generator; equal seeds give equal suggestions. Default: a fresh random seed. */
  seed?: number;
}

/** A random seed for samplers built without one (the only place tuning draws entropy from the OS). */
export const freshSeed = (): number => randomInt(0, 2 ** 31);

/** One uniform draw from `d` with `rng`, in external form. */
export function sampleUniform(rng: Rng, d: Distribution): ParamValue {
  if (d.kind === "categorical") return d.choices[rng.int(d.choices.length)] as ParamValue;
  if (d.kind === "int") {
    if (d.log) {
      // As Optuna: log-uniform over [low − ½, high + ½], then rounded, so every integer has the mass of its cell.
      const x = Math.exp(rng.uniform(Math.log(d.low - 0.5), Math.log(d.high + 0.5)));
      return Math.min(Math.max(Math.round(x), d.low), d.high);
    }
    return d.low + d.step * rng.int(Math.floor((d.high - d.low) / d.step) + 1);
  }
  if (d.log)
    return Math.min(Math.max(Math.exp(rng.uniform(Math.log(d.low), Math.log(d.high))), d.low), d.high);
  if (d.step !== null) {
    const k = rng.int(Math.round((d.high - d.low) / d.step) + 1);
    return Math.min(d.low + k * d.step, d.high);
  }
  return rng.uniform(d.low, d.high);
}

export class RandomSampler implements Sampler {
  private readonly rng: Rng;

  constructor(options: RandomSamplerOptions = {}) {
    this.rng = new Rng(options.seed ?? freshSeed());
  }

  inferRelativeSearchSpace(_study: StudyView, _trial: FrozenTrial): Record<string, Distribution> {
    return {};
  }

  sampleRelative(
    _study: StudyView,
    _trial: FrozenTrial,
    _space: Record<string, Distribution>,
  ): Record<string, ParamValue> {
    return {};
  }

  sampleIndependent(
    _study: StudyView,
    _trial: FrozenTrial,
    _name: string,
    distribution: Distribution,
  ): ParamValue {
    return sampleUniform(this.rng, distribution);
  }
}
