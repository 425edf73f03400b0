/**
 * The jobs of a time-bounded run and how they share its budget.
 *
 * Budget policy (docs/trainer.md): jobs run one after another, in order; each job may use
 * `remaining budget / jobs not yet finished`, measured when it starts. A job that ends early (early
 * stopping, all epochs done) leaves its unused time to the jobs after it, and the last job gets all
 * that remains, so the run ends at the deadline, not before, unless every model converged.
 */
import type { ModelName } from "../../models/definition.js";

/** One model to train in a run. */
export interface JobPlan {
  readonly key: string;
  /** The symbols whose data it trains on (several for the pooled model). */
  readonly symbols: readonly string[];
  /** The architecture trained by this job; for `ensemble` the combination of earlier member jobs. */
  readonly model: ModelName;
  /** For an ensemble: the keys of its member jobs, or saved model files. */
  readonly members?: readonly { readonly job?: string; readonly path?: string }[];
}

export const POOLED_JOB = "POOLED";

/** Whether an ensemble member names a saved model file rather than an architecture. */
export function isModelFile(member: string): boolean {
  return member.endsWith(".safetensors");
}

/**
 * The jobs for `symbols` and `model`: one per symbol (an ensemble adds its member architectures'
 * jobs before it), then the pooled model across all symbols when asked.
 */
export function planJobs(
  symbols: readonly string[],
  model: ModelName,
  members: readonly string[],
  pooled: boolean,
): JobPlan[] {
  const jobsFor = (key: string, data: readonly string[]): JobPlan[] => {
    if (model !== "ensemble") return [{ key, symbols: data, model }];
    const memberJobs: JobPlan[] = members
      .filter((m) => !isModelFile(m))
      .map((m) => ({ key: `${key}/${m}`, symbols: data, model: m as ModelName }));
    return [
      ...memberJobs,
      {
        key,
        symbols: data,
        model,
        members: members.map((m) => (isModelFile(m) ? { path: m } : { job: `${key}/${m}` })),
      },
    ];
  };
  const jobs = symbols.flatMap((symbol) => jobsFor(symbol, [symbol]));
  if (pooled && symbols.length > 1) jobs.push(...jobsFor(POOLED_JOB, symbols));
  return jobs;
}

/** The time the next job may use: an equal share of what remains among the jobs left (>= 0). */
export function shareOfBudget(remainingMs: number, jobsLeft: number): number {
  if (jobsLeft <= 0 || remainingMs <= 0) return 0;
  return remainingMs / jobsLeft;
}
