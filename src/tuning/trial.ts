/**
 * The live trial an objective receives: it suggests parameters (through the sampler, or from an
 * enqueued fixed value, or from the relative sample taken at ask time), reports intermediate values
 * and asks the pruner. Like Optuna's Trial it keeps its own copy of what it wrote, so the sampler and
 * pruner see a fresh FrozenTrial without a storage read per call.
 */
import {
  categoricalDistribution,
  checkCompatible,
  contains,
  distributionsEqual,
  floatDistribution,
  intDistribution,
  isSingle,
  type NumericOptions,
  singleValue,
  toInternal,
  type WarningSink,
} from "./distributions.js";
import { TuningError } from "./errors.js";
import { withTrial } from "./frozen.js";
import type { TuningStorage } from "./storage.js";
import type {
  CategoricalChoice,
  Distribution,
  FrozenTrial,
  ParamValue,
  Pruner,
  Sampler,
  StudyView,
} from "./types.js";

/** What a trial needs from its study. */
export interface TrialContext {
  readonly storage: TuningStorage;
  readonly sampler: Sampler;
  readonly pruner: Pruner;
  readonly warn: WarningSink;
  /** The study as it was when the trial was asked (the sampler's and pruner's view of other trials). */
  readonly view: StudyView;
  readonly relativeSpace: Readonly<Record<string, Distribution>>;
  readonly relativeParams: Readonly<Record<string, ParamValue>>;
}

interface MutableSnapshot {
  params: Record<string, ParamValue>;
  distributions: Record<string, Distribution>;
  userAttrs: Record<string, unknown>;
  systemAttrs: Record<string, unknown>;
  intermediateValues: Map<number, number>;
}

export class Trial {
  readonly number: number;
  readonly trialId: number;
  private readonly ctx: TrialContext;
  private readonly base: FrozenTrial;
  private readonly cache: MutableSnapshot;

  /** Made by `Study.ask`; not meant to be built by hand. */
  constructor(ctx: TrialContext, frozen: FrozenTrial) {
    this.ctx = ctx;
    this.base = frozen;
    this.number = frozen.number;
    this.trialId = frozen.trialId;
    this.cache = {
      params: { ...frozen.params },
      distributions: { ...frozen.distributions },
      userAttrs: { ...frozen.userAttrs },
      systemAttrs: { ...frozen.systemAttrs },
      intermediateValues: new Map(frozen.intermediateValues),
    };
  }

  /** A float in [low, high]; `log` samples on a log scale, `step` on the grid low + k·step. */
  async suggestFloat(name: string, low: number, high: number, options: NumericOptions = {}): Promise<number> {
    return Number(await this.suggest(name, floatDistribution(low, high, options, this.ctx.warn)));
  }

  /** An integer in [low, high] inclusive; `step` (default 1) and `log` as for floats. */
  async suggestInt(name: string, low: number, high: number, options: NumericOptions = {}): Promise<number> {
    return Math.trunc(Number(await this.suggest(name, intDistribution(low, high, options, this.ctx.warn))));
  }

  /** One of `choices` (strings, numbers, booleans or null). */
  async suggestCategorical<T extends CategoricalChoice>(name: string, choices: readonly T[]): Promise<T> {
    return (await this.suggest(name, categoricalDistribution(choices))) as T;
  }

  /**
   * Suggests a value of `name` from any distribution. The same name asked again returns the first value
   * (with a warning when the distribution differs but is compatible, an error when it is not).
   */
  async suggest(name: string, distribution: Distribution): Promise<ParamValue> {
    const previous = this.cache.distributions[name];
    if (previous !== undefined) {
      checkCompatible(name, previous, distribution);
      if (!distributionsEqual(previous, distribution)) {
        this.ctx.warn(
          `Inconsistent parameter values for distribution with name "${name}"; only the first call's distribution is used: ${JSON.stringify(previous)}`,
        );
      }
      return this.cache.params[name] as ParamValue;
    }
    const value = this.pick(name, distribution);
    // toInternal validates the value (a NaN or an unknown choice throws here, before anything is stored).
    const internal = toInternal(distribution, value);
    await this.ctx.storage.setTrialParam(this.trialId, name, internal, distribution);
    this.cache.params[name] = value;
    this.cache.distributions[name] = distribution;
    return value;
  }

