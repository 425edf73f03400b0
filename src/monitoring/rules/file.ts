/**
 * The rules file of `cryptoml monitor`: YAML that changes built-in rules by name (thresholds, `for`,
 * levels, or `disabled: true`) and adds new rules in the same condition shapes. Every problem names
 * file:line:column of the offending node and what to write instead.
 *
 * ```yaml
 * rules:
 *   - name: DiskHigh            # a built-in rule: only the fields given change
 *     condition: { value: 0.95 }
 *     for: 10m
 *   - name: DrawdownBeyondLimit
 *     disabled: true
 *   - name: BtcValLossHigh      # a new rule: condition, summary and description are required
 *     condition: { kind: threshold, metric: cryptoml_training_loss, labels: { split: val }, op: ">", value: 2 }
 *     for: 5m
 *     summary: Validation loss of {{symbol}} is over 2
 *     description: Check the data of {{symbol}}.
 * ```
 */
import { readFile } from "node:fs/promises";
import { isMap, isNode, LineCounter, type Node, parseDocument } from "yaml";
import * as z from "zod";
import { levelProblems } from "../../config/schema/alerting.js";
import { didYouMean } from "../../config/suggest.js";
import { ConfigError } from "../../core/errors.js";
import { DURATION_PATTERN, DURATION_RULE, durationMs } from "../alerts/labels.js";
import { METRICS, SCRAPE_METRICS, selectableMetricSpec } from "../catalog.js";
import { DEFAULT_LEVELS, DEFAULT_RULES } from "./defaults.js";
import type { AlertRule, Condition, EscalationLevel } from "./types.js";

const RULE_KEYS = ["name", "disabled", "condition", "for", "summary", "description", "labels", "levels"];
const CONDITION_KEYS = ["kind", "metric", "labels", "op", "value", "seconds", "fn", "window", "factor"];
const LEVEL_KEYS = ["severity", "after", "receivers", "repeat"];
const KIND_FIELDS: Readonly<Record<Condition["kind"], readonly string[]>> = {
  threshold: ["op", "value"],
  not_finite: [],
  stale: ["seconds"],
  window: ["fn", "window", "op", "factor"],
};

const duration = z.string({ error: DURATION_RULE }).regex(DURATION_PATTERN, { error: DURATION_RULE });
const labelMap = z.record(
  z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: "must be a label name ([a-zA-Z_][a-zA-Z0-9_]*)" }),
  z.string({ error: "must be a string; quote numbers and booleans" }),
  { error: "must be a mapping of label → value" },
);
const opSchema = z.enum([">", ">=", "<", "<=", "==", "!="], {
  error: 'must be one of ">", ">=", "<", "<=", "==", "!=" (quoted)',
});

const levelSchema = z.strictObject({
  severity: z
    .string({ error: "must be a severity name, e.g. warning" })
    .min(1, { error: "must not be empty" }),
  after: duration,
  receivers: z
    .array(z.string({ error: "must be a receiver name" }), {
      error: "must be a list of receiver names, e.g. [log]",
    })
    .min(1, { error: "must name at least one receiver, e.g. [log]" }),
  repeat: duration,
});

const conditionSchema = z.strictObject({
  kind: z
    .enum(["threshold", "not_finite", "stale", "window"], {
      error: "must be one of threshold, not_finite, stale, window",
    })
    .optional(),
  metric: z.string({ error: "must be a metric name from the catalog" }).optional(),
  labels: labelMap.optional(),
  op: opSchema.optional(),
  value: z.number({ error: "must be a number" }).optional(),
  seconds: z
    .number({ error: "must be a number of seconds > 0" })
    .positive({ error: "must be a number of seconds > 0" })
    .optional(),
  fn: z.enum(["min", "max", "avg"], { error: "must be one of min, max, avg" }).optional(),
  window: duration.optional(),
  factor: z.number({ error: "must be a number" }).optional(),
});

