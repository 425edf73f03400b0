/**
 * The TrackingClient: what cryptoml code calls. It validates names and values by MLflow's rules,
 * builds entities (system tags, timestamps, chunks within MLflow's log-batch limits) and leaves
 * persistence to a TrackingStore chosen by URI (src/tracking/open.ts).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { hostname, userInfo } from "node:os";

import type { CreateModelVersionInput, LogBatchInput, TrackingStore } from "./store.js";
import {
  type ArtifactEntry,
  type Experiment,
  LOG_BATCH_LIMITS,
  type Metric,
  type ModelVersion,
  type Page,
  type RegisteredModel,
  type Run,
  type RunStatus,
  type SearchRunsQuery,
} from "./types.js";
import {
  validateExperimentName,
  validateKey,
  validateMetric,
  validateModelName,
  validateParam,
  validateRunId,
  validateTag,
} from "./validation.js";

/** MLflow's system tags, which its UI shows for every run. */
export const SYSTEM_TAGS = {
  runName: "mlflow.runName",
  user: "mlflow.user",
  sourceName: "mlflow.source.name",
  sourceType: "mlflow.source.type",
  gitCommit: "mlflow.source.git.commit",
  parentRunId: "mlflow.parentRunId",
  host: "cryptoml.host",
  pid: "cryptoml.pid",
  command: "cryptoml.command",
  configHash: "cryptoml.config_hash",
} as const;

/** The current git commit of `dir`, read from .git without spawning git; undefined outside a checkout. */
export async function gitCommit(dir = process.cwd()): Promise<string | undefined> {
  try {
    const head = (await readFile(`${dir}/.git/HEAD`, "utf8")).trim();
    if (!head.startsWith("ref: ")) return /^[0-9a-f]{40}$/.test(head) ? head : undefined;
    const ref = head.slice(5);
    const loose = await readFile(`${dir}/.git/${ref}`, "utf8").catch(() => undefined);
    if (loose !== undefined) return loose.trim();
    const packed = await readFile(`${dir}/.git/packed-refs`, "utf8");
    return packed
      .split("\n")
      .find((line) => line.endsWith(` ${ref}`))
      ?.split(" ")[0];
  } catch {
    return undefined;
  }
}

/** A stable hash of a configuration object (keys sorted), for the config-hash tag. */
export function configHash(config: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value !== null && typeof value === "object"
        ? Object.fromEntries(
            Object.keys(value as object)
              .sort()
              .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
          )
        : value;
  return createHash("sha256")
    .update(JSON.stringify(canonical(config)))
    .digest("hex")
    .slice(0, 16);
}

/** Splits a batch into calls within MLflow's limits (1000 metrics, 100 params, 100 tags, 1000 in all). */
export function chunkBatch(batch: LogBatchInput): LogBatchInput[] {
  const chunks: LogBatchInput[] = [];
  let metrics = [...batch.metrics];
  let params = [...batch.params];
  let tags = [...batch.tags];
  while (metrics.length + params.length + tags.length > 0 || chunks.length === 0) {
    const p = params.slice(0, LOG_BATCH_LIMITS.params);
    const t = tags.slice(0, LOG_BATCH_LIMITS.tags);
    const m = metrics.slice(
      0,
      Math.min(LOG_BATCH_LIMITS.metrics, LOG_BATCH_LIMITS.total - p.length - t.length),
    );
    chunks.push({ metrics: m, params: p, tags: t });
    metrics = metrics.slice(m.length);
    params = params.slice(p.length);
    tags = tags.slice(t.length);
    if (m.length + p.length + t.length === 0) break;
  }
  return chunks;
}

export interface StartRunOptions {
  readonly runName?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly parentRunId?: string;
  /** The resolved configuration, hashed into `cryptoml.config_hash`. */
  readonly config?: unknown;
  readonly command?: readonly string[];
}

export class TrackingClient {
  constructor(readonly store: TrackingStore) {}

  get uri(): string {
    return this.store.uri;
  }

  /** The experiment of that name, created when missing. */
  async experiment(name: string): Promise<Experiment> {
    validateExperimentName(name);
    const found = await this.store.getExperimentByName(name);
    if (found !== undefined) return found;
    return this.store.getExperiment(await this.store.createExperiment(name));
  }

  /** A new RUNNING run with MLflow's system tags (user, source, git commit) and cryptoml's (host, command, config hash). */
  async startRun(experimentId: string, options: StartRunOptions = {}): Promise<Run> {
    const command = options.command ?? ["cryptoml", ...process.argv.slice(2)];
    const commit = await gitCommit();
    const tags: Record<string, string> = {
      [SYSTEM_TAGS.user]: safeUser(),
      [SYSTEM_TAGS.sourceName]: "cryptoml",
      [SYSTEM_TAGS.sourceType]: "LOCAL",
      [SYSTEM_TAGS.host]: hostname(),
      [SYSTEM_TAGS.pid]: String(process.pid),
      [SYSTEM_TAGS.command]: command.join(" ").slice(0, 8000),
      ...(commit === undefined ? {} : { [SYSTEM_TAGS.gitCommit]: commit }),
      ...(options.config === undefined ? {} : { [SYSTEM_TAGS.configHash]: configHash(options.config) }),
      ...(options.parentRunId === undefined ? {} : { [SYSTEM_TAGS.parentRunId]: options.parentRunId }),
      ...options.tags,
    };
    const tagList = Object.entries(tags).map(([key, value]) => ({ key, value }));
    tagList.forEach(validateTag);
    return this.store.createRun({
      experimentId,
      ...(options.runName === undefined ? {} : { runName: options.runName }),
      startTime: Date.now(),
      tags: tagList,
      userId: safeUser(),
    });
  }

