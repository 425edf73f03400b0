/**
 * The tracking store over an MLflow tracking server's REST API 2.0 (`/api/2.0/mlflow/...`). Artifacts go
 * through the server's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/...`, on by default since
 * MLflow 2; a server started with --no-serve-artifacts and a local artifact root cannot take them).
 * The store keeps no state but a cache of run artifact roots, which never change once a run exists.
 */
import { TrackingError } from "../errors.js";
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
import { encodePath, proxyRoot, relativeSegments } from "./mlflow-rest-artifacts.js";
import {
  artifactEntry,
  experiment,
  metric,
  modelVersion,
  registeredModel,
  run,
  toWireMetric,
  toWireTags,
  type WireExperiment,
  type WireFileInfo,
  type WireMetric,
  type WireModelVersion,
  type WireRegisteredModel,
  type WireRun,
  type WireRunInfo,
} from "./mlflow-rest-convert.js";
import {
  type FetchLike,
  type HttpOptions,
  type RequestSpec,
  sendBytes,
  sendJson,
} from "./mlflow-rest-http.js";

export interface MlflowRestStoreOptions {
  /** Per request, including reading the answer; default 30 s. */
  readonly timeoutMs?: number;
  /** Default the global fetch; tests inject failures through it. */
  readonly fetch?: FetchLike;
}

const API = "/api/2.0/mlflow";
const ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts";
/** Page sizes for the listings this store pages through to the end itself. */
const HISTORY_PAGE = 25_000;
const VERSIONS_PAGE = 10_000;

export class MlflowRestStore implements TrackingStore {
  readonly uri: string;
  private readonly http: HttpOptions;
  private readonly artifactRoots = new Map<string, string>();

  constructor(uri: string, options: MlflowRestStoreOptions = {}) {
    this.uri = uri.replace(/\/+$/, "");
    this.http = {
      baseUrl: this.uri,
      timeoutMs: options.timeoutMs ?? 30_000,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    };
  }

  private call<T>(spec: RequestSpec): Promise<T> {
    return sendJson<T>(this.http, spec);
  }

  private get<T>(path: string, query: RequestSpec["query"]): Promise<T> {
    return this.call<T>({ method: "GET", path: `${API}${path}`, query });
  }

  private post<T>(path: string, json: unknown): Promise<T> {
    return this.call<T>({ method: "POST", path: `${API}${path}`, json });
  }

  // Experiments

  async createExperiment(name: string, tags?: readonly Tag[]): Promise<string> {
    const answer = await this.post<{ experiment_id?: string }>("/experiments/create", {
      name,
      tags: toWireTags(tags),
    });
    return String(answer.experiment_id ?? "");
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const answer = await this.get<{ experiment?: WireExperiment }>("/experiments/get", {
      experiment_id: experimentId,
    });
    return experiment(answer.experiment ?? {});
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const answer = await this.get<{ experiment?: WireExperiment }>("/experiments/get-by-name", {
        experiment_name: name,
      });
      return answer.experiment === undefined ? undefined : experiment(answer.experiment);
    } catch (error) {
      if (error instanceof TrackingError && error.mlflowCode === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw error;
    }
  }

  async searchExperiments(
    options: { maxResults?: number; pageToken?: string } = {},
  ): Promise<Page<Experiment>> {
    const answer = await this.post<{ experiments?: WireExperiment[]; next_page_token?: string }>(
      "/experiments/search",
      {
        max_results: options.maxResults ?? 1000,
        page_token: options.pageToken,
        view_type: "ACTIVE_ONLY",
      },
    );
    return page((answer.experiments ?? []).map(experiment), answer.next_page_token);
  }

  // Runs

  async createRun(input: CreateRunInput): Promise<Run> {
    const answer = await this.post<{ run?: WireRun }>("/runs/create", {
      experiment_id: input.experimentId,
      run_name: input.runName,
      start_time: input.startTime,
      tags: toWireTags(input.tags),
      user_id: input.userId,
    });
    return this.remember(run(answer.run ?? {}));
  }

  async getRun(runId: string): Promise<Run> {
    const answer = await this.get<{ run?: WireRun }>("/runs/get", { run_id: runId });
    return this.remember(run(answer.run ?? {}));
  }

