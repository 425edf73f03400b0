/**
 * How `cryptoml train` is recorded: one parent run per invocation (the run directory's config and
 * summary), one child run per job with the resolved config as params, every step and epoch metric,
 * the best and last checkpoints and the model file as artifacts; each job's best model is registered
 * as a new version of `cryptoml-<job>-<model>` and takes the `champion` alias when it beats the
 * current champion on the configured metric.
 */

import type { MetricsLogger } from "../training/trainer.js";
import { AsyncRunLogger } from "./async-logger.js";
import type { TrackingClient } from "./client.js";
import { isTransient } from "./errors.js";
import type { ModelVersion, RunStatus } from "./types.js";

/** Flattens a config object into MLflow params: `training.batch_size` → "64" (lists and objects as JSON). */
export function flattenParams(value: unknown, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (v: unknown, path: string) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, inner] of Object.entries(v as Record<string, unknown>))
        walk(inner, path === "" ? k : `${path}.${k}`);
      return;
    }
    const text = typeof v === "string" ? v : JSON.stringify(v);
    // MLflow params hold at most 6000 characters; longer values (feature lists) are in the config artifact.
    out[path] = text.length > 6000 ? `${text.slice(0, 5990)}…` : text;
  };
  walk(value, prefix);
  return out;
}