  /** Validates and logs, in as many calls as MLflow's limits require. */
  async logBatch(runId: string, batch: Partial<LogBatchInput>): Promise<void> {
    validateRunId(runId);
    const full: LogBatchInput = {
      metrics: batch.metrics ?? [],
      params: batch.params ?? [],
      tags: batch.tags ?? [],
    };
    full.metrics.forEach(validateMetric);
    full.params.forEach(validateParam);
    full.tags.forEach(validateTag);
    for (const chunk of chunkBatch(full)) await this.store.logBatch(runId, chunk);
  }

  async logParams(runId: string, params: Readonly<Record<string, string>>): Promise<void> {
    await this.logBatch(runId, { params: Object.entries(params).map(([key, value]) => ({ key, value })) });
  }

  async logMetric(
    runId: string,
    key: string,
    value: number,
    step = 0,
    timestamp = Date.now(),
  ): Promise<void> {
    await this.logBatch(runId, { metrics: [{ key, value, step, timestamp }] });
  }

  async setTags(runId: string, tags: Readonly<Record<string, string>>): Promise<void> {
    await this.logBatch(runId, { tags: Object.entries(tags).map(([key, value]) => ({ key, value })) });
  }

  async endRun(runId: string, status: RunStatus = "FINISHED", endTime = Date.now()): Promise<void> {
    validateRunId(runId);
    await this.store.updateRun(runId, { status, endTime });
  }

  async getRun(runId: string): Promise<Run> {
    validateRunId(runId);
    return this.store.getRun(runId);
  }

  async metricHistory(runId: string, key: string): Promise<Metric[]> {
    validateRunId(runId);
    validateKey("metric", key);
    return this.store.getMetricHistory(runId, key);
  }

  async searchRuns(query: SearchRunsQuery): Promise<Page<Run>> {
    return this.store.searchRuns(query);
  }

  /** Uploads a local file to `artifactPath` (a directory inside the run's artifacts, "" = root). */
  async logArtifact(runId: string, localPath: string, artifactPath = ""): Promise<string> {
    validateRunId(runId);
    const name = localPath.split(/[\\/]/).at(-1) as string;
    const path = artifactPath === "" ? name : `${artifactPath.replace(/\/+$/, "")}/${name}`;
    await this.store.putArtifact(runId, path, await readFile(localPath));
    return path;
  }

  async logArtifactBytes(runId: string, path: string, bytes: Uint8Array | string): Promise<void> {
    validateRunId(runId);
    await this.store.putArtifact(
      runId,
      path,
      typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes,
    );
  }

  async listArtifacts(runId: string, path = ""): Promise<ArtifactEntry[]> {
    validateRunId(runId);
    return this.store.listArtifacts(runId, path);
  }

  async downloadArtifact(runId: string, path: string): Promise<Uint8Array> {
    validateRunId(runId);
    return this.store.getArtifact(runId, path);
  }

  // Model registry

  /** The registered model of that name, created when missing. */
  async registeredModel(name: string, description?: string): Promise<RegisteredModel> {
    validateModelName(name);
    try {
      return await this.store.getRegisteredModel(name);
    } catch (error) {
      if ((error as { mlflowCode?: string }).mlflowCode !== "RESOURCE_DOES_NOT_EXIST") throw error;
      return this.store.createRegisteredModel(name, description);
    }
  }

  async createModelVersion(input: CreateModelVersionInput): Promise<ModelVersion> {
    validateModelName(input.name);
    validateRunId(input.runId);
    (input.tags ?? []).forEach(validateTag);
    return this.store.createModelVersion(input);
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    validateModelName(name);
    validateKey("tag", alias);
    await this.store.setAlias(name, alias, version);
  }

  /** The version an alias points to, or undefined when the alias is not set. */
  async versionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    try {
      return await this.store.getModelVersionByAlias(name, alias);
    } catch (error) {
      if ((error as { mlflowCode?: string }).mlflowCode === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw error;
    }
  }

  /**
   * Marks FAILED the RUNNING runs that a process on this host started and that process is gone (it
   * was killed before it could end them). The embedded store does this itself when it opens; for an
   * MLflow server the client does it from the runs' `cryptoml.host` and `cryptoml.pid` tags.
   */
  async markDeadRunsFailed(isAlive: (pid: number) => boolean = processAlive): Promise<string[]> {
    const experiments = await this.store.searchExperiments({ maxResults: 1000 });
    if (experiments.items.length === 0) return [];
    const page = await this.store.searchRuns({
      experimentIds: experiments.items.map((e) => e.experimentId),
      filter: `attributes.status = 'RUNNING' and tags.\`${SYSTEM_TAGS.host}\` = '${hostname().replace(/'/g, "\\'")}'`,
      maxResults: 1000,
    });
    const dead = page.items.filter((run) => {
      const pid = Number(run.data.tags.find((t) => t.key === SYSTEM_TAGS.pid)?.value);
      return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid);
    });
    for (const run of dead)
      await this.store.updateRun(run.info.runId, { status: "FAILED", endTime: Date.now() });
    return dead.map((run) => run.info.runId);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

/** Whether a process of this host is alive (signal 0 probes without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
