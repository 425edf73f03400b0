/**
 * Concrete recommendations for one job, each drawn from the job's own numbers and quoting the
 * configuration keys (and the values) to change. Thresholds are shares of the epochs' wall time.
 */
import { ceilSignificant, formatPct, formatRate, formatSeconds, niceCeil } from "./numbers.js";
import { secondsOf, shareOf } from "./time-split.js";
import type {
  JobOutcomeInfo,
  Recommendation,
  RunSettings,
  Severity,
  ThroughputAnalysis,
  TimeSplit,
} from "./types.js";

/** The thresholds (percent of epoch wall time, or as named) above which a finding is reported. */
export const THRESHOLDS = {
  dataPct: 15,
  checkpointPct: 5,
  loggingPct: 5,
  validationPct: 25,
  /** Compute share from which a single-worker job counts as compute-bound. */
  computeBoundPct: 50,
  /** Throughput loss (last third against first third) that points at the machine. */
  throughputDropPct: 20,
  /** Median epoch wall time (s) below which epochs count as very short. */
  shortEpochS: 2,
  /** The checkpoint share a suggested checkpoint interval aims for. */
  checkpointTargetPct: 2,
} as const;

/** The most data-parallel workers suggested, whatever the core count (beyond it, batches get too small to split). */
const MAX_SUGGESTED_WORKERS = 8;

/** Everything the rules look at for one job. */
export interface JobFacts {
  readonly outcome: JobOutcomeInfo;
  readonly settings: RunSettings;
  readonly split: TimeSplit;
  readonly throughput: ThroughputAnalysis;
  /** Median wall time of an epoch (s): `time_wall_s`, else the compute time; NaN without epochs. */
  readonly medianEpochS: number;
  /** CPU cores of the machine the analysis runs on (a guess at the training machine's). */
  readonly cores: number;
  /** Jobs in the run, which share its time budget. */
  readonly jobCount: number;
  readonly runDir: string;
}

type Rule = (facts: JobFacts) => Recommendation | undefined;

const pctOf = (facts: JobFacts, part: Parameters<typeof shareOf>[1]) => shareOf(facts.split, part);
const spent = (facts: JobFacts, part: Parameters<typeof shareOf>[1]) =>
  `${formatPct(pctOf(facts, part))} of the epochs' wall time (${formatSeconds(secondsOf(facts.split, part))} over ${facts.split.available ? facts.split.epochs : 0} epochs)`;

const dataPipeline: Rule = (facts) => {
  const pct = pctOf(facts, "data");
  if (pct <= THRESHOLDS.dataPct) return undefined;
  const { batchSize, window } = facts.settings;
  return {
    id: "data-pipeline",
    severity: pct > 2 * THRESHOLDS.dataPct ? "high" : "medium",
    message: `building batches takes ${spent(facts, "data")}: the data pipeline, not the model, limits training. Fewer, larger batches spread its per-batch cost: raise training.batch_size from ${batchSize} to ${batchSize * 2} (retune training.learning_rate with it). Each sample copies dataset.window = ${window} candles of every feature, so a shorter window or fewer features (features:) make batches cheaper too.`,
    changes: [{ key: "training.batch_size", from: batchSize, to: batchSize * 2 }],
  };
};

const checkpointing: Rule = (facts) => {
  const pct = pctOf(facts, "checkpoint");
  if (pct <= THRESHOLDS.checkpointPct) return undefined;
  const { checkpointEveryMinutes: minutes, checkpointEverySteps: steps } = facts.settings;
  const factor = pct / THRESHOLDS.checkpointTargetPct;
  const head = `writing checkpoints takes ${spent(facts, "checkpoint")}`;
  if (steps > 0) {
    const to = ceilSignificant(steps * factor);
    return {
      id: "checkpointing",
      severity: "medium",
      message: `${head}; training.checkpoint_every_steps = ${steps} writes one every ${steps} steps: raise it from ${steps} to ${to} (or 0, epoch ends and training.checkpoint_every_minutes only).`,
      changes: [{ key: "training.checkpoint_every_steps", from: steps, to }],
    };
  }
  if (minutes > 0 && facts.medianEpochS > minutes * 60) {
    const to = niceCeil(minutes * factor);
    return {
      id: "checkpointing",
      severity: "medium",
      message: `${head}; with epochs of ${formatSeconds(facts.medianEpochS)} the time trigger writes several checkpoints per epoch: raise training.checkpoint_every_minutes from ${minutes} to ${to} (a crash then loses at most ${to} minutes).`,
      changes: [{ key: "training.checkpoint_every_minutes", from: minutes, to }],
    };
  }
  return {
    id: "checkpointing",
    severity: "medium",
    message: `${head}, about ${formatSeconds(secondsOf(facts.split, "checkpoint") / Math.max(1, facts.split.available ? facts.split.epochs : 1))} per epoch. Every epoch end rewrites last.safetensors (and the best checkpoint); training.checkpoint_every_minutes = ${minutes} does not fire inside epochs of ${formatSeconds(facts.medianEpochS)}, so raising it would not help. Longer epochs (more training data) or a smaller model make each checkpoint cost less of the run; keep checkpoints on a local disk (training.runs_dir).`,
    changes: [],
  };
};

