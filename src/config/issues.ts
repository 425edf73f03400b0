/**
 * Turns zod issues into our own one-line wording: `-4 must be an integer >= 1`,
 * `must be a number (got string "abc")`, `unknown key (did you mean "window"?)`.
 */
import type * as z from "zod";
import { knownKeys } from "./schema-walk.js";
import { kindOf, showValue } from "./show-value.js";
import { didYouMean } from "./suggest.js";

/** One problem before it is given a location: the key path, the text after `path: `, and what to point at. */
export interface IssueProblem {
  readonly path: PropertyKey[];
  readonly text: string;
  /** "key" for unknown keys (point at the key itself), "value" otherwise. */
  readonly at: "value" | "key";
  /** For cross-field rules, the path of the object whose fields conflict (a sibling may be the cause). */
  readonly scope?: PropertyKey[];
}

type Issue = z.core.$ZodIssue;

const EXPECTED: Record<string, string> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "a mapping",
  record: "a mapping",
  null: "null",
};

const quoteAll = (values: readonly unknown[]): string => values.map((v) => showValue(v)).join(", ");

function bound(origin: string, comparison: string, limit: unknown): string {
  if (origin === "array" || origin === "set") return `must have ${comparison} ${String(limit)} item(s)`;
  if (origin === "string") return `must be ${comparison} ${String(limit)} character(s) long`;
  return `must be a number ${comparison} ${String(limit)}`;
}

/** The rule an issue broke, in our words; a schema's own "must …" message wins. */
function ruleOf(issue: Issue): string {
  if (issue.message.startsWith("must")) return issue.message;
  switch (issue.code) {
    case "invalid_type":
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}`;
    case "too_small":
      return bound(issue.origin, issue.inclusive ? ">=" : ">", issue.minimum);
    case "too_big":
      return bound(issue.origin, issue.inclusive ? "<=" : "<", issue.maximum);
    case "invalid_value":
      return issue.values.length === 1
        ? `must be ${showValue(issue.values[0])}`
        : `must be one of ${quoteAll(issue.values)}`;
    case "invalid_format":
      return issue.format === "regex" && issue.pattern
        ? `must match ${issue.pattern}`
        : `must be a valid ${issue.format}`;
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}`;
    case "invalid_union": {
      const options = (issue as { options?: unknown[] }).options;
      return options ? `must be one of ${quoteAll(options)}` : "does not match any allowed form";
    }
    default:
      return issue.message;
  }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

/** A wrong type reads "rule (got kind value)"; a wrong value of the right type reads "value rule". */
function describeMismatch(value: unknown, rule: string, numeric: boolean): string {
  if (value === undefined) return `missing (${rule})`;
  if (numeric && typeof value === "number") return `${showValue(value)} ${rule}`;
  const kind = kindOf(value);
  return kind === "null" ? `${rule} (got null)` : `${rule} (got ${kind} ${showValue(value)})`;
}

/**
 * Describes one zod issue as one or more problems (an unknown-keys issue lists several keys).
 * `root` is the validated input (for values zod does not report); `schema` supplies the known keys
 * for suggestions.
 */
export function describeIssue(issue: Issue, root: unknown, schema: z.ZodType): IssueProblem[] {
  const path = [...issue.path];
  const value = "input" in issue ? issue.input : valueAt(root, path);
  const problem = (text: string, at: "value" | "key" = "value", scope?: PropertyKey[]): IssueProblem => ({
    path,
    text,
    at,
    ...(scope ? { scope } : {}),
  });
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = knownKeys(schema, path, root);
      return issue.keys.map((key) => ({
        path: [...path, key],
        text: `unknown key${didYouMean(key, known)}`,
        at: "key",
      }));
    }
    case "invalid_type":
      return [
        problem(
          describeMismatch(value, ruleOf(issue), issue.expected === "number" || issue.expected === "int"),
        ),
      ];
    case "invalid_union": {
      if ("discriminator" in issue) {
        const tag = valueAt(root, path);
        return [
          problem(tag === undefined ? `missing (${ruleOf(issue)})` : `${showValue(tag)} ${ruleOf(issue)}`),
        ];
      }
      return [problem(describeMismatch(value, ruleOf(issue), false))];
    }
    case "custom": {
      const params = (issue.params ?? {}) as {
        showValue?: boolean;
        unknownKey?: boolean;
        scopeDepth?: number;
      };
      if (params.unknownKey) return [problem(issue.message, "key")];
      // A plain .refine() judges the value itself, so show it; addRule says explicitly.
      const text = (params.showValue ?? true) ? `${showValue(value)} ${issue.message}` : issue.message;
      return [problem(text, "value", path.slice(0, path.length - (params.scopeDepth ?? 0)))];
    }
    default:
      return [
        problem(value === undefined ? `missing (${ruleOf(issue)})` : `${showValue(value)} ${ruleOf(issue)}`),
      ];
  }
}
