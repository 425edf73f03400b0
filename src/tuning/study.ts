/**
 * A study: ask & tell over a storage, a sampler and a pruner, as Optuna's Study. `optimize` is a thin
 * loop over ask/tell (see optimize.ts), so remote workers and the CLI share one path.
 */
import { defaultWarn, type WarningSink } from "./distributions.js";
import { TuningError } from "./errors.js";
import {
  better,
  isFinishedState,
  lastStep,
  paretoFront,
  type SamplerHooks,
  snapshotView,
  withTrial,
} from "./frozen.js";
import { type ObjectiveFn, type OptimizeOptions, runOptimize } from "./optimize.js";
import { NopPruner } from "./pruners/nop.js";
import { RandomSampler } from "./samplers/random.js";
import type { TuningStorage } from "./storage.js";
import { InMemoryStorage } from "./storages/memory.js";
import { Trial } from "./trial.js";
import type {
  Distribution,
  FrozenTrial,
  ParamValue,
  Pruner,
  Sampler,
  StudyDirection,
  StudyView,
  TrialState,
} from "./types.js";

export interface LoadStudyOptions {
  /** Where trials live. Default (create only): a new InMemoryStorage. */
  storage: TuningStorage;
  studyName: string;
  /** Default: RandomSampler with a fresh seed. */
  sampler?: Sampler;
  /** Default: NopPruner (never prunes). */
  pruner?: Pruner;
  /** Where warnings go (NaN objective values, duplicate reports…). Default: `process.emitWarning`. */
  onWarning?: WarningSink;
}

export interface CreateStudyOptions extends Omit<LoadStudyOptions, "storage" | "studyName"> {
  storage?: TuningStorage;
  /** Default: `no-name-<uuid>`. */
  studyName?: string;
  /** Single objective. Default "minimize". Give `directions` instead for several objectives. */
  direction?: StudyDirection;
  directions?: readonly StudyDirection[];
  /** Load the study when the name is taken (its directions must match) instead of failing. Default false. */
  loadIfExists?: boolean;
}

/** What `tell` may receive besides values. */
export interface TellOptions {
  /** COMPLETE (needs values), PRUNED or FAIL (no values). Default: COMPLETE if the values are valid, else FAIL. */
  state?: TrialState;
  /** Return the trial as it is instead of failing when it is already finished. Default false. */
  skipIfFinished?: boolean;
}

export interface EnqueueOptions {
  userAttrs?: Record<string, unknown>;
  /** Do nothing when a WAITING/RUNNING/COMPLETE trial already has exactly these params. Default false. */
  skipIfExists?: boolean;
}

export class Study {
  readonly studyId: number;
  readonly studyName: string;
  readonly directions: readonly StudyDirection[];
  readonly storage: TuningStorage;
  readonly sampler: Sampler;
  readonly pruner: Pruner;
  private readonly warn: WarningSink;
  private stopRequested = false;

  private constructor(
    studyId: number,
    studyName: string,
    directions: readonly StudyDirection[],
    opts: CreateStudyOptions,
  ) {
    this.studyId = studyId;
    this.studyName = studyName;
    this.directions = directions;
    this.storage = opts.storage ?? new InMemoryStorage();
    this.sampler = opts.sampler ?? new RandomSampler();
    this.pruner = opts.pruner ?? new NopPruner();
    this.warn = opts.onWarning ?? defaultWarn;
  }

  /** Creates a study in `storage` (Optuna's `create_study`). */
  static async create(options: CreateStudyOptions = {}): Promise<Study> {
    const storage = options.storage ?? new InMemoryStorage();
    if (options.direction !== undefined && options.directions !== undefined) {
      throw new TuningError("INVALID_VALUE", "give either direction or directions, not both");
    }
    const directions = options.directions ?? [options.direction ?? "minimize"];
    if (directions.length === 0 || directions.some((d) => d !== "minimize" && d !== "maximize")) {
      throw new TuningError(
        "INVALID_VALUE",
        `directions=${JSON.stringify(directions)} must be "minimize" or "maximize", at least one`,
      );
    }
    let studyId: number;
    try {
      studyId = await storage.createStudy(directions, options.studyName);
    } catch (error) {
      if (!(error instanceof TuningError && error.reason === "DUPLICATED_STUDY" && options.loadIfExists))
        throw error;
      const loaded = await Study.load({ ...options, storage, studyName: options.studyName ?? "" });
      if (loaded.directions.join() !== directions.join()) {
        throw new TuningError(
          "INVALID_VALUE",
          `study "${loaded.studyName}" exists with directions ${loaded.directions.join(", ")}`,
          {
            hint: "use the stored directions or another study name",
          },
        );
      }
      return loaded;
    }
    const stored = await storage.getStudy(studyId);
    return new Study(studyId, stored.studyName, stored.directions, { ...options, storage });
  }