const logging: Rule = (facts) => {
  const pct = pctOf(facts, "logging");
  if (pct <= THRESHOLDS.loggingPct) return undefined;
  const head = `metric logging takes ${spent(facts, "logging")}`;
  if (facts.settings.trackingEnabled) {
    return {
      id: "logging",
      severity: "medium",
      message: `${head}: every step is written to metrics.jsonl and to the tracking store. For throughput runs turn tracking off (tracking.enabled from true to false, or cryptoml train --no-track), or record to a faster store (tracking.uri: sqlite:…).`,
      changes: [{ key: "tracking.enabled", from: true, to: false }],
    };
  }
  return {
    id: "logging",
    severity: "medium",
    message: `${head} with tracking already off (tracking.enabled = false): appending to metrics.jsonl is slow on this disk; put training.runs_dir on a faster local disk.`,
    changes: [],
  };
};

const validation: Rule = (facts) => {
  const pct = pctOf(facts, "validation");
  if (pct <= THRESHOLDS.validationPct) return undefined;
  const from = facts.settings.validationFraction;
  const to = Math.max(0.05, Math.round((from / 2) * 100) / 100);
  const change = to < from ? [{ key: "dataset.split.validation", from, to }] : [];
  return {
    id: "validation",
    severity: "medium",
    message: `validation takes ${spent(facts, "validation")}: the whole validation part (dataset.split.validation = ${from}) is evaluated after every epoch.${change.length > 0 ? ` A smaller part (dataset.split.validation from ${from} to ${to}) halves it,` : ""} longer epochs (more training data) make it a smaller share, and a larger training.batch_size (${facts.settings.batchSize} now) speeds it up (validation batches are max(batch_size, 256)).`,
    changes: change,
  };
};

const workers: Rule = (facts) => {
  const { split, settings, cores } = facts;
  const pct = pctOf(facts, "compute");
  if (!split.available || split.bottleneck !== "compute" || pct < THRESHOLDS.computeBoundPct)
    return undefined;
  if (settings.workers !== 1 || cores <= 1) return undefined;
  const to = Math.min(cores, MAX_SUGGESTED_WORKERS);
  return {
    id: "workers",
    severity: "medium",
    message: `the job is compute-bound (${formatPct(pct)} of the epochs' wall time in forward/backward/optimiser steps) on one worker thread, and this machine has ${cores} cores: train with --workers ${to} (training.workers from 1 to ${to}) to split each batch across threads.`,
    changes: [{ key: "training.workers", from: 1, to }],
  };
};

const throughputDrop: Rule = (facts) => {
  const trend = facts.throughput.trend;
  if (trend === null || trend.changePct >= -THRESHOLDS.throughputDropPct) return undefined;
  return {
    id: "throughput-drop",
    severity: "high",
    message: `throughput fell ${formatPct(-trend.changePct)} over the job, from ${formatRate(trend.firstThird)} to ${formatRate(trend.lastThird)} samples/s (first third against last third of the ${trend.basis === "steps" ? "step time buckets" : "epochs"}): the same work got slower, which points at the machine — memory pressure (swapping, a growing heap), thermal throttling, or other processes competing for the CPU (watch them with top, or the system metrics of cryptoml monitor).`,
    changes: [],
  };
};

