/**
 * The Tree-structured Parzen Estimator sampler (Bergstra et al., 2011), as Optuna's TPESampler runs it:
 * finished trials are split into the best γ(n) ("below") and the rest ("above"), a Parzen estimator is
 * fitted to each, candidates are drawn from the below estimator l(x) and the one maximising l(x)/g(x)
 * is proposed. Univariate mode fits one estimator per parameter; multivariate mode fits one joint
 * estimator over the intersection of the finished trials' search spaces, which captures interactions
 * (and is Optuna's default for single-objective studies since 4.x, so it is ours too).
 *
 * Two defaults differ from Optuna's, chosen on the anchors' HPO benchmark (`npm run bench:tune`, 80
 * seeds; docs/performance.md): 5 random startup trials instead of 10, and 24 "local" candidates beside
 * Optuna's 24, drawn from the same l(x) kernels with σ × 0.4 and ranked by the same l(x)/g(x), which
 * refine around the good observations. `{ nStartupTrials: 10, nLocalCandidates: 0 }` is Optuna's TPE.
 */
import { randomInt } from "node:crypto";
import { CryptomlError } from "../../core/errors.js";
import { Rng } from "../../engine/random.js";
import { distributionsEqual, isSingle, toExternal, toInternal } from "../distributions.js";
import type { Distribution, FrozenTrial, ParamValue, Sampler, StudyView, TrialState } from "../types.js";
import { defaultWeights, ParzenEstimator, type ParzenEstimatorParameters } from "./tpe-parzen.js";

export interface TPESamplerOptions {
  /**
   * Trials sampled at random before TPE takes over (default 5; Optuna: 10). On the anchors' benchmark
   * (2–6 parameters) 5 random trials left TPE more of a 100-trial budget with no loss of coverage.
   */
  readonly nStartupTrials?: number;
  /** Candidates drawn from l(x) per suggestion (default 24, as Optuna). */
  readonly nEiCandidates?: number;
  /**
   * Extra candidates per suggestion drawn from l(x)'s kernels with σ multiplied by `localBandwidth`,
   * ranked with the others by l(x)/g(x): a local refinement around the good observations (default 24;
   * 0 gives Optuna's TPE exactly).
   */
  readonly nLocalCandidates?: number;
  /** σ factor of the local candidates, in (0, 1] (default 0.4). */
  readonly localBandwidth?: number;
  /** How many of n finished trials count as good (default Optuna's min(⌈0.1·n⌉, 25)). */
  readonly gamma?: (n: number) => number;
  /** Observation weights for n trials, oldest first (default Optuna's: flat newest 25, ramp before). */
  readonly weights?: (n: number) => ArrayLike<number>;
  readonly priorWeight?: number;
  readonly considerMagicClip?: boolean;
  readonly considerEndpoints?: boolean;
  /** One joint estimator over the shared search space (default true, as Optuna for one objective). */
  readonly multivariate?: boolean;
  /**
   * Count RUNNING trials as bad observations, so that parallel workers asking at the same time do not
   * all propose the same point (default false).
   */
  readonly constantLiar?: boolean;
  /** Equal seeds and equal call sequences give equal suggestions; omitted, a random seed. */
  readonly seed?: number;
}

/** Optuna's default_gamma. */
export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

const FINISHED: readonly TrialState[] = ["COMPLETE", "PRUNED"];
const WITH_RUNNING: readonly TrialState[] = ["COMPLETE", "PRUNED", "RUNNING"];

/** A trial reduced to what the split needs, computed once per trial and cached while it is finished. */
export interface Observation {
  readonly number: number;
  readonly state: TrialState;
  /** For COMPLETE: the value, negated when maximising (lower is better). */
  readonly key: number;
  /** For PRUNED: −last step (later steps first), then the signed last intermediate value. */
  readonly prunedStep: number;
  readonly params: Readonly<Record<string, ParamValue>>;
}

interface SpaceCache {
  readonly seen: Set<number>;
  space: Map<string, Distribution> | null;
}

export class TPESampler implements Sampler {
  private readonly nStartupTrials: number;
  private readonly nEiCandidates: number;
  private readonly nLocalCandidates: number;
  private readonly localBandwidth: number;
  private readonly gamma: (n: number) => number;
  private readonly multivariate: boolean;
  private readonly constantLiar: boolean;
  private readonly parzen: ParzenEstimatorParameters;
  private readonly rng: Rng;
  /** Finished trials' observations by trial id: a finished trial never changes. */
  private readonly observations = new Map<number, Observation>();
  /** Intersection search space per study, extended incrementally as trials finish. */
  private readonly spaces = new Map<string, SpaceCache>();
  /**
   * Relative params proposed to RUNNING trials, by trial id, so the constant liar sees all of a running
   * trial's point before the objective has asked for every parameter. Optuna shares them through trial
   * system attrs; Sampler has no write access to storage, so this works within one process only.
   */
  private readonly pending = new Map<number, Record<string, ParamValue>>();

