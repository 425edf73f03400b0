/**
 * Every trial of `cryptoml tune` as a tracked run: one parent run per study (its id kept in the study's
 * user attributes, so every worker process files its trials under it), one child run per finished
 * trial with its parameters, its value, and its intermediate values as a metric history.
 */

import type { TrackingClient } from "../tracking/client.js";
import type { RunStatus } from "../tracking/types.js";
import type { Study } from "./study.js";
import { BACKTEST_ATTR, summaryMetrics } from "./trading-objective.js";
import type { FrozenTrial } from "./types.js";

const PARENT_ATTR = "cryptoml:tracking_run";

const STATUS: Record<FrozenTrial["state"], RunStatus> = {
  COMPLETE: "FINISHED",
  PRUNED: "KILLED",
  FAIL: "FAILED",
  RUNNING: "RUNNING",
  WAITING: "SCHEDULED",
};

/** The study's parent run, created by the first process that asks. */
export async function studyRun(
  client: TrackingClient,
  study: Study,
  experimentName: string,
): Promise<string> {
  const stored = await study.storage.getStudy(study.studyId);
  const existing = stored.userAttrs[PARENT_ATTR];
  if (typeof existing === "string") return existing;
  const experiment = await client.experiment(experimentName);
  const run = await client.startRun(experiment.experimentId, {
    runName: `tune ${study.studyName}`,
    tags: { "cryptoml.study": study.studyName },
  });
  await study.setUserAttr(PARENT_ATTR, run.info.runId);
  return run.info.runId;
}

/** A callback for Study.optimize that records each finished trial as a child run. */
export function trackTrials(
  client: TrackingClient,
  experimentId: string,
  parentRunId: string,
  metric: string,
) {
  return async (study: Study, trial: FrozenTrial): Promise<void> => {
    const run = await client.startRun(experimentId, {
      runName: `trial ${trial.number}`,
      parentRunId,
      tags: {
        "cryptoml.study": study.studyName,
        "cryptoml.trial": String(trial.number),
        "cryptoml.trial_state": trial.state,
      },
    });
    const runId = run.info.runId;
    const params = Object.fromEntries(Object.entries(trial.params).map(([k, v]) => [k, String(v)]));
    const now = Date.now();
    const metrics = [...trial.intermediateValues].map(([step, value]) => ({
      key: `intermediate_${metric}`,
      value,
      step,
      timestamp: now,
    }));
    const value = trial.values?.[0];
    if (trial.state === "COMPLETE" && value !== undefined && Number.isFinite(value)) {
      metrics.push({ key: metric, value, step: 0, timestamp: now });
    }
    // A trading objective leaves the trial's backtest means (Sharpe, return, drawdown, hit rate) on it.
    for (const m of summaryMetrics(trial.userAttrs[BACKTEST_ATTR]))
      metrics.push({ ...m, step: 0, timestamp: now });
    await client.logBatch(runId, {
      params: Object.entries(params).map(([key, v]) => ({ key, value: v })),
      metrics: metrics.filter((m) => Number.isFinite(m.value)),
    });
    await client.endRun(runId, STATUS[trial.state]);
  };
}