const ruleSchema = z.strictObject({
  name: z
    .string({ error: "must be a CamelCase alert name, e.g. TrainingStalled" })
    .regex(/^[A-Z][A-Za-z0-9]*$/, { error: "must be a CamelCase alert name, e.g. TrainingStalled" }),
  disabled: z.boolean({ error: "must be true or false" }).optional(),
  condition: conditionSchema.optional(),
  for: duration.optional(),
  summary: z.string({ error: "must be a string" }).optional(),
  description: z.string({ error: "must be a string" }).optional(),
  labels: labelMap.optional(),
  levels: z
    .array(levelSchema, { error: "must be a list of levels" })
    .min(1, { error: "must list at least one level" })
    .optional(),
});

const fileSchema = z.strictObject({ rules: z.array(ruleSchema, { error: "must be a list of rules" }) });

type RuleEntry = z.output<typeof ruleSchema>;
type Path = readonly (string | number)[];

/** Options of {@link parseRulesFile}. */
export interface RulesFileOptions {
  /** The rules the file changes; default the built-in {@link DEFAULT_RULES}. */
  readonly defaults?: readonly AlertRule[];
  /**
   * Levels for new rules that give none, and for built-in rules on the standard ladder
   * ({@link DEFAULT_LEVELS}); default DEFAULT_LEVELS. Rules with their own ladder keep it.
   */
  readonly defaultLevels?: readonly EscalationLevel[];
}

/** Applies `defaultLevels` to the built-in rules without reading any file. */
export function builtInRules(options: RulesFileOptions = {}): AlertRule[] {
  const levels = options.defaultLevels ?? DEFAULT_LEVELS;
  return (options.defaults ?? DEFAULT_RULES).map((r) => (r.levels === DEFAULT_LEVELS ? { ...r, levels } : r));
}

/** Reads and applies a rules file. @throws ConfigError listing every problem as `file:line:col path: rule`. */
export async function loadRulesFile(path: string, options: RulesFileOptions = {}): Promise<AlertRule[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError([`${path}: cannot read the rules file (${code})`], {
      hint: "fix alerting.rules_file in monitoring.yaml, or remove it to use the built-in rules",
    });
  }
  return parseRulesFile(path, text, options);
}

/** Parses a rules file's text and returns the resulting rules. @throws ConfigError as {@link loadRulesFile}. */
export function parseRulesFile(path: string, text: string, options: RulesFileOptions = {}): AlertRule[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return `${path}:${pos.line}:${pos.col}`;
  };
  const hint = "see the example at the top of src/monitoring/rules/file.ts (docs/monitoring.md)";
  if (doc.errors.length > 0)
    throw new ConfigError(
      doc.errors.map(
        (e) =>
          `${at(e.pos[0])} YAML syntax error: ${(e.message.split("\n")[0] ?? "").replace(/ at line.*$/, "")}`,
      ),
      { hint },
    );
  const locate = (path: Path, key?: string): string => at(nodeAt(doc.contents, path, key));
  const value = doc.toJS() ?? { rules: [] };
  const parsed = fileSchema.safeParse(value);
  if (!parsed.success)
    throw new ConfigError(
      parsed.error.issues.flatMap((i) => describe(i, locate)),
      { hint },
    );
  const problems: string[] = [];
  const rules = mergeRules(parsed.data.rules, options, (p, rule) =>
    problems.push(`${locate(p)} ${show(p)}: ${rule}`),
  );
  if (problems.length > 0) throw new ConfigError(problems, { hint });
  return rules;
}

const show = (path: Path): string =>
  path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");

function allowedKeys(path: Path): readonly string[] {
  const last = path.at(-1);
  if (path.length === 0) return ["rules"];
  if (last === "condition") return CONDITION_KEYS;
  if (path.at(-2) === "levels") return LEVEL_KEYS;
  return RULE_KEYS;
}

function describe(issue: z.core.$ZodIssue, locate: (path: Path, key?: string) => string): string[] {
  const path = issue.path as (string | number)[];
  if (issue.code === "unrecognized_keys")
    return issue.keys.map((key) => {
      const allowed = allowedKeys(path);
      const hint = didYouMean(key, allowed) || ` (use one of ${allowed.join(", ")})`;
      return `${locate(path, key)} ${show([...path, key])}: unknown key${hint}`;
    });
  return [`${locate(path)} ${show(path) || "top level"}: ${issue.message}`];
}

