/**
 * Runs in the embedded SQLite store: their info, immutable params, tags, and every metric point with
 * a per-key "latest" row kept as MLflow keeps it (highest step, then timestamp, then value), so
 * searches and run pages never scan the history.
 */
import { randomInt, randomUUID } from "node:crypto";
import { invalidValue, notFound } from "../errors.js";
import type { CreateRunInput, LogBatchInput, UpdateRunInput } from "../store.js";
import type { LifecycleStage, Metric, Param, Run, RunStatus, Tag } from "../types.js";
import { groupBy, type TagRow, toTags } from "./sqlite-common.js";
import type { SqliteExperiments } from "./sqlite-experiments.js";
import { parseExperimentId } from "./sqlite-experiments.js";
import type { Db } from "./sqlite-schema.js";

/** The tag MLflow's UI reads a run's name from; kept equal to the run's name. */
export const RUN_NAME_TAG = "mlflow.runName";

/** The process that created a run, so a later open can tell a crashed run from a live one. */
export interface RunOwner {
  readonly host: string;
  readonly pid: number;
}

interface RunRow {
  readonly run_uuid: string;
  readonly experiment_id: number;
  readonly name: string;
  readonly user_id: string;
  readonly status: RunStatus;
  readonly start_time: number;
  readonly end_time: number | null;
  readonly artifact_uri: string;
  readonly lifecycle_stage: LifecycleStage;
}

interface MetricRow {
  readonly run_uuid: string;
  readonly key: string;
  readonly value: number;
  readonly is_nan: number;
  readonly timestamp: number;
  readonly step: number;
}

const ADJECTIVES =
  "amber bold calm crisp eager fleet gentle keen lucky mellow nimble quiet rapid vivid".split(" ");
const NOUNS = "bear bison crane falcon finch fox gull hare heron lark lynx otter owl wren".split(" ");

