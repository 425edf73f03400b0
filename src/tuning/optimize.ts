/**
 * The optimisation loop: ask, run the objective, tell, call back — until a trial count, a time budget,
 * an abort signal, `Study.stop()` or an exhausted sampler (a finished grid) ends it. Errors of the
 * objective fail the trial and end the loop unless `catch` accepts them; `TrialPruned` prunes it.
 */
import type { WarningSink } from "./distributions.js";
import { TrialPruned } from "./errors.js";
import type { Study } from "./study.js";
import type { Trial } from "./trial.js";
import type { FrozenTrial } from "./types.js";

export type ObjectiveFn = (trial: Trial) => number | readonly number[] | Promise<number | readonly number[]>;

export type TrialCallback = (study: Study, trial: FrozenTrial) => void | Promise<void>;

export interface OptimizeOptions {
  /** Trials to run in this call. Default: no limit (then give `timeoutMs`, `signal` or a finite sampler). */
  nTrials?: number;
  /** Start no trial after this many ms since the call (a running one finishes). Default: no limit. */
  timeoutMs?: number;
  /**
   * Objective errors that fail the trial and let the loop go on: error classes, or a predicate.
   * Default: none (the first error fails its trial and is rethrown).
   */
  catch?: ReadonlyArray<abstract new (...args: never[]) => unknown> | ((error: unknown) => boolean);
  /** Called after each finished trial, in order, with the trial as stored. */
  callbacks?: readonly TrialCallback[];
  /** Aborting ends the loop after the current trial. */
  signal?: AbortSignal;
  /**
   * Heartbeats (Optuna's `heartbeat_interval`/`grace_period`): the running trial records one every
   * `intervalSeconds`, and before each trial RUNNING trials silent for `graceSeconds` (default 2×interval)
   * are failed, so trials of crashed workers do not stay RUNNING. Default: off.
   */
  heartbeat?: { intervalSeconds: number; graceSeconds?: number };
}

/** Hooks the study gives the loop (its private stop flag and sampler state). */
export interface LoopHooks {
  stopRequested(): boolean;
  exhausted(): Promise<boolean>;
  warn: WarningSink;
}

const caught = (rule: OptimizeOptions["catch"], error: unknown): boolean => {
  if (rule === undefined) return false;
  if (typeof rule === "function") return rule(error);
  return rule.some((cls) => error instanceof cls);
};

export async function runOptimize(
  study: Study,
  objective: ObjectiveFn,
  options: OptimizeOptions,
  hooks: LoopHooks,
): Promise<void> {
  const started = Date.now();
  const { nTrials, timeoutMs, signal, heartbeat } = options;
  if (nTrials !== undefined && (!Number.isInteger(nTrials) || nTrials < 0)) {
    throw new RangeError(`nTrials=${nTrials} must be a non-negative integer`);
  }
  for (let done = 0; ; done++) {
    if (nTrials !== undefined && done >= nTrials) return;
    if (timeoutMs !== undefined && Date.now() - started >= timeoutMs) return;
    if (signal?.aborted || hooks.stopRequested() || (await hooks.exhausted())) return;
    if (heartbeat !== undefined) {
      await study.storage.failStaleTrials(
        study.studyId,
        heartbeat.graceSeconds ?? 2 * heartbeat.intervalSeconds,
      );
    }
    await runTrial(study, objective, options, hooks);
  }
}

async function runTrial(
  study: Study,
  objective: ObjectiveFn,
  options: OptimizeOptions,
  hooks: LoopHooks,
): Promise<void> {
  const trial = await study.ask();
  const beat =
    options.heartbeat === undefined
      ? undefined
      : startHeartbeat(study, trial.trialId, options.heartbeat.intervalSeconds);
  let outcome: { values: number | readonly number[] } | { pruned: true } | { error: unknown };
  try {
    outcome = { values: await objective(trial) };
  } catch (error) {
    outcome = error instanceof TrialPruned ? { pruned: true } : { error };
  } finally {
    await beat?.stop();
  }
  let frozen: FrozenTrial;
  if ("values" in outcome) {
    frozen = await study.tell(trial, outcome.values);
  } else if ("pruned" in outcome) {
    frozen = await study.tell(trial, "PRUNED");
  } else {
    frozen = await study.tell(trial, "FAIL");
    hooks.warn(`Trial ${trial.number} failed because of the following error: ${String(outcome.error)}`);
    if (!caught(options.catch, outcome.error)) throw outcome.error;
  }
  for (const callback of options.callbacks ?? []) await callback(study, frozen);
}

function startHeartbeat(study: Study, trialId: number, intervalSeconds: number): { stop(): Promise<void> } {
  let pending: Promise<void> = study.storage.recordHeartbeat(trialId);
  const timer = setInterval(() => {
    pending = pending.then(() => study.storage.recordHeartbeat(trialId)).catch(() => {});
  }, intervalSeconds * 1000);
  // A forgotten heartbeat must not keep the process alive.
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await pending.catch(() => {});
    },
  };
}
