/**
 * The embedded tracking store: one SQLite file for experiments, runs and the model registry, and a
 * folder of plain files for artifacts. Several processes may share it (WAL mode and a busy timeout, see
 * sqlite-schema.ts). better-sqlite3 is synchronous; the methods are async to fit TrackingStore, and a
 * failure surfaces as a rejected promise like any other store's.
 */
import { resolve } from "node:path";
import { TrackingError } from "../errors.js";
import { searchRunsInMemory } from "../search.js";
import type {
  CreateModelVersionInput,
  CreateRunInput,
  LogBatchInput,
  TrackingStore,
  UpdateRunInput,
} from "../store.js";
import type {
  ArtifactEntry,
  Experiment,
  Metric,
  ModelVersion,
  Page,
  RegisteredModel,
  Run,
  SearchRunsQuery,
  Tag,
} from "../types.js";
import { getArtifact, listArtifacts, putArtifact } from "./sqlite-artifacts.js";
import { SqliteExperiments } from "./sqlite-experiments.js";
import { currentOwner, type IsAlive, isProcessAlive, markDeadRunsFailed } from "./sqlite-owners.js";
import { SqliteRegistry } from "./sqlite-registry.js";
import { type RunOwner, SqliteRuns } from "./sqlite-runs.js";
import { type Db, openDatabase } from "./sqlite-schema.js";

export type { IsAlive } from "./sqlite-owners.js";
export { isProcessAlive } from "./sqlite-owners.js";

export interface SqliteTrackingStoreOptions {
  /** The database file; created, with its folder, when absent. */
  readonly path: string;
  /** The folder under which artifacts go, as `<artifactRoot>/<experimentId>/<runId>/artifacts`. */
  readonly artifactRoot: string;
  /** The URI the store was opened from, for messages. */
  readonly uri: string;
  /** Liveness check for the owners of RUNNING runs on open; default isProcessAlive (this host only). */
  readonly isAlive?: IsAlive;
  /** Clock for creation and update times; default Date.now. */
  readonly now?: () => number;
  /** The process recorded as each new run's owner; default this one. */
  readonly owner?: RunOwner;
}

export class SqliteTrackingStore implements TrackingStore {
  readonly uri: string;
  private db: Db | undefined;
  private readonly experiments: SqliteExperiments;
  private readonly runs: SqliteRuns;
  private readonly registry: SqliteRegistry;

  private constructor(
    db: Db,
    options: SqliteTrackingStoreOptions,
    private readonly now: () => number,
    private readonly owner: RunOwner,
  ) {
    this.db = db;
    this.uri = options.uri;
    this.experiments = new SqliteExperiments(db, resolve(options.artifactRoot), now);
    this.runs = new SqliteRuns(db, this.experiments);
    this.registry = new SqliteRegistry(db, now);
  }

