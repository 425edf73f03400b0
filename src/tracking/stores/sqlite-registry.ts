/**
 * The model registry of the embedded store: registered models, their versions numbered 1, 2, … per
 * model, tags, and aliases (a name such as `champion` pointing at one version, moved by setting it again).
 */
import { alreadyExists, notFound } from "../errors.js";
import type { CreateModelVersionInput } from "../store.js";
import type { ModelVersion, Page, RegisteredModel, Tag } from "../types.js";
import { groupBy, pageWindow, type TagRow, toPage, toTags } from "./sqlite-common.js";
import type { Db } from "./sqlite-schema.js";

interface ModelRow {
  readonly name: string;
  readonly creation_time: number;
  readonly last_updated_time: number;
  readonly description: string;
}

interface VersionRow {
  readonly name: string;
  readonly version: number;
  readonly creation_time: number;
  readonly last_updated_time: number;
  readonly description: string;
  readonly source: string;
  readonly run_id: string;
  readonly status: ModelVersion["status"];
}

const modelNotFound = (name: string) =>
  notFound(`Registered Model with name=${name} not found`, "create it with createRegisteredModel first");

const versionNotFound = (name: string, version: string) =>
  notFound(
    `Model Version (name=${name}, version=${version}) not found`,
    "searchModelVersions lists its versions",
  );

/** Versions are integers; "abc" or "1.5" cannot name one and is reported as not found. */
function parseVersion(name: string, version: string): number {
  if (!/^\d{1,15}$/.test(version)) throw versionNotFound(name, version);
  return Number(version);
}

export class SqliteRegistry {
  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  createModel(name: string, description = "", tags: readonly Tag[] = []): RegisteredModel {
    this.db
      .transaction(() => {
        if (this.db.prepare("SELECT 1 FROM registered_models WHERE name = ?").get(name) !== undefined) {
          throw alreadyExists(
            `Registered Model (name=${name}) already exists.`,
            "pick another name, or add a version to the existing model",
          );
        }
        const time = this.now();
        this.db
          .prepare("INSERT INTO registered_models VALUES (?, ?, ?, ?)")
          .run(name, time, time, description);
        for (const tag of tags) this.upsertModelTag(name, tag);
      })
      .immediate();
    return this.getModel(name);
  }

  getModel(name: string): RegisteredModel {
    const row = this.db.prepare("SELECT * FROM registered_models WHERE name = ?").get(name) as
      | ModelRow
      | undefined;
    if (row === undefined) throw modelNotFound(name);
    return this.toModels([row])[0] as RegisteredModel;
  }

  /** By name, ascending (MLflow's default order). */
  searchModels(options: { maxResults?: number; pageToken?: string } = {}): Page<RegisteredModel> {
    const window = pageWindow(options);
    const rows = this.db
      .prepare("SELECT * FROM registered_models ORDER BY name LIMIT ? OFFSET ?")
      .all(window.limit + 1, window.offset) as ModelRow[];
    const page = toPage(rows, window);
    return { ...page, items: this.toModels(page.items) };
  }

  updateModel(name: string, description: string): void {
    const { changes } = this.db
      .prepare("UPDATE registered_models SET description = ?, last_updated_time = ? WHERE name = ?")
      .run(description, this.now(), name);
    if (changes === 0) throw modelNotFound(name);
  }

  setModelTag(name: string, tag: Tag): void {
    this.db.transaction(() => this.upsertModelTag(name, tag)).immediate();
  }

  createVersion(input: CreateModelVersionInput): ModelVersion {
    const version = this.db
      .transaction(() => {
        this.requireModel(input.name);
        const { next } = this.db
          .prepare("SELECT COALESCE(MAX(version), 0) + 1 AS next FROM model_versions WHERE name = ?")
          .get(input.name) as { next: number };
        const time = this.now();
        this.db
          .prepare("INSERT INTO model_versions VALUES (?, ?, ?, ?, ?, ?, ?, 'READY')")
          .run(input.name, next, time, time, input.description ?? "", input.source, input.runId);
        const insertTag = this.db.prepare("INSERT OR REPLACE INTO model_version_tags VALUES (?, ?, ?, ?)");
        for (const tag of input.tags ?? []) insertTag.run(input.name, next, tag.key, tag.value);
        this.touchModel(input.name, time);
        return next;
      })
      .immediate();
    return this.getVersion(input.name, String(version));
  }

  getVersion(name: string, version: string): ModelVersion {
    const row = this.db
      .prepare("SELECT * FROM model_versions WHERE name = ? AND version = ?")
      .get(name, parseVersion(name, version)) as VersionRow | undefined;
    if (row === undefined) throw versionNotFound(name, version);
    return this.toVersions([row])[0] as ModelVersion;
  }

  /** Every version of the model, newest first; [] for an unknown model, as a search answers. */
  searchVersions(name: string): ModelVersion[] {
    const rows = this.db
      .prepare("SELECT * FROM model_versions WHERE name = ? ORDER BY version DESC")
      .all(name) as VersionRow[];
    return this.toVersions(rows);
  }

  updateVersion(name: string, version: string, description: string): void {
    const { changes } = this.db
      .prepare(
        "UPDATE model_versions SET description = ?, last_updated_time = ? WHERE name = ? AND version = ?",
      )
      .run(description, this.now(), name, parseVersion(name, version));
    if (changes === 0) throw versionNotFound(name, version);
  }

