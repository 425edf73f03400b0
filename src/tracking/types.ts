/**
 * The entities of experiment tracking, shaped as MLflow's tracking and model-registry APIs shape them
 * (REST API 2.0, camel-cased), so the embedded store and an MLflow server hold the same things and
 * cryptoml's runs look the same in MLflow's UI. Timestamps are epoch milliseconds.
 */

export type RunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";
export const RUN_STATUSES: readonly RunStatus[] = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"];
export type LifecycleStage = "active" | "deleted";

export interface Tag {
  readonly key: string;
  readonly value: string;
}

export interface Param {
  readonly key: string;
  readonly value: string;
}

export interface Metric {
  readonly key: string;
  readonly value: number;
  readonly timestamp: number;
  readonly step: number;
}

export interface Experiment {
  readonly experimentId: string;
  readonly name: string;
  readonly artifactLocation: string;
  readonly lifecycleStage: LifecycleStage;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
  readonly tags: readonly Tag[];
}

export interface RunInfo {
  readonly runId: string;
  readonly experimentId: string;
  readonly runName: string;
  readonly userId: string;
  readonly status: RunStatus;
  readonly startTime: number;
  /** Absent while the run is RUNNING. */
  readonly endTime?: number;
  readonly artifactUri: string;
  readonly lifecycleStage: LifecycleStage;
}

export interface RunData {
  /** The latest value of each metric (by step, then timestamp, as MLflow picks it). */
  readonly metrics: readonly Metric[];
  readonly params: readonly Param[];
  readonly tags: readonly Tag[];
}

export interface Run {
  readonly info: RunInfo;
  readonly data: RunData;
}

/** One file or directory under a run's artifact root. */
export interface ArtifactEntry {
  /** Relative to the run's artifact root, `/`-separated. */
  readonly path: string;
  readonly isDir: boolean;
  /** Bytes; absent for directories. */
  readonly fileSize?: number;
}

export interface ModelVersion {
  readonly name: string;
  /** "1", "2", … as MLflow numbers them. */
  readonly version: string;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
  readonly description: string;
  /** Where the model's files are, e.g. `runs:/<run id>/model` or an artifact URI. */
  readonly source: string;
  readonly runId: string;
  readonly status: "READY" | "PENDING_REGISTRATION" | "FAILED_REGISTRATION";
  readonly tags: readonly Tag[];
  readonly aliases: readonly string[];
}

export interface RegisteredModel {
  readonly name: string;
  readonly creationTimestamp: number;
  readonly lastUpdatedTimestamp: number;
  readonly description: string;
  readonly tags: readonly Tag[];
  readonly aliases: readonly { readonly alias: string; readonly version: string }[];
  /** The newest version, when there is one. */
  readonly latestVersion?: string;
}

/** A page of results and the token of the next page (absent on the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextPageToken?: string;
}

export interface SearchRunsQuery {
  readonly experimentIds: readonly string[];
  /**
   * MLflow's filter syntax: `metrics.val_loss < 0.5 and params.model = 'lstm' and tags.symbol != 'ADA'
   * and attributes.status = 'FINISHED'` (src/tracking/search/filter.ts).
   */
  readonly filter?: string;
  /** e.g. `["metrics.val_loss ASC", "attributes.start_time DESC"]`; default start_time DESC. */
  readonly orderBy?: readonly string[];
  /** 1..50000 (MLflow's limit); default 1000. */
  readonly maxResults?: number;
  readonly pageToken?: string;
  /** Deleted runs too (default: active only). */
  readonly includeDeleted?: boolean;
}

/** MLflow's log-batch limits per call. */
export const LOG_BATCH_LIMITS = { metrics: 1000, params: 100, tags: 100, total: 1000 } as const;