  /**
   * Opens the store, creating the database and the "Default" experiment (id "0") on first use, and marks
   * RUNNING runs whose creating process has died as FAILED.
   */
  static async open(options: SqliteTrackingStoreOptions): Promise<SqliteTrackingStore> {
    const db = openDatabase(options.path);
    const store = new SqliteTrackingStore(
      db,
      options,
      options.now ?? Date.now,
      options.owner ?? currentOwner(),
    );
    try {
      db.transaction(() => store.experiments.ensureDefault()).immediate();
      await store.markDeadRunsFailed(options.isAlive ?? isProcessAlive);
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /**
   * Sets RUNNING runs whose owning process `isAlive` reports dead to FAILED, with endTime = now.
   * @returns the ids of the runs it failed.
   */
  async markDeadRunsFailed(isAlive: IsAlive): Promise<string[]> {
    return markDeadRunsFailed(this.requireOpen(), isAlive, this.now());
  }

  async createExperiment(name: string, tags?: readonly Tag[]): Promise<string> {
    this.requireOpen();
    return this.experiments.create(name, tags);
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    this.requireOpen();
    return this.experiments.get(experimentId);
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    this.requireOpen();
    return this.experiments.getByName(name);
  }

  async searchExperiments(options?: { maxResults?: number; pageToken?: string }): Promise<Page<Experiment>> {
    this.requireOpen();
    return this.experiments.search(options);
  }

  async createRun(input: CreateRunInput): Promise<Run> {
    this.requireOpen();
    return this.runs.create(input, this.owner);
  }

  async getRun(runId: string): Promise<Run> {
    this.requireOpen();
    return this.runs.get(runId);
  }

  async updateRun(runId: string, input: UpdateRunInput): Promise<void> {
    this.requireOpen();
    this.runs.update(runId, input);
  }

  async deleteRun(runId: string): Promise<void> {
    this.requireOpen();
    this.runs.delete(runId, this.now());
  }

  async logBatch(runId: string, batch: LogBatchInput): Promise<void> {
    this.requireOpen();
    this.runs.logBatch(runId, batch);
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    this.requireOpen();
    return this.runs.metricHistory(runId, key);
  }

  async searchRuns(query: SearchRunsQuery): Promise<Page<Run>> {
    this.requireOpen();
    return searchRunsInMemory(
      this.runs.loadForSearch(query.experimentIds, query.includeDeleted === true),
      query,
    );
  }

  async putArtifact(runId: string, path: string, bytes: Uint8Array): Promise<void> {
    this.requireOpen();
    await putArtifact(this.runs.artifactUri(runId), path, bytes);
  }

  async listArtifacts(runId: string, path?: string): Promise<ArtifactEntry[]> {
    this.requireOpen();
    return listArtifacts(this.runs.artifactUri(runId), path);
  }

  async getArtifact(runId: string, path: string): Promise<Uint8Array> {
    this.requireOpen();
    return getArtifact(this.runs.artifactUri(runId), runId, path);
  }

  async createRegisteredModel(
    name: string,
    description?: string,
    tags?: readonly Tag[],
  ): Promise<RegisteredModel> {
    this.requireOpen();
    return this.registry.createModel(name, description, tags);
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    this.requireOpen();
    return this.registry.getModel(name);
  }

  async searchRegisteredModels(options?: {
    maxResults?: number;
    pageToken?: string;
  }): Promise<Page<RegisteredModel>> {
    this.requireOpen();
    return this.registry.searchModels(options);
  }

  async updateRegisteredModel(name: string, description: string): Promise<void> {
    this.requireOpen();
    this.registry.updateModel(name, description);
  }

  async setRegisteredModelTag(name: string, tag: Tag): Promise<void> {
    this.requireOpen();
    this.registry.setModelTag(name, tag);
  }

  async createModelVersion(input: CreateModelVersionInput): Promise<ModelVersion> {
    this.requireOpen();
    return this.registry.createVersion(input);
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    this.requireOpen();
    return this.registry.getVersion(name, version);
  }

  async searchModelVersions(name: string): Promise<ModelVersion[]> {
    this.requireOpen();
    return this.registry.searchVersions(name);
  }

  async updateModelVersion(name: string, version: string, description: string): Promise<void> {
    this.requireOpen();
    this.registry.updateVersion(name, version, description);
  }

  async setModelVersionTag(name: string, version: string, tag: Tag): Promise<void> {
    this.requireOpen();
    this.registry.setVersionTag(name, version, tag);
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    this.requireOpen();
    this.registry.setAlias(name, alias, version);
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    this.requireOpen();
    this.registry.deleteAlias(name, alias);
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    this.requireOpen();
    return this.registry.getVersionByAlias(name, alias);
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    db?.close();
  }

  /** The open database; a closed store says so instead of failing inside better-sqlite3. */
  private requireOpen(): Db {
    if (this.db === undefined) {
      throw new TrackingError("INVALID_STATE", `the tracking store ${this.uri} is closed`, {
        hint: "open it again with SqliteTrackingStore.open",
      });
    }
    return this.db;
  }
}
