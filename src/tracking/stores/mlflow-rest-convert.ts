/**
 * MLflow's REST JSON (snake_case, protobuf JSON mapping) to and from cryptoml's tracking types. The
 * protobuf mapping lets a server send int64 fields as strings and non-finite doubles as "NaN" /
 * "Infinity" strings, and omits empty lists and default values, so every reader here tolerates a
 * missing field and a number in either form.
 */
import type {
  ArtifactEntry,
  Experiment,
  LifecycleStage,
  Metric,
  ModelVersion,
  Param,
  RegisteredModel,
  Run,
  RunInfo,
  RunStatus,
  Tag,
} from "../types.js";

// The wire shapes: only what this store reads, every field optional as protobuf JSON may omit it.
export interface WireTag {
  key?: string;
  value?: string;
}
export interface WireMetric {
  key?: string;
  value?: number | string;
  timestamp?: number | string;
  step?: number | string;
}
export interface WireExperiment {
  experiment_id?: string;
  name?: string;
  artifact_location?: string;
  lifecycle_stage?: string;
  creation_time?: number | string;
  last_update_time?: number | string;
  tags?: WireTag[];
}
export interface WireRunInfo {
  run_id?: string;
  run_uuid?: string;
  experiment_id?: string;
  run_name?: string;
  user_id?: string;
  status?: string;
  start_time?: number | string;
  end_time?: number | string;
  artifact_uri?: string;
  lifecycle_stage?: string;
}
export interface WireRun {
  info?: WireRunInfo;
  data?: { metrics?: WireMetric[]; params?: WireTag[]; tags?: WireTag[] };
}
export interface WireFileInfo {
  path?: string;
  is_dir?: boolean;
  file_size?: number | string;
}
export interface WireModelVersion {
  name?: string;
  version?: string | number;
  creation_timestamp?: number | string;
  last_updated_timestamp?: number | string;
  description?: string;
  source?: string;
  run_id?: string;
  status?: string;
  tags?: WireTag[];
  aliases?: string[];
}
export interface WireRegisteredModel {
  name?: string;
  creation_timestamp?: number | string;
  last_updated_timestamp?: number | string;
  description?: string;
  tags?: WireTag[];
  aliases?: { alias?: string; version?: string | number }[];
  latest_versions?: WireModelVersion[];
}

/** A number from a JSON number or a protobuf-JSON string ("123", "NaN", "Infinity", "-Infinity"). */
export function num(value: number | string | undefined, fallback = 0): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "number") return value;
  if (value === "NaN") return Number.NaN;
  if (value === "Infinity") return Number.POSITIVE_INFINITY;
  if (value === "-Infinity") return Number.NEGATIVE_INFINITY;
  const parsed = Number(value);
  return Number.isNaN(parsed) ? fallback : parsed;
}

/** A double for the wire: JSON has no NaN or Infinity, the protobuf JSON mapping spells them as strings. */
export function wireDouble(value: number): number | string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  return value;
}

const tag = (t: WireTag): Tag => ({ key: t.key ?? "", value: t.value ?? "" });
export const tags = (list: WireTag[] | undefined): Tag[] => (list ?? []).map(tag);
const params = (list: WireTag[] | undefined): Param[] => (list ?? []).map(tag);

export const toWireTags = (list: readonly Tag[] | undefined): WireTag[] =>
  (list ?? []).map((t) => ({ key: t.key, value: t.value }));

const stage = (value: string | undefined): LifecycleStage => (value === "deleted" ? "deleted" : "active");

export function metric(m: WireMetric): Metric {
  return {
    key: m.key ?? "",
    value: num(m.value, Number.NaN),
    timestamp: num(m.timestamp),
    step: num(m.step),
  };
}

export function toWireMetric(m: Metric): WireMetric {
  return { key: m.key, value: wireDouble(m.value), timestamp: m.timestamp, step: m.step };
}

export function experiment(e: WireExperiment): Experiment {
  return {
    experimentId: e.experiment_id ?? "",
    name: e.name ?? "",
    artifactLocation: e.artifact_location ?? "",
    lifecycleStage: stage(e.lifecycle_stage),
    creationTime: num(e.creation_time),
    lastUpdateTime: num(e.last_update_time),
    tags: tags(e.tags),
  };
}

export function runInfo(i: WireRunInfo): RunInfo {
  const info: RunInfo = {
    runId: i.run_id ?? i.run_uuid ?? "",
    experimentId: i.experiment_id ?? "",
    runName: i.run_name ?? "",
    userId: i.user_id ?? "",
    status: (i.status ?? "RUNNING") as RunStatus,
    startTime: num(i.start_time),
    artifactUri: i.artifact_uri ?? "",
    lifecycleStage: stage(i.lifecycle_stage),
  };
  // MLflow leaves end_time unset (or 0 in some versions) while a run is RUNNING.
  const endTime = num(i.end_time);
  return i.end_time === undefined || endTime === 0 ? info : { ...info, endTime };
}

export function run(r: WireRun): Run {
  return {
    info: runInfo(r.info ?? {}),
    data: {
      metrics: (r.data?.metrics ?? []).map(metric),
      params: params(r.data?.params),
      tags: tags(r.data?.tags),
    },
  };
}

/** The server lists basenames; `dir` is the listed folder relative to the run's artifact root. */
export function artifactEntry(dir: string, f: WireFileInfo): ArtifactEntry {
  const name = f.path ?? "";
  const base = name.includes("/") ? name.slice(name.lastIndexOf("/") + 1) : name;
  const path = dir === "" ? base : `${dir}/${base}`;
  return f.is_dir === true ? { path, isDir: true } : { path, isDir: false, fileSize: num(f.file_size) };
}

const VERSION_STATUSES = new Set(["READY", "PENDING_REGISTRATION", "FAILED_REGISTRATION"]);

export function modelVersion(v: WireModelVersion): ModelVersion {
  return {
    name: v.name ?? "",
    version: String(v.version ?? ""),
    creationTimestamp: num(v.creation_timestamp),
    lastUpdatedTimestamp: num(v.last_updated_timestamp),
    description: v.description ?? "",
    source: v.source ?? "",
    runId: v.run_id ?? "",
    status: (VERSION_STATUSES.has(v.status ?? "") ? v.status : "READY") as ModelVersion["status"],
    tags: tags(v.tags),
    aliases: v.aliases ?? [],
  };
}

export function registeredModel(m: WireRegisteredModel): RegisteredModel {
  // latest_versions holds the newest version per stage (MLflow's legacy stages); the newest overall is the max.
  const versions = (m.latest_versions ?? []).map((v) => Number(v.version)).filter((v) => Number.isFinite(v));
  const model: RegisteredModel = {
    name: m.name ?? "",
    creationTimestamp: num(m.creation_timestamp),
    lastUpdatedTimestamp: num(m.last_updated_timestamp),
    description: m.description ?? "",
    tags: tags(m.tags),
    aliases: (m.aliases ?? []).map((a) => ({ alias: a.alias ?? "", version: String(a.version ?? "") })),
  };
  return versions.length === 0 ? model : { ...model, latestVersion: String(Math.max(...versions)) };
}