const shortEpochs: Rule = (facts) => {
  if (!(facts.medianEpochS < THRESHOLDS.shortEpochS) || facts.outcome.epochs < 3) return undefined;
  const fixed = (["validation", "checkpoint", "logging", "callbacks"] as const).reduce(
    (t, part) => t + pctOf(facts, part),
    0,
  );
  const patience = facts.settings.earlyStoppingPatience;
  return {
    id: "short-epochs",
    severity: "info",
    message: `epochs are very short (median ${formatSeconds(facts.medianEpochS)}): each pays fixed costs — validation, an epoch-end checkpoint, logging${facts.split.available ? `, together ${formatPct(fixed)} here` : ""} — and training.early_stopping_patience = ${patience} epochs is only about ${formatSeconds(patience * facts.medianEpochS)} of training. Give each epoch more data (a longer history with cryptoml data download, or --pooled to train one model on all symbols).`,
    changes: [],
  };
};

const outcomeRule: Rule = (facts) => {
  const { outcome, settings } = facts;
  if (outcome.status === "stopped") {
    const to = Math.max(1, settings.earlyStoppingPatience * 2);
    return {
      id: "early-stop",
      severity: "info",
      message: `stopped early after ${outcome.epochs} of training.epochs = ${settings.epochs} epochs (${outcome.reason}): the validation loss stopped improving, so more time would not have helped this configuration. If the validation loss is noisy, raise training.early_stopping_patience from ${settings.earlyStoppingPatience} to ${to}.`,
      changes: [{ key: "training.early_stopping_patience", from: settings.earlyStoppingPatience, to }],
    };
  }
  if (outcome.status === "deadline") return deadlineRecommendation(facts);
  if (outcome.status === "diverged") {
    const to = Number((settings.learningRate / 3).toPrecision(2));
    return {
      id: "diverged",
      severity: "high",
      message: `training diverged (${outcome.reason}): lower training.learning_rate from ${settings.learningRate} to ${to}${settings.gradientClip === 0 ? ", and turn gradient clipping on (training.gradient_clip from 0 to 1)" : ` (training.gradient_clip = ${settings.gradientClip} already clips)`}.`,
      changes: [
        { key: "training.learning_rate", from: settings.learningRate, to },
        ...(settings.gradientClip === 0 ? [{ key: "training.gradient_clip", from: 0, to: 1 }] : []),
      ],
    };
  }
  if (outcome.status === "interrupted" || outcome.status === "running") {
    return {
      id: "interrupted",
      severity: "info",
      message: `the job did not finish (${outcome.reason}): continue it with cryptoml train --resume ${facts.runDir}`,
      changes: [],
    };
  }
  return undefined;
};

function deadlineRecommendation(facts: JobFacts): Recommendation {
  const { outcome, settings } = facts;
  const wallS = outcome.wallMs / 1000;
  if (outcome.epochs === 0) {
    return {
      id: "deadline",
      severity: "high",
      message: `the time budget ended the job after ${formatSeconds(wallS)} before its first epoch finished: give the run a much longer --duration, or train on less data per epoch.`,
      changes: [],
    };
  }
  const neededS = (wallS / outcome.epochs) * settings.epochs;
  const runMinutes = niceCeil((neededS * facts.jobCount) / 60);
  return {
    id: "deadline",
    severity: "medium",
    message: `the time budget ended the job after ${outcome.epochs} of training.epochs = ${settings.epochs} epochs (${formatSeconds(wallS)}). At this pace all ${settings.epochs} epochs take about ${formatSeconds(neededS)}: train with --duration ${runMinutes}m for the ${facts.jobCount} job(s) of the run, or lower training.epochs from ${settings.epochs} to ${outcome.epochs} to match the budget.`,
    changes: [{ key: "training.epochs", from: settings.epochs, to: outcome.epochs }],
  };
}

const RULES: readonly Rule[] = [
  outcomeRule,
  throughputDrop,
  dataPipeline,
  checkpointing,
  logging,
  validation,
  workers,
  shortEpochs,
];

const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { high: 0, medium: 1, info: 2 };

/** Every recommendation for the job, the most severe first. */
export function recommend(facts: JobFacts): Recommendation[] {
  return RULES.flatMap((rule) => rule(facts) ?? []).sort(
    (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity],
  );
}
