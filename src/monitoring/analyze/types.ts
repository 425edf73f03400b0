/**
 * The shapes of `cryptoml analyze`: what is read from a run directory, and the analysis built from it.
 * The analysis is plain data so the table and `--json` print the same thing.
 */

/** One line of a run's metrics.jsonl, as the run directory's metrics logger writes it. */
export interface MetricsRecord {
  readonly job: string;
  readonly scope: "step" | "epoch";
  readonly step: number;
  readonly epoch: number;
  /** When the line was logged (epoch ms), or null when the line has no readable `time`. */
  readonly timeMs: number | null;
  /** The finite numeric metrics of the line (non-finite ones are written as text and left out). */
  readonly metrics: Readonly<Record<string, number>>;
}

/** The settings of a run that the recommendations quote (from its config.json). */
export interface RunSettings {
  readonly batchSize: number;
  readonly epochs: number;
  readonly workers: number;
  readonly learningRate: number;
  readonly gradientClip: number;
  readonly checkpointEveryMinutes: number;
  readonly checkpointEverySteps: number;
  readonly earlyStoppingPatience: number;
  readonly validationFraction: number;
  readonly trackingEnabled: boolean;
  readonly window: number;
}

/** How one job of the run ended, from summary.json (or the manifest when there is no summary yet). */
export interface JobOutcomeInfo {
  readonly job: string;
  readonly model: string;
  /** completed | stopped | deadline | interrupted | diverged | pending | failed | running. */
  readonly status: string;
  readonly reason: string;
  readonly epochs: number;
  readonly steps: number;
  /** Wall time of the job (ms), everything included. */
  readonly wallMs: number;
}

/** Everything the analysis needs from a run directory. */
export interface LoadedRun {
  readonly runId: string;
  readonly runDir: string;
  /** completed / interrupted from summary.json; "unfinished" when the run wrote no summary (running or crashed). */
  readonly status: "completed" | "interrupted" | "unfinished";
  readonly budgetMs: number;
  readonly spentMs: number;
  readonly settings: RunSettings;
  readonly jobs: readonly JobOutcomeInfo[];
  /** Every record of metrics.jsonl, in file order. */
  readonly records: readonly MetricsRecord[];
  /** Lines of metrics.jsonl that could not be read (a line torn by a crash). */
  readonly skippedLines: number;
}

/** Throughput of one epoch. */
export interface EpochThroughput {
  readonly epoch: number;
  /** Samples per second of compute (forward, backward, optimiser), as the Trainer logs it. */
  readonly samplesPerS: number;
  /** Samples per second of the epoch's wall time (everything included); null without `time_wall_s`. */
  readonly wallSamplesPerS: number | null;
}

/** Step-level throughput over one slice of the job's time. */
export interface ThroughputBucket {
  /** Seconds from the job's first step to the bucket's start and end. */
  readonly startS: number;
  readonly endS: number;
  readonly steps: number;
  /** Samples per second of compute over the bucket's steps; null for a bucket without steps. */
  readonly samplesPerS: number | null;
}

/** Throughput at the end of a run against its start. */
export interface ThroughputTrend {
  /** What the thirds are made of: the step buckets, or the epochs when there are too few buckets. */
  readonly basis: "steps" | "epochs";
  readonly firstThird: number;
  readonly lastThird: number;
  /** (last − first) / first, in percent; negative = slower at the end. */
  readonly changePct: number;
}

export interface ThroughputAnalysis {
  readonly epochs: readonly EpochThroughput[];
  readonly buckets: readonly ThroughputBucket[];
  /** One character per bucket, ▁ (slowest) to █ (fastest); a space for a bucket without steps. */
  readonly sparkline: string;
  /** Null when there are fewer than three epochs and too few step buckets to compare. */
  readonly trend: ThroughputTrend | null;
}

/** The parts of an epoch's wall time, as the Trainer measures them (`time_<part>_s`). */
export const TIME_PARTS = ["data", "compute", "logging", "checkpoint", "callbacks", "validation"] as const;
export type TimePart = (typeof TIME_PARTS)[number];

export interface TimeShare {
  /** A measured part, or `other`: wall time that none of the parts accounts for. */
  readonly part: TimePart | "other";
  readonly seconds: number;
  /** Share of the epochs' wall time, in percent. */
  readonly pct: number;
}

export type TimeSplit =
  | {
      readonly available: true;
      /** Epochs whose records carry the timing (older records of a resumed run may not). */
      readonly epochs: number;
      /** Wall time of those epochs (s). */
      readonly wallS: number;
      /** Largest first; `other` included. */
      readonly shares: readonly TimeShare[];
      /** The largest share. */
      readonly bottleneck: TimeShare["part"];
      /** Wall time of the job outside the timed epochs (s): setup, an unfinished last epoch, saving the model. */
      readonly outsideEpochsS: number;
    }
  | { readonly available: false; readonly reason: string };

export type Severity = "high" | "medium" | "info";

/** One configuration change a recommendation asks for, with the run's value and the suggested one. */
export interface ConfigChange {
  /** The configuration key path, e.g. `training.batch_size`. */
  readonly key: string;
  readonly from: number | string | boolean;
  readonly to: number | string | boolean;
}

export interface Recommendation {
  /** A stable identifier of the finding, e.g. `data-pipeline`, `checkpointing`, `throughput-drop`. */
  readonly id: string;
  readonly severity: Severity;
  readonly message: string;
  readonly changes: readonly ConfigChange[];
}

export interface JobAnalysis {
  readonly job: string;
  readonly model: string;
  readonly status: string;
  readonly reason: string;
  readonly epochs: number;
  readonly steps: number;
  readonly wallS: number;
  /** Samples trained (epoch rows, plus batch_size per step of an unfinished epoch). */
  readonly samples: number;
  readonly throughput: ThroughputAnalysis;
  readonly split: TimeSplit;
  readonly recommendations: readonly Recommendation[];
}

export interface RunAnalysis {
  readonly runId: string;
  readonly runDir: string;
  readonly status: LoadedRun["status"];
  readonly jobs: readonly JobAnalysis[];
  readonly run: {
    readonly jobs: number;
    readonly budgetS: number;
    readonly spentS: number;
    readonly samples: number;
    /** Samples trained per second of the run's wall time, everything included. */
    readonly samplesPerS: number;
    readonly skippedLines: number;
  };
}
