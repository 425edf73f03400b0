/**
 * Where the models of a backtest come from: a run directory written by `cryptoml train`, a tracked run
 * (a train run's parent run, or one job's run), or a registered model version (`NAME`, `NAME@alias`,
 * `NAME/3`). Tracked models are downloaded from the tracking store's artifacts with the train run's
 * config.json, so a backtest rebuilds exactly the features, scaling and split the model was trained on.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CryptomlError } from "../core/errors.js";
import type { TrackingClient } from "../tracking/client.js";
import type { ModelVersion, Run } from "../tracking/types.js";
import { POOLED_JOB } from "../training/run/jobs.js";
import { RunDirectory } from "../training/run/run-dir.js";
import type { SavedRunConfig } from "./predict.js";

/** A trained run's configuration and, per symbol, the model to backtest it with. */
export interface ModelSource {
  /** Said in reports: `run directory runs/…`, `cryptoml-BTCUSDT-gru version 3 (champion)`. */
  readonly description: string;
  readonly saved: SavedRunConfig;
  /** The symbols it has models for, in the run's order. */
  readonly symbols: readonly string[];
  /** The local model file for `symbol`; throws a clear error when the source has none. */
  modelPath(symbol: string): string;
  /** The tracking run of the job that trained `symbol`'s model, when tracked. */
  trackingRunId(symbol: string): string | undefined;
  /** Where charts go by default. */
  readonly defaultOutDir: string;
  /** Deletes downloaded files. */
  close(): Promise<void>;
}

const JOB_TAG = "cryptoml.job";
const PARENT_TAG = "mlflow.parentRunId";

function readSaved(saved: SavedRunConfig | undefined, where: string): SavedRunConfig {
  if (saved?.config?.dataset === undefined || !Array.isArray(saved.symbols)) {
    throw new CryptomlError("DATA_FORMAT", `${where} is not a run configuration`, {
      hint: "pass a run written by `cryptoml train`",
    });
  }
  return saved;
}

/** The model of each symbol: the symbol's own job, else the run's pooled model. */
function modelFor(symbol: string, models: ReadonlyMap<string, string>, description: string): string {
  const path = models.get(symbol) ?? models.get(POOLED_JOB);
  if (path === undefined) {
    throw new CryptomlError("NOT_FOUND", `${description} has no model for ${symbol}`, {
      hint: `backtest the symbols it has: ${[...models.keys()].join(", ") || "(none)"}`,
    });
  }
  return path;
}

/** The models of a run directory (its jobs keyed by symbol, and the pooled model). */
export async function runDirectorySource(path: string): Promise<ModelSource> {
  const runDir = await RunDirectory.open(resolve(path));
  const saved = readSaved(await runDir.readJson<SavedRunConfig>("config.json"), `${runDir.path}/config.json`);
  const manifest = await runDir.readManifest();
  const jobs = manifest.jobs.filter((j) => j.key === POOLED_JOB || saved.symbols.includes(j.key));
  const models = new Map(jobs.map((j) => [j.key, runDir.modelPath(j.key)]));
  const runs = new Map(jobs.map((j) => [j.key, j.trackingRunId]));
  const description = `run directory ${runDir.path}`;
  return {
    description,
    saved,
    symbols: saved.symbols,
    modelPath: (symbol) => modelFor(symbol, models, description),
    trackingRunId: (symbol) => runs.get(symbol) ?? runs.get(POOLED_JOB),
    defaultOutDir: join(runDir.path, "backtest"),
    close: async () => {},
  };
}

const tagOf = (run: Run, key: string): string | undefined => run.data.tags.find((t) => t.key === key)?.value;

/** `NAME`, `NAME@alias` or `NAME/version` → the version; plain NAME is the champion, else the newest. */
export async function resolveModelVersion(client: TrackingClient, spec: string): Promise<ModelVersion> {
  const match = /^([^@/]+)(?:@([^@/]+)|\/(\d+))?$/.exec(spec);
  if (match === null) {
    throw new CryptomlError("USAGE", `--model ${spec} is not NAME, NAME@alias or NAME/version`, {
      hint: "e.g. --model cryptoml-BTCUSDT-gru@champion; `cryptoml models list` shows the names",
    });
  }
  const [, name, alias, version] = match as unknown as [string, string, string?, string?];
  if (version !== undefined) return client.store.getModelVersion(name, version);
  const versions = await client.store.searchModelVersions(name);
  if (versions.length === 0) {
    throw new CryptomlError("NOT_FOUND", `registered model ${name} has no versions`, {
      hint: "`cryptoml models list` shows the registered models; train one with `cryptoml train`",
    });
  }
  const byAlias = await client.versionByAlias(name, alias ?? "champion");
  if (byAlias !== undefined) return byAlias;
  if (alias !== undefined) {
    throw new CryptomlError("NOT_FOUND", `registered model ${name} has no alias @${alias}`, {
      hint: `use a version (${name}/${versions.map((v) => v.version).join(`, ${name}/`)}) or promote one: cryptoml models promote`,
    });
  }
  return versions.reduce((a, b) => (Number(b.version) > Number(a.version) ? b : a));
}

