/**
 * Where tracking data persists, behind one interface with two implementations chosen by URI scheme:
 * the embedded store (SQLite + an artifact folder, `file:` / `sqlite:` URIs) and an MLflow server
 * (`http(s)://`). Stores only persist and query: names, values and limits are validated by the
 * TrackingClient before a store sees them. Every implementation passes the contract suite in
 * `test/integration/tracking-contract.test.ts`, and throws TrackingError with MLflow's codes
 * (RESOURCE_DOES_NOT_EXIST for unknown ids, RESOURCE_ALREADY_EXISTS for duplicate names,
 * INVALID_PARAMETER_VALUE for a changed param value).
 */
import type {
  ArtifactEntry,
  Experiment,
  Metric,
  ModelVersion,
  Page,
  Param,
  RegisteredModel,
  Run,
  RunStatus,
  SearchRunsQuery,
  Tag,
} from "./types.js";

export interface CreateRunInput {
  readonly experimentId: string;
  readonly runName?: string;
  readonly startTime: number;
  readonly tags: readonly Tag[];
  readonly userId?: string;
}

export interface UpdateRunInput {
  readonly status?: RunStatus;
  readonly endTime?: number;
  readonly runName?: string;
}

export interface LogBatchInput {
  readonly metrics: readonly Metric[];
  readonly params: readonly Param[];
  readonly tags: readonly Tag[];
}

export interface CreateModelVersionInput {
  readonly name: string;
  readonly source: string;
  readonly runId: string;
  readonly description?: string;
  readonly tags?: readonly Tag[];
}

export interface TrackingStore {
  /** The store's URI, as configured (for messages). */
  readonly uri: string;

  // Experiments
  createExperiment(name: string, tags?: readonly Tag[]): Promise<string>;
  getExperiment(experimentId: string): Promise<Experiment>;
  /** undefined when there is none of that name. */
  getExperimentByName(name: string): Promise<Experiment | undefined>;
  searchExperiments(options?: { maxResults?: number; pageToken?: string }): Promise<Page<Experiment>>;

  // Runs
  createRun(input: CreateRunInput): Promise<Run>;
  getRun(runId: string): Promise<Run>;
  updateRun(runId: string, input: UpdateRunInput): Promise<void>;
  deleteRun(runId: string): Promise<void>;
  /** At most LOG_BATCH_LIMITS per call; params already set with the same value are accepted. */
  logBatch(runId: string, batch: LogBatchInput): Promise<void>;
  /** Every point of one metric, in step then timestamp order. */
  getMetricHistory(runId: string, key: string): Promise<Metric[]>;
  searchRuns(query: SearchRunsQuery): Promise<Page<Run>>;

  // Artifacts (remote stores go through the MLflow server's artifact proxy)
  /** Stores `bytes` at `path` (relative, `/`-separated) under the run's artifact root. */
  putArtifact(runId: string, path: string, bytes: Uint8Array): Promise<void>;
  /** The entries directly under `path` ("" = the root). */
  listArtifacts(runId: string, path?: string): Promise<ArtifactEntry[]>;
  getArtifact(runId: string, path: string): Promise<Uint8Array>;

  // Model registry
  createRegisteredModel(name: string, description?: string, tags?: readonly Tag[]): Promise<RegisteredModel>;
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  searchRegisteredModels(options?: {
    maxResults?: number;
    pageToken?: string;
  }): Promise<Page<RegisteredModel>>;
  updateRegisteredModel(name: string, description: string): Promise<void>;
  setRegisteredModelTag(name: string, tag: Tag): Promise<void>;
  createModelVersion(input: CreateModelVersionInput): Promise<ModelVersion>;
  getModelVersion(name: string, version: string): Promise<ModelVersion>;
  searchModelVersions(name: string): Promise<ModelVersion[]>;
  updateModelVersion(name: string, version: string, description: string): Promise<void>;
  setModelVersionTag(name: string, version: string, tag: Tag): Promise<void>;
  setAlias(name: string, alias: string, version: string): Promise<void>;
  deleteAlias(name: string, alias: string): Promise<void>;
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;

  /** Releases connections and file handles. Idempotent. */
  close(): Promise<void>;
}