/** Retries an operation while the store is unreachable (a restart), up to `waitMs`. */
export async function retryTransient<T>(
  what: string,
  op: () => Promise<T>,
  waitMs = 120_000,
  log?: (line: string) => void,
): Promise<T> {
  const until = Date.now() + waitMs;
  let delay = 500;
  let warned = false;
  for (;;) {
    try {
      return await op();
    } catch (error) {
      if (!isTransient(error) || Date.now() + delay > until) throw error;
      if (!warned) log?.(`tracking: ${what} waits for the store to come back (${(error as Error).message})`);
      warned = true;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

export interface TrackerOptions {
  readonly experimentName: string;
  readonly championMetric: string;
  readonly championMode: "min" | "max";
  readonly spoolDir: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
}

/** One job's child run: a MetricsLogger for the Trainer, then artifacts and registration at the end. */
export class JobTracking {
  readonly #logger: AsyncRunLogger;

  constructor(
    readonly client: TrackingClient,
    readonly runId: string,
    private readonly options: TrackerOptions,
  ) {
    this.#logger = new AsyncRunLogger(client, runId, { spoolDir: options.spoolDir, log: options.log });
  }

  /** The Trainer's metrics go to the run asynchronously: step metrics by step, epoch metrics too. */
  metricsLogger(): MetricsLogger {
    return {
      log: ({ step, metrics }) => {
        const timestamp = Date.now();
        for (const [key, value] of Object.entries(metrics)) {
          if (Number.isFinite(value)) this.#logger.logMetric(key, value, step, timestamp);
        }
      },
    };
  }

  logParams(params: Readonly<Record<string, string>>): void {
    this.#logger.logParams(params);
  }

  /** Sends what is buffered and leaves the run RUNNING (an interrupted job continues later). */
  async suspend(): Promise<void> {
    await this.#logger.close(30_000).catch((error: unknown) => {
      this.options.log(
        `tracking: the store refused records of run ${this.runId}: ${(error as Error).message}`,
      );
    });
  }

  /** Final metrics (`best_val_loss`, …), artifacts, the registered version and the champion alias. */
  async finish(result: {
    status: RunStatus;
    metrics: Readonly<Record<string, number>>;
    step: number;
    artifacts: readonly { localPath: string; artifactPath: string }[];
    register?: { name: string; modelArtifact: string; description: string };
  }): Promise<ModelVersion | undefined> {
    for (const [key, value] of Object.entries(result.metrics)) {
      if (Number.isFinite(value)) this.#logger.logMetric(key, value, result.step);
    }
    try {
      if (!(await this.#logger.close(120_000))) {
        this.options.log(
          `tracking: some records of run ${this.runId} are still buffered; they are sent the next time tracking opens`,
        );
      }
    } catch (error) {
      // The model is trained and saved; a record the store refused must not undo that.
      this.options.log(
        `tracking: the store refused records of run ${this.runId}: ${(error as Error).message}`,
      );
    }
    const log = this.options.log;
    for (const artifact of result.artifacts) {
      await retryTransient(
        "an artifact upload",
        () => this.client.logArtifact(this.runId, artifact.localPath, artifact.artifactPath),
        120_000,
        log,
      );
    }
    let version: ModelVersion | undefined;
    if (result.register !== undefined) version = await this.#register(result.register, result.metrics);
    await retryTransient("ending the run", () => this.client.endRun(this.runId, result.status), 120_000, log);
    return version;
  }

  async #register(
    register: { name: string; modelArtifact: string; description: string },
    metrics: Readonly<Record<string, number>>,
  ): Promise<ModelVersion> {
    const { championMetric, championMode, log } = this.options;
    const run = await retryTransient("registration", () => this.client.getRun(this.runId), 120_000, log);
    await retryTransient(
      "registration",
      () => this.client.registeredModel(register.name, "cryptoml forecasting model"),
      120_000,
      log,
    );
    const version = await retryTransient(
      "registration",
      () =>
        this.client.createModelVersion({
          name: register.name,
          source: `${run.info.artifactUri}/${register.modelArtifact}`,
          runId: this.runId,
          description: register.description,
          tags: [{ key: championMetric, value: String(metrics[championMetric] ?? "") }],
        }),
      120_000,
      log,
    );
    const score = metrics[championMetric];
    if (score === undefined || !Number.isFinite(score)) return version;
    const champion = await retryTransient(
      "registration",
      () => this.client.versionByAlias(register.name, "champion"),
      120_000,
      log,
    );
    let beats = champion === undefined;
    if (champion !== undefined) {
      const championRun = await retryTransient(
        "registration",
        () => this.client.getRun(champion.runId),
        120_000,
        log,
      ).catch(() => undefined);
      const current = championRun?.data.metrics.find((m) => m.key === championMetric)?.value;
      beats = current === undefined || (championMode === "min" ? score < current : score > current);
    }
    if (beats) {
      await retryTransient(
        "registration",
        () => this.client.setAlias(register.name, "champion", version.version),
        120_000,
        log,
      );
      log(
        `tracking: ${register.name} version ${version.version} is the new champion (${championMetric} ${score.toFixed(4)})`,
      );
    }
    return version;
  }
}

/** The parent run of one `cryptoml train` and the child runs of its jobs. */
export class TrainingTracker {
  private constructor(
    readonly client: TrackingClient,
    readonly experimentId: string,
    readonly parentRunId: string,
    private readonly options: TrackerOptions & { readonly config?: unknown },
  ) {}

  /** Starts (or, with `parentRunId`, continues) the parent run. */
  static async start(
    client: TrackingClient,
    options: TrackerOptions & { runName: string; config: unknown; parentRunId?: string },
  ): Promise<TrainingTracker> {
    const experiment = await client.experiment(options.experimentName);
    if (options.parentRunId !== undefined) {
      await client.store.updateRun(options.parentRunId, { status: "RUNNING" });
      return new TrainingTracker(client, experiment.experimentId, options.parentRunId, options);
    }
    const parent = await client.startRun(experiment.experimentId, {
      runName: options.runName,
      config: options.config,
      tags: options.tags,
    });
    return new TrainingTracker(client, experiment.experimentId, parent.info.runId, options);
  }

  /** The child run of a job (continued when `existingRunId` is given, e.g. after a crash). */
  async job(
    key: string,
    params: Readonly<Record<string, string>>,
    existingRunId?: string,
  ): Promise<JobTracking> {
    if (existingRunId !== undefined) {
      // A crashed process's run was marked FAILED when the store was opened again; it runs again now.
      await this.client.store.updateRun(existingRunId, { status: "RUNNING" });
      return new JobTracking(this.client, existingRunId, this.options);
    }
    const run = await this.client.startRun(this.experimentId, {
      runName: key,
      parentRunId: this.parentRunId,
      config: this.options.config,
      tags: { ...this.options.tags, "cryptoml.job": key },
    });
    const job = new JobTracking(this.client, run.info.runId, this.options);
    job.logParams(params);
    return job;
  }

  async finish(
    status: RunStatus,
    artifacts: readonly { localPath: string; artifactPath: string }[],
  ): Promise<void> {
    for (const artifact of artifacts) {
      await retryTransient(
        "an artifact upload",
        () => this.client.logArtifact(this.parentRunId, artifact.localPath, artifact.artifactPath),
        120_000,
        this.options.log,
      );
    }
    await retryTransient(
      "ending the run",
      () => this.client.endRun(this.parentRunId, status),
      120_000,
      this.options.log,
    );
  }
}