/** The job runs of a train run: the run itself when it is a job, else its children. */
async function jobRuns(client: TrackingClient, run: Run): Promise<{ parent: string; jobs: Run[] }> {
  if (tagOf(run, JOB_TAG) !== undefined) {
    const parent = tagOf(run, PARENT_TAG);
    if (parent === undefined) {
      throw new CryptomlError("DATA_FORMAT", `run ${run.info.runId} is a job run without a parent run`, {
        hint: "pass the train run's id (the parent) instead",
      });
    }
    return { parent, jobs: [run] };
  }
  const children = await client.searchRuns({
    experimentIds: [run.info.experimentId],
    filter: `tags.\`${PARENT_TAG}\` = '${run.info.runId}'`,
    maxResults: 1000,
  });
  const jobs = children.items.filter((r) => tagOf(r, JOB_TAG) !== undefined);
  if (jobs.length === 0) {
    throw new CryptomlError(
      "NOT_FOUND",
      `run ${run.info.runId} is not a cryptoml train run (it has no job runs)`,
      {
        hint: "`cryptoml runs list` shows the train runs; pass one of their ids",
      },
    );
  }
  return { parent: run.info.runId, jobs };
}

/** Downloads one job run's model file into `dir`. */
async function downloadModel(client: TrackingClient, job: Run, dir: string): Promise<string> {
  const files = (await client.listArtifacts(job.info.runId, "model")).filter((e) => !e.isDir);
  const file = files.find((e) => e.path.endsWith(".safetensors"));
  if (file === undefined) {
    throw new CryptomlError(
      "NOT_FOUND",
      `run ${job.info.runId} has no model artifact (model/*.safetensors)`,
      {
        hint: "the job did not finish; resume the train run or pick another version",
      },
    );
  }
  const local = join(dir, `${job.info.runId}.safetensors`);
  await writeFile(local, await client.downloadArtifact(job.info.runId, file.path));
  return local;
}

/**
 * The models of a tracked train run (`runId` of the parent or of one job) or of a registered model
 * version (`model`), downloaded to a temporary directory that `close()` removes.
 */
export async function trackedSource(
  client: TrackingClient,
  ref: { readonly runId: string } | { readonly model: string },
): Promise<ModelSource> {
  let version: ModelVersion | undefined;
  let runId: string;
  if ("model" in ref) {
    version = await resolveModelVersion(client, ref.model);
    runId = version.runId;
  } else {
    runId = ref.runId;
  }
  const { parent, jobs } = await jobRuns(client, await client.getRun(runId));
  let saved: SavedRunConfig;
  try {
    const bytes = await client.downloadArtifact(parent, "config.json");
    saved = readSaved(JSON.parse(Buffer.from(bytes).toString("utf8")), `config.json of run ${parent}`);
  } catch (error) {
    if (error instanceof CryptomlError && error.code === "DATA_FORMAT") throw error;
    throw new CryptomlError("NOT_FOUND", `train run ${parent} has no config.json artifact`, {
      hint: "it is uploaded when `cryptoml train` ends; resume the run, or backtest its directory with --run-dir",
      cause: error,
    });
  }
  const dir = await mkdtemp(join(tmpdir(), "cryptoml-backtest-models-"));
  try {
    const models = new Map<string, string>();
    const runs = new Map<string, string>();
    for (const job of jobs) {
      const key = tagOf(job, JOB_TAG) as string;
      if (key !== POOLED_JOB && !saved.symbols.includes(key)) continue; // ensemble members
      models.set(key, await downloadModel(client, job, dir));
      runs.set(key, job.info.runId);
    }
    const description =
      version === undefined
        ? `tracked run ${runId}`
        : `${version.name} version ${version.version}${version.aliases?.length ? ` (${version.aliases.join(", ")})` : ""}`;
    const symbols = models.has(POOLED_JOB) ? saved.symbols : saved.symbols.filter((s) => models.has(s));
    return {
      description,
      saved,
      symbols,
      modelPath: (symbol) => modelFor(symbol, models, description),
      trackingRunId: (symbol) => runs.get(symbol) ?? runs.get(POOLED_JOB),
      defaultOutDir: resolve(
        "backtests",
        version === undefined ? `run-${runId}` : `${version.name}-v${version.version}`,
      ),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
