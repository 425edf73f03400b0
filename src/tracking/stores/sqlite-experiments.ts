/** Experiments in the embedded SQLite store, numbered "0", "1", … as MLflow's SQL store numbers them. */
import { pathToFileURL } from "node:url";
import { alreadyExists, notFound } from "../errors.js";
import type { Experiment, LifecycleStage, Page, Tag } from "../types.js";
import { groupBy, pageWindow, type TagRow, toPage, toTags } from "./sqlite-common.js";
import type { Db } from "./sqlite-schema.js";

export const DEFAULT_EXPERIMENT_ID = "0";
export const DEFAULT_EXPERIMENT_NAME = "Default";

interface ExperimentRow {
  readonly experiment_id: number;
  readonly name: string;
  readonly artifact_location: string;
  readonly lifecycle_stage: LifecycleStage;
  readonly creation_time: number;
  readonly last_update_time: number;
}

/**
 * Experiment ids are integers in the database; any other string cannot name one, and is reported as
 * not found rather than as a type error, as MLflow does.
 */
export function parseExperimentId(experimentId: string): number | undefined {
  return /^\d{1,15}$/.test(experimentId) ? Number(experimentId) : undefined;
}

export class SqliteExperiments {
  /** `file:` URL of the artifact root, without a trailing slash. */
  private readonly artifactRootUri: string;

  constructor(
    private readonly db: Db,
    artifactRoot: string,
    private readonly now: () => number,
  ) {
    this.artifactRootUri = pathToFileURL(artifactRoot).href.replace(/\/+$/, "");
  }

  /** Creates experiment "0" named "Default" unless it exists, like MLflow on first use of a store. */
  ensureDefault(): void {
    const time = this.now();
    this.db
      .prepare(
        `INSERT OR IGNORE INTO experiments
           (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
         VALUES (?, ?, ?, 'active', ?, ?)`,
      )
      .run(0, DEFAULT_EXPERIMENT_NAME, `${this.artifactRootUri}/${DEFAULT_EXPERIMENT_ID}`, time, time);
  }

  create(name: string, tags: readonly Tag[] = []): string {
    return this.db
      .transaction(() => {
        if (this.db.prepare("SELECT 1 FROM experiments WHERE name = ?").get(name) !== undefined) {
          throw alreadyExists(
            `Experiment(name=${name}) already exists.`,
            "pick another name, or use getExperimentByName to reuse it",
          );
        }
        const time = this.now();
        // The location depends on the id, which SQLite picks: insert, then set it.
        const { lastInsertRowid } = this.db
          .prepare(
            `INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time)
             VALUES (?, '', 'active', ?, ?)`,
          )
          .run(name, time, time);
        const id = String(lastInsertRowid);
        this.db
          .prepare("UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?")
          .run(`${this.artifactRootUri}/${id}`, lastInsertRowid);
        const insertTag = this.db.prepare("INSERT OR REPLACE INTO experiment_tags VALUES (?, ?, ?)");
        for (const tag of tags) insertTag.run(lastInsertRowid, tag.key, tag.value);
        return id;
      })
      .immediate();
  }

  get(experimentId: string): Experiment {
    const id = parseExperimentId(experimentId);
    const row =
      id === undefined
        ? undefined
        : (this.db.prepare("SELECT * FROM experiments WHERE experiment_id = ?").get(id) as
            | ExperimentRow
            | undefined);
    if (row === undefined) {
      throw notFound(
        `No Experiment with id=${experimentId} exists`,
        "list the experiments with searchExperiments, or create one",
      );
    }
    return this.withTags([row])[0] as Experiment;
  }

  getByName(name: string): Experiment | undefined {
    const row = this.db.prepare("SELECT * FROM experiments WHERE name = ?").get(name) as
      | ExperimentRow
      | undefined;
    return row === undefined ? undefined : this.withTags([row])[0];
  }

  /** Active experiments, newest first (MLflow's default order), a page at a time. */
  search(options: { maxResults?: number; pageToken?: string } = {}): Page<Experiment> {
    const window = pageWindow(options);
    const rows = this.db
      .prepare(
        `SELECT * FROM experiments WHERE lifecycle_stage = 'active'
         ORDER BY creation_time DESC, experiment_id ASC LIMIT ? OFFSET ?`,
      )
      .all(window.limit + 1, window.offset) as ExperimentRow[];
    const page = toPage(rows, window);
    return { ...page, items: this.withTags(page.items) };
  }

  /** The artifact location of an experiment known to exist (runs' URIs are built on it). */
  artifactLocation(experimentId: string): string {
    return this.get(experimentId).artifactLocation;
  }

  private withTags(rows: readonly ExperimentRow[]): Experiment[] {
    if (rows.length === 0) return [];
    const ids = rows.map((row) => row.experiment_id);
    const tagRows = this.db
      .prepare(
        `SELECT experiment_id, key, value FROM experiment_tags
         WHERE experiment_id IN (${ids.map(() => "?").join(",")}) ORDER BY key`,
      )
      .all(...ids) as (TagRow & { experiment_id: number })[];
    const tagsById = groupBy(tagRows, (row) => row.experiment_id);
    return rows.map((row) => ({
      experimentId: String(row.experiment_id),
      name: row.name,
      artifactLocation: row.artifact_location,
      lifecycleStage: row.lifecycle_stage,
      creationTime: row.creation_time,
      lastUpdateTime: row.last_update_time,
      tags: toTags(tagsById.get(row.experiment_id) ?? []),
    }));
  }
}