  private pick(name: string, distribution: Distribution): ParamValue {
    const fixed = this.fixedParams();
    if (fixed !== undefined && name in fixed) {
      const value = fixed[name] as ParamValue;
      if (!contains(distribution, toInternal(distribution, value))) {
        this.ctx.warn(
          `Fixed parameter ${name} with value ${JSON.stringify(value)} is out of range for ${JSON.stringify(distribution)}.`,
        );
      }
      return value;
    }
    if (isSingle(distribution)) return singleValue(distribution);
    if (name in this.ctx.relativeParams) {
      const space = this.ctx.relativeSpace[name];
      if (space === undefined) {
        throw new TuningError(
          "INVALID_VALUE",
          `the sampler's relative sample has "${name}", which is not in its search space`,
          {
            hint: "this is a sampler bug: sampleRelative must only return parameters of the space it was given",
          },
        );
      }
      checkCompatible(name, space, distribution);
      const value = this.ctx.relativeParams[name] as ParamValue;
      if (contains(distribution, toInternal(distribution, value))) return value;
    }
    return this.ctx.sampler.sampleIndependent(this.ctx.view, this.frozen(), name, distribution);
  }

  private fixedParams(): Record<string, ParamValue> | undefined {
    const fixed = this.cache.systemAttrs.fixed_params;
    return typeof fixed === "object" && fixed !== null ? (fixed as Record<string, ParamValue>) : undefined;
  }

  /**
   * Records an intermediate value (a validation loss after epoch `step`) for the pruner. A step already
   * reported is ignored with a warning, as in Optuna. Single-objective studies only.
   */
  async report(value: number, step: number): Promise<void> {
    if (this.ctx.view.directions.length > 1) {
      throw new TuningError("INVALID_VALUE", "Trial.report is not supported for multi-objective studies");
    }
    if (typeof value !== "number")
      throw new TuningError("INVALID_VALUE", `report value=${String(value)} must be a number`);
    if (!Number.isInteger(step) || step < 0) {
      throw new TuningError("INVALID_VALUE", `report step=${step} must be a non-negative integer`);
    }
    if (this.cache.intermediateValues.has(step)) {
      this.ctx.warn(`The reported value is ignored because step=${step} is already reported.`);
      return;
    }
    await this.ctx.storage.setTrialIntermediateValue(this.trialId, step, value);
    this.cache.intermediateValues.set(step, value);
  }

  /** Whether the pruner says to stop this trial now (then throw `TrialPruned`). Single-objective only. */
  async shouldPrune(): Promise<boolean> {
    if (this.ctx.view.directions.length > 1) {
      throw new TuningError(
        "INVALID_VALUE",
        "Trial.shouldPrune is not supported for multi-objective studies",
      );
    }
    const frozen = this.frozen();
    return this.ctx.pruner.prune(withTrial(this.ctx.view, frozen), frozen);
  }

  async setUserAttr(key: string, value: unknown): Promise<void> {
    await this.ctx.storage.setTrialUserAttr(this.trialId, key, value);
    this.cache.userAttrs[key] = value;
  }

  async setSystemAttr(key: string, value: unknown): Promise<void> {
    await this.ctx.storage.setTrialSystemAttr(this.trialId, key, value);
    this.cache.systemAttrs[key] = value;
  }

  /** External values suggested so far, by name. */
  get params(): Record<string, ParamValue> {
    return { ...this.cache.params };
  }

  get distributions(): Record<string, Distribution> {
    return { ...this.cache.distributions };
  }

  get userAttrs(): Record<string, unknown> {
    return { ...this.cache.userAttrs };
  }

  get systemAttrs(): Record<string, unknown> {
    return { ...this.cache.systemAttrs };
  }

  /** A snapshot of this trial as written so far (what samplers and pruners receive). */
  frozen(): FrozenTrial {
    return {
      ...this.base,
      params: { ...this.cache.params },
      distributions: { ...this.cache.distributions },
      userAttrs: { ...this.cache.userAttrs },
      systemAttrs: { ...this.cache.systemAttrs },
      intermediateValues: new Map(this.cache.intermediateValues),
    };
  }
}