  /** Opens an existing study (Optuna's `load_study`). @throws TuningError STUDY_NOT_FOUND */
  static async load(options: LoadStudyOptions): Promise<Study> {
    const studyId = await options.storage.getStudyIdFromName(options.studyName);
    const stored = await options.storage.getStudy(studyId);
    return new Study(studyId, stored.studyName, stored.directions, options);
  }

  /** The single objective's direction. @throws for a multi-objective study. */
  get direction(): StudyDirection {
    this.requireSingle("direction");
    return this.directions[0] as StudyDirection;
  }

  /** All trials in number order, optionally only those in `states`. */
  getTrials(states?: readonly TrialState[]): Promise<FrozenTrial[]> {
    return this.storage.getAllTrials(this.studyId, states);
  }

  get trials(): Promise<FrozenTrial[]> {
    return this.getTrials();
  }

  /** The best COMPLETE trial (single objective). @throws when there is none yet. */
  get bestTrial(): Promise<FrozenTrial> {
    return this.findBest();
  }

  get bestValue(): Promise<number> {
    return this.findBest().then((t) => t.values?.[0] as number);
  }

  get bestParams(): Promise<Record<string, ParamValue>> {
    return this.findBest().then((t) => ({ ...t.params }));
  }

  /** The Pareto front of COMPLETE trials (any number of objectives). */
  get bestTrials(): Promise<FrozenTrial[]> {
    return this.getTrials(["COMPLETE"]).then((ts) => paretoFront(this.directions, ts));
  }

  private async findBest(): Promise<FrozenTrial> {
    this.requireSingle("bestTrial");
    let best: FrozenTrial | undefined;
    for (const t of await this.getTrials(["COMPLETE"])) {
      const v = t.values?.[0];
      if (v !== undefined && (best === undefined || better(this.direction, v, best.values?.[0] as number)))
        best = t;
    }
    if (best === undefined) {
      throw new TuningError("TRIAL_NOT_FOUND", `study "${this.studyName}" has no COMPLETE trial yet`, {
        hint: "run optimize() or tell() a trial first",
      });
    }
    return best;
  }

  private requireSingle(what: string): void {
    if (this.directions.length !== 1) {
      throw new TuningError(
        "INVALID_VALUE",
        `${what} is for single-objective studies; this one has ${this.directions.length} objectives`,
        {
          hint: "use directions and bestTrials (the Pareto front) instead",
        },
      );
    }
  }

  /**
   * Starts a trial: takes the oldest WAITING (enqueued) trial or creates one, snapshots the study for the
   * sampler, and samples the relative search space now. `fixedDistributions` are suggested at once.
   */
  async ask(fixedDistributions: Record<string, Distribution> = {}): Promise<Trial> {
    const trialId = (await this.popWaiting()) ?? (await this.storage.createTrial(this.studyId)).trialId;
    let frozen = await this.storage.getTrial(trialId);
    let view = snapshotView(this.studyName, this.directions, await this.getTrials());
    const attrs = (this.sampler as SamplerHooks).beforeTrial?.(view, frozen);
    if (attrs !== undefined) {
      for (const [key, value] of Object.entries(attrs))
        await this.storage.setTrialSystemAttr(trialId, key, value);
      frozen = { ...frozen, systemAttrs: { ...frozen.systemAttrs, ...attrs } };
    }
    view = withTrial(view, frozen);
    const relativeSpace = this.sampler.inferRelativeSearchSpace(view, frozen);
    const relativeParams = this.sampler.sampleRelative(view, frozen, relativeSpace);
    const trial = new Trial(
      {
        storage: this.storage,
        sampler: this.sampler,
        pruner: this.pruner,
        warn: this.warn,
        view,
        relativeSpace,
        relativeParams,
      },
      frozen,
    );
    for (const [name, distribution] of Object.entries(fixedDistributions))
      await trial.suggest(name, distribution);
    return trial;
  }

  /** Claims the oldest WAITING trial; another process may take one first (then the next is tried). */
  private async popWaiting(): Promise<number | undefined> {
    for (const t of await this.getTrials(["WAITING"])) {
      try {
        if (await this.storage.setTrialStateValues(t.trialId, "RUNNING")) return t.trialId;
      } catch (error) {
        if (!(error instanceof TuningError && error.reason === "TRIAL_FINISHED")) throw error;
      }
    }
    return undefined;
  }