  async updateRun(runId: string, input: UpdateRunInput): Promise<void> {
    await this.post<{ run_info?: WireRunInfo }>("/runs/update", {
      run_id: runId,
      status: input.status,
      end_time: input.endTime,
      run_name: input.runName,
    });
  }

  async deleteRun(runId: string): Promise<void> {
    await this.post("/runs/delete", { run_id: runId });
  }

  async logBatch(runId: string, batch: LogBatchInput): Promise<void> {
    if (batch.metrics.length === 0 && batch.params.length === 0 && batch.tags.length === 0) return;
    await this.post("/runs/log-batch", {
      run_id: runId,
      metrics: batch.metrics.map(toWireMetric),
      params: batch.params.map((p) => ({ key: p.key, value: p.value })),
      tags: toWireTags(batch.tags),
    });
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const points: Metric[] = [];
    let pageToken: string | undefined;
    do {
      const answer = await this.get<{ metrics?: WireMetric[]; next_page_token?: string }>(
        "/metrics/get-history",
        {
          run_id: runId,
          metric_key: key,
          max_results: HISTORY_PAGE,
          page_token: pageToken,
        },
      );
      points.push(...(answer.metrics ?? []).map(metric));
      pageToken = answer.next_page_token || undefined;
    } while (pageToken !== undefined);
    // MLflow answers an unknown run with an empty history; the contract wants RESOURCE_DOES_NOT_EXIST.
    if (points.length === 0) await this.getRun(runId);
    // MLflow's SQL store returns insertion order; the interface promises step then timestamp (stable).
    return points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  }

  async searchRuns(query: SearchRunsQuery): Promise<Page<Run>> {
    const answer = await this.post<{ runs?: WireRun[]; next_page_token?: string }>("/runs/search", {
      experiment_ids: query.experimentIds,
      filter: query.filter,
      run_view_type: query.includeDeleted === true ? "ALL" : "ACTIVE_ONLY",
      max_results: query.maxResults ?? 1000,
      order_by: query.orderBy,
      page_token: query.pageToken,
    });
    return page(
      (answer.runs ?? []).map((r) => this.remember(run(r))),
      answer.next_page_token,
    );
  }

  // Artifacts

  private remember(r: Run): Run {
    if (r.info.runId !== "" && r.info.artifactUri !== "")
      this.artifactRoots.set(r.info.runId, r.info.artifactUri);
    return r;
  }

  private async artifactRoot(runId: string): Promise<string[]> {
    const artifactUri = this.artifactRoots.get(runId) ?? (await this.getRun(runId)).info.artifactUri;
    return relativeSegments(proxyRoot(artifactUri, this.uri));
  }

  async putArtifact(runId: string, path: string, bytes: Uint8Array): Promise<void> {
    const segments = relativeSegments(path);
    if (segments.length === 0) throw new TrackingError("INVALID_PARAMETER_VALUE", "artifact path is empty");
    const root = await this.artifactRoot(runId);
    await sendJson(this.http, {
      method: "PUT",
      path: `${ARTIFACTS_API}/${encodePath([...root, ...segments])}`,
      bytes,
    });
  }