/** The start offset of the node at `path` (or of `key` inside it), else of its nearest written ancestor. */
function nodeAt(root: unknown, path: Path, key?: string): number {
  let node: unknown = root;
  let offset = (root as Node | null)?.range?.[0] ?? 0;
  const steps = key === undefined ? path : [...path, key];
  for (const [i, step] of steps.entries()) {
    if (!isNode(node) || !("items" in node)) break;
    const items = (node as { items: unknown[] }).items;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => String((p.key as { value?: unknown } | null)?.value) === String(step),
      );
      if (!pair) break;
      const isKey = key !== undefined && i === steps.length - 1;
      const target = isKey || pair.value === null ? pair.key : pair.value;
      offset = (target as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else {
      const item = typeof step === "number" ? items[step] : undefined;
      if (item === undefined) break;
      offset = (item as Node).range?.[0] ?? offset;
      node = item;
    }
  }
  return offset;
}

type Report = (path: Path, rule: string) => void;

function mergeRules(entries: readonly RuleEntry[], options: RulesFileOptions, report: Report): AlertRule[] {
  const defaultLevels = options.defaultLevels ?? DEFAULT_LEVELS;
  const rules = builtInRules(options);
  const seen = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    const base: Path = ["rules", i];
    if (seen.has(entry.name))
      report([...base, "name"], `rule ${entry.name} appears twice; merge the two entries`);
    seen.add(entry.name);
    const index = rules.findIndex((r) => r.name === entry.name);
    const builtIn = rules[index];
    if (entry.disabled) {
      if (index >= 0) rules.splice(index, 1);
      continue;
    }
    const merged = builtIn
      ? overrideRule(builtIn, entry, base, report)
      : newRule(entry, base, defaultLevels, report);
    if (merged === undefined) continue;
    if (index >= 0) rules[index] = merged;
    else rules.push(merged);
  }
  return rules;
}

function overrideRule(rule: AlertRule, entry: RuleEntry, base: Path, report: Report): AlertRule | undefined {
  const patch = entry.condition ?? {};
  // A new kind replaces the condition; otherwise the fields given change the built-in's.
  const raw = patch.kind === undefined ? { ...conditionToRaw(rule.condition), ...patch } : patch;
  const condition = buildCondition(
    raw,
    [...base, "condition"],
    report,
    patch.kind === undefined ? rule.name : undefined,
  );
  const levels =
    entry.levels === undefined ? rule.levels : buildLevels(entry.levels, [...base, "levels"], report);
  if (condition === undefined || levels === undefined) return undefined;
  return {
    ...rule,
    condition,
    levels,
    ...(entry.for === undefined ? {} : { forMs: durationMs(entry.for) ?? 0 }),
    ...(entry.summary === undefined ? {} : { summary: entry.summary }),
    ...(entry.description === undefined ? {} : { description: entry.description }),
    ...(entry.labels === undefined ? {} : { labels: { ...rule.labels, ...entry.labels } }),
  };
}

function newRule(
  entry: RuleEntry,
  base: Path,
  defaultLevels: readonly EscalationLevel[],
  report: Report,
): AlertRule | undefined {
  const missing = (["condition", "summary", "description"] as const).filter((k) => entry[k] === undefined);
  for (const key of missing)
    report(
      [...base, "name"],
      `${entry.name} is not a built-in rule, so it needs ${key} (built-in: ${DEFAULT_RULES.map((r) => r.name).join(", ")})`,
    );
  if (missing.length > 0 || entry.condition === undefined) return undefined;
  const condition = buildCondition(entry.condition, [...base, "condition"], report);
  const levels =
    entry.levels === undefined ? defaultLevels : buildLevels(entry.levels, [...base, "levels"], report);
  if (condition === undefined || levels === undefined) return undefined;
  return {
    name: entry.name,
    condition,
    forMs: entry.for === undefined ? 0 : (durationMs(entry.for) ?? 0),
    summary: entry.summary ?? "",
    description: entry.description ?? "",
    ...(entry.labels === undefined ? {} : { labels: entry.labels }),
    levels,
  };
}

