/**
 * Reads the five configuration files, applies environment overrides, validates everything at once
 * and reports every problem with its file, line and key path.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type * as z from "zod";
import { ConfigError } from "../core/errors.js";
import { applyEnvOverrides, type EnvOverride } from "./env.js";
import { describeIssue, type IssueProblem } from "./issues.js";
import {
  CONFIG_FILES,
  type ConfigFileName,
  configSchema,
  isSectionName,
  SECTION_FILES,
  SECTION_NAMES,
  sectionsOf,
} from "./schema/index.js";
import { kindOf, showPath, showValue } from "./show-value.js";
import { didYouMean } from "./suggest.js";
import { parseYamlSource, type YamlSource } from "./yaml-source.js";

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Directory holding the YAML files; missing directory or files mean defaults. */
  configDir: string;
  /** Environment to read `CRYPTOML_…__…` overrides from. Default: none (pass `process.env` to honour them). */
  env?: NodeJS.ProcessEnv;
}

/** The fully resolved configuration: every default filled in, snake_case keys as in the YAML files. */
export type ResolvedConfig = z.output<typeof configSchema>;

export interface LoadedConfig {
  config: ResolvedConfig;
  /** The five files, in reading order, and whether each was present. */
  files: { name: string; path: string; found: boolean }[];
  /** Environment overrides applied, in the order applied; `path` is dotted (`training.batch_size`). */
  overrides: { variable: string; path: string; value: unknown }[];
}

export const CONFIG_HINT = "fix the values above, then run `cryptoml config check`";

/** A problem and where it sorts: files in reading order by line, then environment variables. */
interface Located {
  order: number;
  line: number;
  text: string;
}

/** A problem inside one file, before it is given the file's sort order. */
type FileProblem = Omit<Located, "order">;

let cachedDefaults: ResolvedConfig | undefined;

/** The configuration used when no file says otherwise (a fresh copy each call). */
export function defaultConfig(): ResolvedConfig {
  cachedDefaults ??= configSchema.parse({});
  return structuredClone(cachedDefaults);
}

async function readIfPresent(path: string): Promise<{ text?: string; problem?: string }> {
  try {
    return { text: await readFile(path, "utf8") };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return {};
    const reason =
      code === "EISDIR" ? "is a directory, not a YAML file" : `cannot be read (${code ?? String(error)})`;
    return { problem: `${path}: ${reason}` };
  }
}

async function checkDir(configDir: string): Promise<string | undefined> {
  try {
    const info = await stat(configDir);
    return info.isDirectory()
      ? undefined
      : `${configDir}: is not a directory (pass --config-dir with a directory)`;
  } catch {
    return undefined; // no directory: every file takes its defaults
  }
}

function problemAt(
  source: YamlSource,
  path: readonly PropertyKey[],
  text: string,
  at: "value" | "key",
): FileProblem {
  const line = source.line(path, at);
  return { line, text: `${source.path}:${line} ${showPath(path)}: ${text}` };
}