  constructor(options: TPESamplerOptions = {}) {
    const nStartup = options.nStartupTrials ?? 5;
    const nEi = options.nEiCandidates ?? 24;
    const nLocal = options.nLocalCandidates ?? 24;
    const localBandwidth = options.localBandwidth ?? 0.4;
    if (!Number.isInteger(nLocal) || nLocal < 0) {
      throw new CryptomlError("USAGE", `TPESampler nLocalCandidates=${nLocal} must be an integer >= 0`);
    }
    if (!(localBandwidth > 0 && localBandwidth <= 1)) {
      throw new CryptomlError("USAGE", `TPESampler localBandwidth=${localBandwidth} must be in (0, 1]`);
    }
    if (!Number.isInteger(nStartup) || nStartup < 0) {
      throw new CryptomlError("USAGE", `TPESampler nStartupTrials=${nStartup} must be an integer >= 0`);
    }
    if (!Number.isInteger(nEi) || nEi < 1) {
      throw new CryptomlError("USAGE", `TPESampler nEiCandidates=${nEi} must be an integer >= 1`);
    }
    const priorWeight = options.priorWeight ?? 1;
    if (!(priorWeight >= 0)) {
      throw new CryptomlError("USAGE", `TPESampler priorWeight=${priorWeight} must be >= 0`);
    }
    this.nStartupTrials = nStartup;
    this.nEiCandidates = nEi;
    this.nLocalCandidates = nLocal;
    this.localBandwidth = localBandwidth;
    this.gamma = options.gamma ?? defaultGamma;
    this.multivariate = options.multivariate ?? true;
    this.constantLiar = options.constantLiar ?? false;
    this.parzen = {
      priorWeight,
      considerMagicClip: options.considerMagicClip ?? true,
      considerEndpoints: options.considerEndpoints ?? false,
      weights: options.weights ?? defaultWeights,
    };
    this.rng = new Rng(options.seed ?? randomInt(2 ** 47));
  }

  inferRelativeSearchSpace(study: StudyView, _trial: FrozenTrial): Record<string, Distribution> {
    if (!this.multivariate) return {};
    let cache = this.spaces.get(study.studyName);
    if (cache === undefined) {
      cache = { seen: new Set(), space: null };
      this.spaces.set(study.studyName, cache);
    }
    for (const t of study.getTrials(FINISHED)) {
      if (cache.seen.has(t.trialId)) continue;
      cache.seen.add(t.trialId);
      if (cache.space === null) {
        cache.space = new Map(Object.entries(t.distributions));
        continue;
      }
      for (const [name, d] of cache.space) {
        const other = t.distributions[name];
        if (other === undefined || !distributionsEqual(d, other)) cache.space.delete(name);
      }
    }
    const out: Record<string, Distribution> = {};
    // Sorted names: the order of draws from the Rng must not depend on the order trials asked.
    for (const name of [...(cache.space?.keys() ?? [])].sort()) {
      const d = cache.space?.get(name) as Distribution;
      if (!isSingle(d)) out[name] = d;
    }
    return out;
  }

  sampleRelative(
    study: StudyView,
    trial: FrozenTrial,
    space: Record<string, Distribution>,
  ): Record<string, ParamValue> {
    const names = Object.keys(space);
    if (names.length === 0) return {};
    if (study.getTrials(FINISHED).length < this.nStartupTrials) return {};
    const params = this.sample(
      study,
      trial,
      names,
      names.map((n) => space[n] as Distribution),
    );
    if (this.constantLiar) this.pending.set(trial.trialId, params);
    return params;
  }

  sampleIndependent(
    study: StudyView,
    trial: FrozenTrial,
    name: string,
    distribution: Distribution,
  ): ParamValue {
    if (study.getTrials(FINISHED).length < this.nStartupTrials) return this.sampleRandom(distribution);
    return this.sample(study, trial, [name], [distribution])[name] as ParamValue;
  }

  afterTrial(_study: StudyView, trial: FrozenTrial): void {
    this.pending.delete(trial.trialId);
  }

  /** One draw from the distribution's prior (uniform, in log space for log-scale ones). */
  private sampleRandom(d: Distribution): ParamValue {
    const rng = this.rng;
    if (d.kind === "categorical") return d.choices[rng.int(d.choices.length)] as ParamValue;
    const step = d.step ?? 0;
    if (step > 0 && !d.log) {
      const k = rng.int(Math.floor((d.high - d.low) / step + 1e-9) + 1);
      return toExternal(d, Math.min(d.high, d.low + k * step));
    }
    const lo = d.log ? Math.log(d.low - step / 2) : d.low;
    const hi = d.log ? Math.log(d.high + step / 2) : d.high;
    let x = rng.uniform(lo, hi);
    if (d.log) x = Math.exp(x);
    if (step > 0) x = d.low + Math.round((x - d.low) / step) * step;
    return toExternal(d, Math.min(d.high, Math.max(d.low, x)));
  }

