/**
 * Small zod builders that carry their own rule text, so every problem reads the same way
 * (`training.batch_size: -4 must be an integer >= 1`) instead of zod's default wording.
 *
 * Convention: a rule message starts with "must" and describes the whole rule, because the
 * error formatter prints it after the offending value (or after `(got …)` for a wrong type).
 */
import * as z from "zod";
import { didYouMean } from "../suggest.js";

/** Bounds of a numeric rule; `gt`/`lt` are exclusive, `min`/`max` inclusive. */
export interface Bounds {
  min?: number;
  max?: number;
  gt?: number;
  lt?: number;
}

function describeBounds(bounds: Bounds): string {
  const parts: string[] = [];
  if (bounds.min !== undefined) parts.push(`>= ${bounds.min}`);
  if (bounds.gt !== undefined) parts.push(`> ${bounds.gt}`);
  if (bounds.max !== undefined) parts.push(`<= ${bounds.max}`);
  if (bounds.lt !== undefined) parts.push(`< ${bounds.lt}`);
  return parts.join(" and ");
}

function ruleText(kind: "an integer" | "a number", bounds: Bounds, nullable: boolean): string {
  const range = describeBounds(bounds);
  const what = range === "" ? kind : `${kind} ${range}`;
  return nullable ? `must be null or ${what}` : `must be ${what}`;
}

function applyBounds<T extends z.ZodNumber>(schema: T, bounds: Bounds, error: string): T {
  let s = schema;
  if (bounds.min !== undefined) s = s.gte(bounds.min, { error }) as T;
  if (bounds.gt !== undefined) s = s.gt(bounds.gt, { error }) as T;
  if (bounds.max !== undefined) s = s.lte(bounds.max, { error }) as T;
  if (bounds.lt !== undefined) s = s.lt(bounds.lt, { error }) as T;
  return s;
}

/** An integer within `bounds`, e.g. `int({ min: 1 })` → "must be an integer >= 1". */
export function int(bounds: Bounds = {}): z.ZodNumber {
  const error = ruleText("an integer", bounds, false);
  return applyBounds(z.int({ error }), bounds, error);
}

/** Null or an integer within `bounds` (null usually means "derive it" or "off"). */
export function nullableInt(bounds: Bounds = {}): z.ZodNullable<z.ZodNumber> {
  const error = ruleText("an integer", bounds, true);
  return applyBounds(z.int({ error }), bounds, error).nullable();
}

/** A finite number within `bounds`, e.g. `num({ gt: 0 })` → "must be a number > 0". */
export function num(bounds: Bounds = {}): z.ZodNumber {
  const error = ruleText("a number", bounds, false);
  return applyBounds(z.number({ error }), bounds, error);
}

/** Null or a finite number within `bounds`. */
export function nullableNum(bounds: Bounds = {}): z.ZodNullable<z.ZodNumber> {
  const error = ruleText("a number", bounds, true);
  return applyBounds(z.number({ error }), bounds, error).nullable();
}

/** A non-empty string; `what` names it in the rule ("a path", "a host name"). */
export function text(what = "a non-empty string"): z.ZodString {
  const error = `must be ${what}`;
  return z.string({ error }).min(1, { error });
}

/** A string matching `pattern`; `rule` is the full explanation ("must look like 15s, 500ms, 1m or 1h"). */
export function matching(pattern: RegExp, rule: string): z.ZodString {
  return z.string({ error: rule }).regex(pattern, { error: rule });
}

/** One of a closed list of strings: `must be one of "adam", "adamw", "sgd"`. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.map((v) => `"${v}"`).join(", ")}` });
}

/** true or false (YAML's yes/no are strings in YAML 1.2, so they are rejected with a clear rule). */
export function bool(): z.ZodBoolean {
  return z.boolean({ error: "must be true or false" });
}

/**
 * Adds one cross-field problem. When `value` is given it is printed before the rule
 * (`features[3].slow: 26 must be greater than fast (30)`); otherwise the rule stands alone.
 */
export function addRule(
  ctx: z.RefinementCtx,
  path: readonly PropertyKey[],
  rule: string,
  value?: { value: unknown },
): void {
  ctx.addIssue({
    code: "custom",
    path: [...path],
    message: rule,
    ...(value === undefined ? {} : { input: value.value }),
    // scopeDepth lets the loader find the refined object (and so the overrides that may have caused this).
    params: { showValue: value !== undefined, scopeDepth: path.length },
  });
}

/**
 * Rejects record keys that are not in `allowed`, like a strict object would, with a suggestion;
 * used for maps keyed by a closed set of names (architectures) whose entries are all optional.
 */
export function checkKeys(
  ctx: z.RefinementCtx,
  record: object,
  allowed: readonly string[],
  what: string,
): void {
  for (const key of Object.keys(record)) {
    if (allowed.includes(key)) continue;
    const hint = didYouMean(key, allowed) || ` (use one of ${allowed.join(", ")})`;
    ctx.addIssue({
      code: "custom",
      path: [key],
      message: `unknown ${what}${hint}`,
      params: { showValue: false, unknownKey: true },
    });
  }
}