  async listArtifacts(runId: string, path = ""): Promise<ArtifactEntry[]> {
    const segments = relativeSegments(path);
    const root = await this.artifactRoot(runId);
    const answer = await this.call<{ files?: WireFileInfo[] }>({
      method: "GET",
      path: ARTIFACTS_API,
      query: { path: [...root, ...segments].join("/") },
    });
    const dir = segments.join("/");
    return (answer.files ?? []).map((f) => artifactEntry(dir, f)).sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async getArtifact(runId: string, path: string): Promise<Uint8Array> {
    const segments = relativeSegments(path);
    const root = await this.artifactRoot(runId);
    // The proxy answers a missing file with RESOURCE_DOES_NOT_EXIST itself.
    return sendBytes(this.http, {
      method: "GET",
      path: `${ARTIFACTS_API}/${encodePath([...root, ...segments])}`,
    });
  }

  // Model registry

  async createRegisteredModel(
    name: string,
    description?: string,
    tags?: readonly Tag[],
  ): Promise<RegisteredModel> {
    const answer = await this.post<{ registered_model?: WireRegisteredModel }>("/registered-models/create", {
      name,
      description,
      tags: toWireTags(tags),
    });
    return registeredModel(answer.registered_model ?? {});
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const answer = await this.get<{ registered_model?: WireRegisteredModel }>("/registered-models/get", {
      name,
    });
    return registeredModel(answer.registered_model ?? {});
  }

  async searchRegisteredModels(
    options: { maxResults?: number; pageToken?: string } = {},
  ): Promise<Page<RegisteredModel>> {
    const answer = await this.get<{ registered_models?: WireRegisteredModel[]; next_page_token?: string }>(
      "/registered-models/search",
      { max_results: options.maxResults ?? 1000, page_token: options.pageToken },
    );
    return page((answer.registered_models ?? []).map(registeredModel), answer.next_page_token);
  }

  async updateRegisteredModel(name: string, description: string): Promise<void> {
    await this.call({
      method: "PATCH",
      path: `${API}/registered-models/update`,
      json: { name, description },
    });
  }

  async setRegisteredModelTag(name: string, tag: Tag): Promise<void> {
    await this.post("/registered-models/set-tag", { name, key: tag.key, value: tag.value });
  }

  async createModelVersion(input: CreateModelVersionInput): Promise<ModelVersion> {
    const answer = await this.post<{ model_version?: WireModelVersion }>("/model-versions/create", {
      name: input.name,
      source: input.source,
      run_id: input.runId,
      description: input.description,
      tags: toWireTags(input.tags),
    });
    return modelVersion(answer.model_version ?? {});
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const answer = await this.get<{ model_version?: WireModelVersion }>("/model-versions/get", {
      name,
      version,
    });
    return modelVersion(answer.model_version ?? {});
  }

  async searchModelVersions(name: string): Promise<ModelVersion[]> {
    // MLflow's filter grammar quotes with either quote character; pick one the name does not contain.
    const quoted = name.includes("'") ? `"${name}"` : `'${name}'`;
    const versions: ModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const answer = await this.get<{ model_versions?: WireModelVersion[]; next_page_token?: string }>(
        "/model-versions/search",
        { filter: `name=${quoted}`, max_results: VERSIONS_PAGE, page_token: pageToken },
      );
      versions.push(...(answer.model_versions ?? []).map(modelVersion));
      pageToken = answer.next_page_token || undefined;
    } while (pageToken !== undefined);
    // MLflow orders by last update, which moves with every edit; newest version first is stable and is
    // what the embedded store answers.
    return versions.sort((a, b) => Number(b.version) - Number(a.version));
  }

  async updateModelVersion(name: string, version: string, description: string): Promise<void> {
    await this.call({
      method: "PATCH",
      path: `${API}/model-versions/update`,
      json: { name, version, description },
    });
  }

  async setModelVersionTag(name: string, version: string, tag: Tag): Promise<void> {
    await this.post("/model-versions/set-tag", { name, version, key: tag.key, value: tag.value });
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.post("/registered-models/alias", { name, alias, version });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.call({ method: "DELETE", path: `${API}/registered-models/alias`, json: { name, alias } });
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    let answer: { model_version?: WireModelVersion };
    try {
      answer = await this.get<{ model_version?: WireModelVersion }>("/registered-models/alias", {
        name,
        alias,
      });
    } catch (error) {
      // MLflow answers an alias that is not set with INVALID_PARAMETER_VALUE; the contract says not found.
      if (
        error instanceof TrackingError &&
        error.mlflowCode === "INVALID_PARAMETER_VALUE" &&
        /alias/i.test(error.message)
      ) {
        throw new TrackingError(
          "RESOURCE_DOES_NOT_EXIST",
          `registered model '${name}' has no alias '${alias}'`,
          { cause: error },
        );
      }
      throw error;
    }
    return modelVersion(answer.model_version ?? {});
  }

  async close(): Promise<void> {
    // fetch pools its connections globally; there is nothing of this store's own to release.
    this.artifactRoots.clear();
  }
}

function page<T>(items: T[], nextPageToken: string | undefined): Page<T> {
  return nextPageToken === undefined || nextPageToken === "" ? { items } : { items, nextPageToken };
}