  private sample(
    study: StudyView,
    trial: FrozenTrial,
    names: readonly string[],
    dists: readonly Distribution[],
  ): Record<string, ParamValue> {
    if (study.directions.length > 1) {
      throw new CryptomlError(
        "USAGE",
        "TPESampler supports single-objective studies only; use the random sampler for multi-objective ones",
      );
    }
    const maximize = study.directions[0] === "maximize";
    const obs: Observation[] = [];
    for (const t of study.getTrials(this.constantLiar ? WITH_RUNNING : FINISHED)) {
      if (t.trialId === trial.trialId) continue;
      obs.push(this.observe(t, maximize));
    }
    const nFinished = obs.reduce((n, o) => n + (o.state === "RUNNING" ? 0 : 1), 0);
    const [below, above] = splitObservations(obs, this.gamma(nFinished));
    const lower = new ParzenEstimator(internals(below, names, dists), dists, this.parzen);
    const upper = new ParzenEstimator(internals(above, names, dists), dists, this.parzen);
    // Optuna's candidates, then local ones: the same kernels (chosen by weight) with σ scaled down,
    // all ranked by the same l(x)/g(x). They refine around the good observations once the kernels are
    // as narrow as the magic clip lets them be, where Optuna's candidates keep landing about a whole
    // kernel width away.
    let candidates = lower.sample(this.rng, this.nEiCandidates);
    if (this.nLocalCandidates > 0) {
      const local = lower.sample(this.rng, this.nLocalCandidates, this.localBandwidth);
      candidates = candidates.map((c, j) => {
        const both = new Float64Array(c.length + this.nLocalCandidates);
        both.set(c);
        both.set(local[j] as Float64Array, c.length);
        return both;
      });
    }
    const nCand = candidates[0]?.length ?? 0;
    const l = lower.logPdf(candidates);
    const g = upper.logPdf(candidates);
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < nCand; i++) {
      const score = (l[i] as number) - (g[i] as number);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    const out: Record<string, ParamValue> = {};
    names.forEach((name, j) => {
      out[name] = toExternal(dists[j] as Distribution, (candidates[j] as Float64Array)[best] as number);
    });
    return out;
  }

  private observe(t: FrozenTrial, maximize: boolean): Observation {
    const cached = this.observations.get(t.trialId);
    if (cached !== undefined) return cached;
    let key = 0;
    let prunedStep = 0;
    if (t.state === "COMPLETE") {
      const v = t.values?.[0] ?? Number.NaN;
      // NaN objectives sort last: they say nothing good about their point.
      key = Number.isNaN(v) ? Number.POSITIVE_INFINITY : maximize ? -v : v;
    } else if (t.state === "PRUNED") {
      let step: number | undefined;
      for (const s of t.intermediateValues.keys()) if (step === undefined || s > step) step = s;
      if (step === undefined) {
        prunedStep = 1;
      } else {
        const v = t.intermediateValues.get(step) as number;
        prunedStep = -step;
        key = Number.isNaN(v) ? Number.POSITIVE_INFINITY : maximize ? -v : v;
      }
    }
    const params = t.state === "RUNNING" ? { ...(this.pending.get(t.trialId) ?? {}), ...t.params } : t.params;
    const o: Observation = { number: t.number, state: t.state, key, prunedStep, params };
    if (t.state !== "RUNNING") this.observations.set(t.trialId, o);
    return o;
  }
}

const byKey = (a: Observation, b: Observation): number => a.key - b.key || a.number - b.number;
const byPruned = (a: Observation, b: Observation): number =>
  a.prunedStep - b.prunedStep || a.key - b.key || a.number - b.number;

/**
 * Optuna's `_split_trials` for one objective: the best COMPLETE trials fill `nBelow` first, then the
 * PRUNED ones that got furthest with the best last value; RUNNING trials (constant liar) are all above.
 * Both halves come back in trial-number order, which is what the weights are indexed by.
 */
export function splitObservations(
  obs: readonly Observation[],
  nBelow: number,
): [Observation[], Observation[]] {
  const complete = obs.filter((o) => o.state === "COMPLETE").sort(byKey);
  const pruned = obs.filter((o) => o.state === "PRUNED").sort(byPruned);
  const running = obs.filter((o) => o.state === "RUNNING");
  const nComplete = Math.min(nBelow, complete.length);
  const nPruned = Math.min(Math.max(0, nBelow - nComplete), pruned.length);
  const below = [...complete.slice(0, nComplete), ...pruned.slice(0, nPruned)];
  const above = [...complete.slice(nComplete), ...pruned.slice(nPruned), ...running];
  const byNumber = (a: Observation, b: Observation): number => a.number - b.number;
  return [below.sort(byNumber), above.sort(byNumber)];
}

/** Internal values of `names` for the observations that have all of them (one array per name). */
function internals(
  obs: readonly Observation[],
  names: readonly string[],
  dists: readonly Distribution[],
): Float64Array[] {
  const usable = obs.filter((o) => names.every((n) => n in o.params));
  return names.map((name, j) => {
    const out = new Float64Array(usable.length);
    const d = dists[j] as Distribution;
    usable.forEach((o, i) => {
      out[i] = toInternal(d, o.params[name] as ParamValue);
    });
    return out;
  });
}