/** A readable default run name in MLflow's style, e.g. `nimble-otter-512`. */
export function generateRunName(): string {
  const pick = (words: readonly string[]): string => words[randomInt(words.length)] as string;
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${randomInt(1000)}`;
}

export class SqliteRuns {
  constructor(
    private readonly db: Db,
    private readonly experiments: SqliteExperiments,
  ) {}

  create(input: CreateRunInput, owner: RunOwner): Run {
    const nameTag = input.tags.find((tag) => tag.key === RUN_NAME_TAG)?.value;
    if (input.runName !== undefined && nameTag !== undefined && input.runName !== nameTag) {
      throw invalidValue(
        `Both 'run_name' argument and '${RUN_NAME_TAG}' tag are specified, but with different values ` +
          `(run_name='${input.runName}', ${RUN_NAME_TAG}='${nameTag}').`,
        `pass the name once, as runName`,
      );
    }
    const runName = input.runName ?? nameTag ?? generateRunName();
    // uuid4().hex, as MLflow makes run ids.
    const runId = randomUUID().replaceAll("-", "");
    this.db
      .transaction(() => {
        const artifactUri = `${this.experiments.artifactLocation(input.experimentId)}/${runId}/artifacts`;
        this.db
          .prepare(
            `INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, artifact_uri)
             VALUES (?, ?, ?, ?, 'RUNNING', ?, ?)`,
          )
          .run(runId, Number(input.experimentId), runName, input.userId ?? "", input.startTime, artifactUri);
        this.db.prepare("INSERT INTO run_owners VALUES (?, ?, ?)").run(runId, owner.host, owner.pid);
        this.setTags(runId, [
          ...input.tags.filter((tag) => tag.key !== RUN_NAME_TAG),
          { key: RUN_NAME_TAG, value: runName },
        ]);
      })
      .immediate();
    return this.get(runId);
  }

  get(runId: string): Run {
    const run = this.load("run_uuid = ?", [runId])[0];
    if (run === undefined) throw runNotFound(runId);
    return run;
  }

  update(runId: string, input: UpdateRunInput): void {
    this.db
      .transaction(() => {
        this.requireActive(runId);
        if (input.status !== undefined) {
          this.db.prepare("UPDATE runs SET status = ? WHERE run_uuid = ?").run(input.status, runId);
        }
        if (input.endTime !== undefined) {
          this.db.prepare("UPDATE runs SET end_time = ? WHERE run_uuid = ?").run(input.endTime, runId);
        }
        if (input.runName !== undefined) this.setTags(runId, [{ key: RUN_NAME_TAG, value: input.runName }]);
      })
      .immediate();
  }

  /** Marks the run deleted; its data stays (MLflow's soft delete), and getRun still answers. */
  delete(runId: string, time: number): void {
    const { changes } = this.db
      .prepare("UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_uuid = ?")
      .run(time, runId);
    if (changes === 0) throw runNotFound(runId);
  }

  /** All or nothing: params first, then metrics, then tags, in one transaction, as MLflow orders them. */
  logBatch(runId: string, batch: LogBatchInput): void {
    this.db
      .transaction(() => {
        this.requireActive(runId);
        this.logParams(runId, batch.params);
        this.logMetrics(runId, batch.metrics);
        this.setTags(runId, batch.tags);
      })
      .immediate();
  }

  metricHistory(runId: string, key: string): Metric[] {
    if (this.db.prepare("SELECT 1 FROM runs WHERE run_uuid = ?").get(runId) === undefined)
      throw runNotFound(runId);
    const rows = this.db
      .prepare("SELECT * FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp, seq")
      .all(runId, key) as MetricRow[];
    return rows.map(toMetric);
  }

  /** The runs of some experiments, with their latest metrics, params and tags, for an in-memory search. */
  loadForSearch(experimentIds: readonly string[], includeDeleted: boolean): Run[] {
    const ids = experimentIds.map(parseExperimentId).filter((id) => id !== undefined);
    if (ids.length === 0) return [];
    const stage = includeDeleted ? "" : " AND lifecycle_stage = 'active'";
    return this.load(`experiment_id IN (${ids.map(() => "?").join(",")})${stage}`, ids);
  }

  /** The run's artifact URI, or RESOURCE_DOES_NOT_EXIST. */
  artifactUri(runId: string): string {
    const row = this.db.prepare("SELECT artifact_uri FROM runs WHERE run_uuid = ?").get(runId) as
      | { artifact_uri: string }
      | undefined;
    if (row === undefined) throw runNotFound(runId);
    return row.artifact_uri;
  }

  private requireActive(runId: string): void {
    const row = this.db.prepare("SELECT lifecycle_stage FROM runs WHERE run_uuid = ?").get(runId) as
      | { lifecycle_stage: LifecycleStage }
      | undefined;
    if (row === undefined) throw runNotFound(runId);
    if (row.lifecycle_stage !== "active") {
      throw invalidValue(
        `The run ${runId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`,
        "log to another run; a deleted run is read-only",
      );
    }
  }

  private logParams(runId: string, params: readonly Param[]): void {
    const existing = this.db.prepare("SELECT value FROM params WHERE run_uuid = ? AND key = ?");
    const insert = this.db.prepare("INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)");
    for (const param of params) {
      const old = existing.get(runId, param.key) as { value: string } | undefined;
      if (old === undefined) insert.run(runId, param.key, param.value);
      else if (old.value !== param.value) {
        throw invalidValue(
          `Changing param values is not allowed. Param with key='${param.key}' was already logged with ` +
            `value='${old.value}' for run ID='${runId}'. Attempted logging new value '${param.value}'.`,
          "params describe a run's configuration and are fixed once logged; start a new run, or log a metric or tag",
        );
      }
    }
  }

  private logMetrics(runId: string, metrics: readonly Metric[]): void {
    const insert = this.db.prepare(
      "INSERT INTO metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)",
    );
    // Replaces the latest point only by a later one: higher step, then timestamp, then value (MLflow's rule).
    const upsertLatest = this.db.prepare(
      `INSERT INTO latest_metrics (run_uuid, key, value, is_nan, timestamp, step) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_uuid, key) DO UPDATE SET
         value = excluded.value, is_nan = excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step
       WHERE excluded.step > latest_metrics.step
          OR (excluded.step = latest_metrics.step AND excluded.timestamp > latest_metrics.timestamp)
          OR (excluded.step = latest_metrics.step AND excluded.timestamp = latest_metrics.timestamp
              AND excluded.value > latest_metrics.value)`,
    );
    for (const metric of metrics) {
      const isNan = Number.isNaN(metric.value);
      const row = [runId, metric.key, isNan ? 0 : metric.value, isNan ? 1 : 0, metric.timestamp, metric.step];
      insert.run(...row);
      upsertLatest.run(...row);
    }
  }

  private setTags(runId: string, tags: readonly Tag[]): void {
    const upsert = this.db.prepare("INSERT OR REPLACE INTO tags (run_uuid, key, value) VALUES (?, ?, ?)");
    for (const tag of tags) {
      upsert.run(runId, tag.key, tag.value);
      // MLflow keeps the run's name and this tag as one value, whichever way it is set.
      if (tag.key === RUN_NAME_TAG)
        this.db.prepare("UPDATE runs SET name = ? WHERE run_uuid = ?").run(tag.value, runId);
    }
  }

  /** Runs matching `where` (over the runs table) with their data, in three queries whatever their number. */
  private load(where: string, args: readonly unknown[]): Run[] {
    const rows = this.db.prepare(`SELECT * FROM runs WHERE ${where}`).all(...args) as RunRow[];
    if (rows.length === 0) return [];
    const of = `run_uuid IN (SELECT run_uuid FROM runs WHERE ${where})`;
    const params = groupBy(
      this.db
        .prepare(`SELECT run_uuid, key, value FROM params WHERE ${of} ORDER BY key`)
        .all(...args) as (TagRow & {
        run_uuid: string;
      })[],
      (row) => row.run_uuid,
    );
    const tags = groupBy(
      this.db
        .prepare(`SELECT run_uuid, key, value FROM tags WHERE ${of} ORDER BY key`)
        .all(...args) as (TagRow & {
        run_uuid: string;
      })[],
      (row) => row.run_uuid,
    );
    const metrics = groupBy(
      this.db.prepare(`SELECT * FROM latest_metrics WHERE ${of} ORDER BY key`).all(...args) as MetricRow[],
      (row) => row.run_uuid,
    );
    return rows.map((row) => ({
      info: {
        runId: row.run_uuid,
        experimentId: String(row.experiment_id),
        runName: row.name,
        userId: row.user_id,
        status: row.status,
        startTime: row.start_time,
        ...(row.end_time === null ? {} : { endTime: row.end_time }),
        artifactUri: row.artifact_uri,
        lifecycleStage: row.lifecycle_stage,
      },
      data: {
        metrics: (metrics.get(row.run_uuid) ?? []).map(toMetric),
        params: toTags(params.get(row.run_uuid) ?? []),
        tags: toTags(tags.get(row.run_uuid) ?? []),
      },
    }));
  }
}

const toMetric = (row: MetricRow): Metric => ({
  key: row.key,
  value: row.is_nan === 1 ? Number.NaN : row.value,
  timestamp: row.timestamp,
  step: row.step,
});

export const runNotFound = (runId: string) =>
  notFound(`Run with id=${runId} not found`, "check the run id; searchRuns lists the runs of an experiment");