type RawCondition = z.output<typeof conditionSchema>;

function conditionToRaw(condition: Condition): RawCondition {
  if (condition.kind !== "window") return { ...condition };
  const { windowMs, ...rest } = condition;
  return { ...rest, window: `${windowMs}ms` };
}

/** Checks a condition's fields against its kind and the metric catalog. `builtIn` names the rule being changed. */
function buildCondition(
  raw: RawCondition,
  path: Path,
  report: Report,
  builtIn?: string,
): Condition | undefined {
  let ok = true;
  const fail: Report = (p, rule) => {
    ok = false;
    report(p, rule);
  };
  if (raw.kind === undefined) {
    fail([...path, "kind"], "must be given for a new condition: one of threshold, not_finite, stale, window");
    return undefined;
  }
  const own = KIND_FIELDS[raw.kind];
  for (const field of ["op", "value", "seconds", "fn", "window", "factor"] as const) {
    const given = raw[field] !== undefined;
    if (given && !own.includes(field))
      fail(
        [...path, field],
        `${builtIn ? `${builtIn}'s condition` : "a condition"} of kind ${raw.kind} has no ${field}${own.length ? ` (it has ${own.join(", ")})` : ""}; to change the kind, give kind too`,
      );
    if (!given && own.includes(field)) fail(path, `a ${raw.kind} condition needs ${field}`);
  }
  if (raw.metric === undefined) fail(path, "needs metric: a metric name from src/monitoring/catalog.ts");
  else checkMetric(raw.metric, raw.labels, path, fail);
  if (!ok || raw.metric === undefined) return undefined;
  const selector = { metric: raw.metric, ...(raw.labels === undefined ? {} : { labels: raw.labels }) };
  switch (raw.kind) {
    case "threshold":
      return { kind: "threshold", ...selector, op: raw.op ?? ">", value: raw.value ?? 0 };
    case "not_finite":
      return { kind: "not_finite", ...selector };
    case "stale":
      return { kind: "stale", ...selector, seconds: raw.seconds ?? 0 };
    case "window":
      return {
        kind: "window",
        ...selector,
        fn: raw.fn ?? "avg",
        windowMs: durationMs(raw.window ?? "") ?? 0,
        op: raw.op ?? ">",
        factor: raw.factor ?? 1,
      };
  }
}

function checkMetric(
  metric: string,
  labels: Readonly<Record<string, string>> | undefined,
  path: Path,
  fail: Report,
): void {
  const spec = selectableMetricSpec(metric);
  if (spec === undefined) {
    fail(
      [...path, "metric"],
      `${metric} is not a cryptoml metric${didYouMean(
        metric,
        [...METRICS, ...SCRAPE_METRICS].map((m) => m.name),
      )}; see src/monitoring/catalog.ts`,
    );
    return;
  }
  const known = spec.labels;
  for (const name of Object.keys(labels ?? {}))
    if (!known.includes(name))
      fail(
        [...path, "labels", name],
        `${metric} has no label ${name}${known.length ? ` (it has ${known.join(", ")})` : " (it has no labels)"}`,
      );
}

function buildLevels(
  raw: readonly z.output<typeof levelSchema>[],
  path: Path,
  report: Report,
): EscalationLevel[] | undefined {
  const levels = raw.map((l) => ({
    severity: l.severity,
    afterMs: durationMs(l.after) ?? 0,
    receivers: l.receivers,
    repeatMs: durationMs(l.repeat) ?? 0,
  }));
  // The same checks as alerting.default_levels, so a ladder is valid in one place iff in the other.
  const problems = levelProblems(raw);
  for (const problem of problems) report([...path, problem.index, problem.field], problem.rule);
  return problems.length === 0 ? levels : undefined;
}