/** Moves the file's sections into `raw`, reporting non-mappings, unknown sections and misplaced ones. */
function collectSections(
  file: ConfigFileName,
  source: YamlSource,
  raw: Record<string, unknown>,
  problems: FileProblem[],
): void {
  const value = source.value;
  if (value === null || value === undefined) return; // empty file: all defaults
  const allowed = sectionsOf(file);
  if (typeof value !== "object" || Array.isArray(value)) {
    const line = source.line([]);
    const expected = `a mapping of sections (${allowed.join(", ")})`;
    const got = `${kindOf(value)} ${showValue(value)}`;
    problems.push({ line, text: `${source.path}:${line} top level must be ${expected} (got ${got})` });
    return;
  }
  for (const [section, body] of Object.entries(value)) {
    if (!isSectionName(section)) {
      problems.push(
        problemAt(source, [section], `unknown section${didYouMean(section, SECTION_NAMES)}`, "key"),
      );
    } else if (SECTION_FILES[section] !== file) {
      problems.push(
        problemAt(source, [section], `section belongs in ${SECTION_FILES[section]}, not ${file}`, "key"),
      );
    } else if (body !== null) {
      // `training:` with every key commented out means "all defaults", like an empty file.
      raw[section] = body;
    }
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Whether `prefix` is a leading part of `path`. */
const startsWith = (path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean =>
  prefix.length <= path.length && prefix.every((segment, i) => segment === path[i]);

/**
 * The override a problem is blamed on: one that set the path or an ancestor; for a cross-field rule,
 * also one that set any field of the conflicting object (the file may hold the other half, but the
 * override is what changed).
 */
function overrideFor(problem: IssueProblem, overrides: readonly EnvOverride[]): EnvOverride | undefined {
  const reversed = [...overrides].reverse(); // the last override applied wins
  const scope = problem.scope;
  return (
    reversed.find((o) => startsWith(problem.path, o.path)) ??
    (scope ? reversed.find((o) => startsWith(o.path, scope)) : undefined)
  );
}

/** Gives each validation problem its place: the override that caused it, or its file and line. */
function locateIssues(
  issues: readonly z.core.$ZodIssue[],
  raw: Record<string, unknown>,
  overrides: readonly EnvOverride[],
  sources: ReadonlyMap<ConfigFileName, YamlSource>,
  configDir: string,
): Located[] {
  const envOrder = CONFIG_FILES.length;
  return issues.flatMap((issue) =>
    describeIssue(issue, raw, configSchema).map((problem): Located => {
      const where = `${showPath(problem.path)}: ${problem.text}`;
      const override = overrideFor(problem, overrides);
      if (override) return { order: envOrder, line: 0, text: `env ${override.variable} ${where}` };
      const section = String(problem.path[0]);
      const file = isSectionName(section) ? SECTION_FILES[section] : CONFIG_FILES[0];
      const source = sources.get(file);
      const order = CONFIG_FILES.indexOf(file);
      if (!source) return { order, line: 0, text: `${join(configDir, file)} ${where}` };
      const line = source.line(problem.path, problem.at);
      return { order, line, text: `${source.path}:${line} ${where}` };
    }),
  );
}

/**
 * Loads, merges and validates the configuration in `configDir`.
 *
 * @throws ConfigError listing every problem across all files and overrides, one line each.
 */
export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const { configDir, env = {} } = options;
  const located: Located[] = [];
  const dirProblem = await checkDir(configDir);
  if (dirProblem) located.push({ order: -1, line: 0, text: dirProblem });

  const raw: Record<string, unknown> = {};
  const sources = new Map<ConfigFileName, YamlSource>();
  const files: LoadedConfig["files"] = [];
  for (const [order, name] of CONFIG_FILES.entries()) {
    const path = join(configDir, name);
    const read = dirProblem ? {} : await readIfPresent(path);
    files.push({ name, path, found: read.text !== undefined });
    if (read.problem) located.push({ order, line: 0, text: read.problem });
    if (read.text === undefined) continue;
    const source = parseYamlSource(path, read.text);
    sources.set(name, source);
    const problems = [...source.syntaxErrors];
    if (problems.length === 0) collectSections(name, source, raw, problems);
    located.push(...problems.map((p) => ({ order, ...p })));
  }

  const envOrder = CONFIG_FILES.length;
  const applied = applyEnvOverrides(raw, env, defaultConfig());
  located.push(...applied.problems.map((text) => ({ order: envOrder, line: 0, text })));

  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success)
    located.push(...locateIssues(result.error.issues, raw, applied.overrides, sources, configDir));
  if (located.length > 0 || !result.success) {
    // Stable sort: files in reading order by line (zod's order within a line), then env lines by variable.
    located.sort(
      (a, b) => a.order - b.order || a.line - b.line || (a.order === envOrder ? compare(a.text, b.text) : 0),
    );
    throw new ConfigError(
      located.map((p) => p.text),
      { hint: CONFIG_HINT },
    );
  }
  return {
    config: result.data,
    files,
    overrides: applied.overrides.map((o) => ({
      variable: o.variable,
      path: showPath(o.path),
      value: o.value,
    })),
  };
}