  setVersionTag(name: string, version: string, tag: Tag): void {
    const number = parseVersion(name, version);
    this.db
      .transaction(() => {
        this.requireVersion(name, version, number);
        this.db
          .prepare("INSERT OR REPLACE INTO model_version_tags VALUES (?, ?, ?, ?)")
          .run(name, number, tag.key, tag.value);
      })
      .immediate();
  }

  /** Points `alias` at `version`, moving it off any version it named before. */
  setAlias(name: string, alias: string, version: string): void {
    const number = parseVersion(name, version);
    this.db
      .transaction(() => {
        this.requireVersion(name, version, number);
        this.db
          .prepare("INSERT OR REPLACE INTO registered_model_aliases VALUES (?, ?, ?)")
          .run(name, alias, number);
        this.touchModel(name, this.now());
      })
      .immediate();
  }

  /** Removing an alias that is not set is a no-op, as in MLflow; an unknown model is not. */
  deleteAlias(name: string, alias: string): void {
    this.db
      .transaction(() => {
        this.requireModel(name);
        this.db.prepare("DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?").run(name, alias);
      })
      .immediate();
  }

  getVersionByAlias(name: string, alias: string): ModelVersion {
    const row = this.db
      .prepare("SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?")
      .get(name, alias) as { version: number } | undefined;
    if (row === undefined) {
      this.requireModel(name);
      throw notFound(
        `Registered model alias ${alias} not found for model ${name}`,
        "set it with setAlias; getRegisteredModel lists the model's aliases",
      );
    }
    return this.getVersion(name, String(row.version));
  }

  private requireModel(name: string): void {
    if (this.db.prepare("SELECT 1 FROM registered_models WHERE name = ?").get(name) === undefined) {
      throw modelNotFound(name);
    }
  }

  private requireVersion(name: string, version: string, number: number): void {
    if (
      this.db.prepare("SELECT 1 FROM model_versions WHERE name = ? AND version = ?").get(name, number) ===
      undefined
    ) {
      this.requireModel(name);
      throw versionNotFound(name, version);
    }
  }

  private upsertModelTag(name: string, tag: Tag): void {
    this.requireModel(name);
    this.db
      .prepare("INSERT OR REPLACE INTO registered_model_tags VALUES (?, ?, ?)")
      .run(name, tag.key, tag.value);
  }

  private touchModel(name: string, time: number): void {
    this.db.prepare("UPDATE registered_models SET last_updated_time = ? WHERE name = ?").run(time, name);
  }

  private toModels(rows: readonly ModelRow[]): RegisteredModel[] {
    if (rows.length === 0) return [];
    const names = rows.map((row) => row.name);
    const marks = names.map(() => "?").join(",");
    const tags = groupBy(
      this.db
        .prepare(`SELECT name, key, value FROM registered_model_tags WHERE name IN (${marks}) ORDER BY key`)
        .all(...names) as (TagRow & { name: string })[],
      (row) => row.name,
    );
    const aliases = groupBy(
      this.db
        .prepare(
          `SELECT name, alias, version FROM registered_model_aliases WHERE name IN (${marks}) ORDER BY alias`,
        )
        .all(...names) as { name: string; alias: string; version: number }[],
      (row) => row.name,
    );
    const latest = new Map(
      (
        this.db
          .prepare(
            `SELECT name, MAX(version) AS latest FROM model_versions WHERE name IN (${marks}) GROUP BY name`,
          )
          .all(...names) as { name: string; latest: number }[]
      ).map((row) => [row.name, String(row.latest)]),
    );
    return rows.map((row) => {
      const latestVersion = latest.get(row.name);
      return {
        name: row.name,
        creationTimestamp: row.creation_time,
        lastUpdatedTimestamp: row.last_updated_time,
        description: row.description,
        tags: toTags(tags.get(row.name) ?? []),
        aliases: (aliases.get(row.name) ?? []).map((a) => ({ alias: a.alias, version: String(a.version) })),
        ...(latestVersion === undefined ? {} : { latestVersion }),
      };
    });
  }

  /** Versions of one model each (callers never mix models), with their tags and aliases. */
  private toVersions(rows: readonly VersionRow[]): ModelVersion[] {
    const first = rows[0];
    if (first === undefined) return [];
    const tags = groupBy(
      this.db
        .prepare("SELECT version, key, value FROM model_version_tags WHERE name = ? ORDER BY key")
        .all(first.name) as (TagRow & { version: number })[],
      (row) => row.version,
    );
    const aliases = groupBy(
      this.db
        .prepare("SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias")
        .all(first.name) as { alias: string; version: number }[],
      (row) => row.version,
    );
    return rows.map((row) => ({
      name: row.name,
      version: String(row.version),
      creationTimestamp: row.creation_time,
      lastUpdatedTimestamp: row.last_updated_time,
      description: row.description,
      source: row.source,
      runId: row.run_id,
      status: row.status,
      tags: toTags(tags.get(row.version) ?? []),
      aliases: (aliases.get(row.version) ?? []).map((a) => a.alias),
    }));
  }
}
