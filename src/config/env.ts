/**
 * Environment overrides: `CRYPTOML_<SECTION>__<KEY>[__<SUBKEY>…]=value`.
 *
 * Levels are separated by a double underscore and lower-cased, so `CRYPTOML_TRAINING__BATCH_SIZE`
 * names `training.batch_size` (single underscores stay inside a key). Values are parsed as YAML
 * (`32` is a number, `[BTCUSDT, ETHUSDT]` a list). Variables without `__` after the prefix
 * (`CRYPTOML_HOME`) are not overrides and are ignored, which leaves room for other settings.
 */
import { parse as parseYaml } from "yaml";
import { SECTION_NAMES } from "./schema/index.js";
import { showPath, showValue } from "./show-value.js";
import { didYouMean } from "./suggest.js";

export const ENV_PREFIX = "CRYPTOML_";
const LEVEL_SEPARATOR = "__";

/** One override as applied: `path` uses numbers for list indices. */
export interface EnvOverride {
  readonly variable: string;
  readonly path: (string | number)[];
  readonly value: unknown;
}

export interface EnvOverrideResult {
  readonly overrides: EnvOverride[];
  /** Already formatted `env VAR path: …` lines. */
  readonly problems: string[];
}

type Container = Record<string, unknown> | unknown[];

const isContainer = (value: unknown): value is Container => value !== null && typeof value === "object";

/** The variables that are overrides, sorted by name so they apply in a stable order. */
function overrideVariables(env: NodeJS.ProcessEnv): [string, string][] {
  return Object.entries(env)
    .filter((entry): entry is [string, string] => entry[0].startsWith(ENV_PREFIX) && entry[1] !== undefined)
    .filter(([name]) => name.slice(ENV_PREFIX.length).includes(LEVEL_SEPARATOR))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function parseValue(text: string): { value: unknown } | { error: string } {
  try {
    return { value: parseYaml(text) };
  } catch (error) {
    const reason = error instanceof Error ? (error.message.split("\n")[0] ?? error.message) : String(error);
    return { error: `YAML syntax error in value: ${reason.replace(/\s*at line \d+, column \d+:?\s*$/, "")}` };
  }
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const segment of path)
    node = isContainer(node) ? (node as Record<string | number, unknown>)[segment] : undefined;
  return node;
}

/**
 * Sets `keys` inside `raw`, creating missing levels from `defaults` (so overriding one field of a
 * default search space keeps the rest of it). Returns the path with list indices as numbers, or a problem.
 */
function setPath(
  raw: Record<string, unknown>,
  keys: readonly string[],
  value: unknown,
  defaults: unknown,
): { path: (string | number)[] } | { error: string; path: (string | number)[] } {
  const path: (string | number)[] = [];
  let container: Container = raw;
  for (const [index, key] of keys.entries()) {
    let segment: string | number = key;
    if (Array.isArray(container)) {
      const position = /^\d+$/.test(key) ? Number(key) : -1;
      if (position < 0 || position >= container.length) {
        return { path, error: `"${key}" is not an index of this list (0 to ${container.length - 1})` };
      }
      segment = position;
    }
    path.push(segment);
    if (index === keys.length - 1) break;
    const slot = container as Record<string | number, unknown>;
    if (slot[segment] === undefined || slot[segment] === null) {
      const fallback = valueAt(defaults, path);
      slot[segment] = isContainer(fallback) ? structuredClone(fallback) : {};
    }
    const next = slot[segment];
    if (!isContainer(next)) {
      return { path, error: `is ${showValue(next)}, not a mapping, so it has no key "${keys[index + 1]}"` };
    }
    container = next;
  }
  (container as Record<string | number, unknown>)[path[path.length - 1] as string | number] = value;
  return { path };
}

/**
 * Applies every `CRYPTOML_…__…` variable of `env` to `raw` (the merged file sections) in place.
 * `defaults` is the fully resolved default configuration. Problems are collected, never thrown.
 */
export function applyEnvOverrides(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  defaults: unknown,
): EnvOverrideResult {
  const overrides: EnvOverride[] = [];
  const problems: string[] = [];
  for (const [variable, text] of overrideVariables(env)) {
    const keys = variable.slice(ENV_PREFIX.length).toLowerCase().split(LEVEL_SEPARATOR);
    const section = keys[0] ?? "";
    if (keys.some((key) => key === "")) {
      problems.push(`env ${variable}: empty level in the name (use exactly two underscores between levels)`);
      continue;
    }
    if (!(SECTION_NAMES as string[]).includes(section)) {
      problems.push(`env ${variable} ${section}: unknown section${didYouMean(section, SECTION_NAMES)}`);
      continue;
    }
    const parsed = parseValue(text);
    if ("error" in parsed) {
      problems.push(`env ${variable} ${keys.join(".")}: ${parsed.error}`);
      continue;
    }
    const result = setPath(raw, keys, parsed.value, defaults);
    if ("error" in result) {
      problems.push(`env ${variable} ${showPath(result.path)}: ${result.error}`);
      continue;
    }
    overrides.push({ variable, path: result.path, value: parsed.value });
  }
  return { overrides, problems };
}