  /**
   * Finishes a trial (Optuna's `tell`): `tell(t, 0.3)`, `tell(t, [0.3, 12])`, `tell(t, "PRUNED")`.
   * Values that are NaN or of the wrong count make the trial FAIL with a warning when no state is given,
   * and throw when COMPLETE is asked for. A PRUNED trial keeps its last intermediate value as its value.
   */
  async tell(
    trial: Trial | number,
    valuesOrState?: number | readonly number[] | TrialState,
    options: TellOptions = {},
  ): Promise<FrozenTrial> {
    let state = options.state;
    let values: number[] | undefined;
    if (typeof valuesOrState === "string") state = valuesOrState;
    else if (typeof valuesOrState === "number") values = [valuesOrState];
    else if (valuesOrState !== undefined) values = [...valuesOrState];

    const frozen = await this.resolve(trial);
    if (isFinishedState(frozen.state) && options.skipIfFinished) return frozen;
    if (frozen.state !== "RUNNING") {
      throw new TuningError("TRIAL_FINISHED", `cannot tell trial ${frozen.number}: it is ${frozen.state}`, {
        hint: "tell each asked trial once; pass skipIfFinished to ignore repeats",
      });
    }
    if (state === "COMPLETE" && values === undefined)
      throw new TuningError("INVALID_VALUE", "state COMPLETE needs values");
    if ((state === "PRUNED" || state === "FAIL") && values !== undefined) {
      throw new TuningError("INVALID_VALUE", `state ${state} takes no values`);
    }
    if (state === "RUNNING" || state === "WAITING")
      throw new TuningError("INVALID_VALUE", `cannot tell with state ${state}`);

    if (state === "COMPLETE") {
      const problem = this.infeasible(values ?? []);
      if (problem !== null) throw new TuningError("INVALID_VALUE", problem);
    } else if (state === "PRUNED") {
      const step = lastStep(frozen);
      const last = step === undefined ? undefined : frozen.intermediateValues.get(step);
      if (last !== undefined && this.infeasible([last]) === null) values = [last];
    } else if (state === undefined) {
      const problem = values === undefined ? "no value was told" : this.infeasible(values);
      if (problem === null) state = "COMPLETE";
      else {
        state = "FAIL";
        values = undefined;
        this.warn(`Trial ${frozen.number} failed: ${problem}.`);
      }
    }
    const finalState: TrialState = state;
    try {
      if (this.sampler.afterTrial !== undefined) {
        const view = withTrial(snapshotView(this.studyName, this.directions, await this.getTrials()), frozen);
        this.sampler.afterTrial(view, frozen, finalState, values);
      }
    } finally {
      await this.storage.setTrialStateValues(frozen.trialId, finalState, values);
    }
    return this.storage.getTrial(frozen.trialId);
  }

  private infeasible(values: readonly number[]): string | null {
    const bad = values.filter((v) => typeof v !== "number" || Number.isNaN(v));
    if (bad.length > 0) return `the value ${bad.map(String).join(", ")} is not acceptable`;
    if (values.length !== this.directions.length) {
      return `the number of values ${values.length} does not match the number of objectives ${this.directions.length}`;
    }
    return null;
  }

  private async resolve(trial: Trial | number): Promise<FrozenTrial> {
    if (trial instanceof Trial) return this.storage.getTrial(trial.trialId);
    const found = (await this.getTrials()).find((t) => t.number === trial);
    if (found === undefined) {
      throw new TuningError("TRIAL_NOT_FOUND", `cannot tell trial number ${trial}: it has not been created`);
    }
    return found;
  }

  /** Adds a WAITING trial with fixed parameter values; the next `ask` takes it (Optuna's `enqueue_trial`). */
  async enqueueTrial(params: Record<string, ParamValue>, options: EnqueueOptions = {}): Promise<void> {
    if (options.skipIfExists) {
      const same = (t: FrozenTrial): boolean => {
        const fixed = (t.systemAttrs.fixed_params ?? t.params) as Record<string, unknown>;
        const keys = Object.keys(params);
        return keys.length === Object.keys(fixed).length && keys.every((k) => fixed[k] === params[k]);
      };
      if ((await this.getTrials(["WAITING", "RUNNING", "COMPLETE"])).some(same)) return;
    }
    await this.storage.createTrial(this.studyId, {
      state: "WAITING",
      systemAttrs: { fixed_params: { ...params } },
      userAttrs: { ...options.userAttrs },
    });
  }

  async setUserAttr(key: string, value: unknown): Promise<void> {
    await this.storage.setStudyUserAttr(this.studyId, key, value);
  }

  /** Asks a running `optimize` to finish after the current trial. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Runs `objective` trial after trial until `nTrials`, `timeoutMs`, `signal`, `stop()` or an exhausted
   * sampler ends it. See {@link OptimizeOptions}.
   */
  async optimize(objective: ObjectiveFn, options: OptimizeOptions = {}): Promise<void> {
    this.stopRequested = false;
    await runOptimize(this, objective, options, {
      stopRequested: () => this.stopRequested,
      exhausted: async () => {
        const hooks = this.sampler as SamplerHooks;
        if (hooks.isExhausted === undefined) return false;
        return hooks.isExhausted(snapshotView(this.studyName, this.directions, await this.getTrials()));
      },
      warn: this.warn,
    });
  }

  /** A snapshot view of the study now (what samplers see). */
  async view(): Promise<StudyView> {
    return snapshotView(this.studyName, this.directions, await this.getTrials());
  }
}
