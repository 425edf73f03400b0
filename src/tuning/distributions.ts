/**
 * Distributions: construction with Optuna's validation, the external ↔ internal conversion, and
 * Optuna's JSON form (`distribution_to_json`), byte for byte, so that journals written here read in
 * Optuna and the reverse. Python's `json.dumps` differs from `JSON.stringify` in three ways that
 * matter: `", "`/`": "` separators, floats always written as floats (`0.0`, `1e-05`), and non-ASCII
 * escaped; {@link pyJsonDumps} and {@link pyFloat} reproduce them.
 */
import { TuningError } from "./errors.js";
import type { CategoricalChoice, Distribution, ParamValue } from "./types.js";

export type FloatDistribution = Extract<Distribution, { kind: "float" }>;
export type IntDistribution = Extract<Distribution, { kind: "int" }>;
export type CategoricalDistribution = Extract<Distribution, { kind: "categorical" }>;

/** Where non-fatal advice goes (Optuna's `optuna_warn`); Node's warning channel by default. */
export type WarningSink = (message: string) => void;
export const defaultWarn: WarningSink = (message) => process.emitWarning(message, { type: "TuningWarning" });

const invalid = (message: string, hint?: string): TuningError =>
  new TuningError("INVALID_DISTRIBUTION", message, hint === undefined ? {} : { hint });

/** A decimal number as coefficient × 10^exp, from the shortest repr (what Python's `Decimal(str(x))` sees). */
interface Dec {
  coef: bigint;
  exp: number;
}
function toDec(x: number): Dec {
  const [mant = "0", e = "0"] = x.toExponential().split("e");
  const frac = mant.split(".")[1]?.length ?? 0;
  return { coef: BigInt(mant.replace(".", "")), exp: Number(e) - frac };
}
function alignDec(values: Dec[]): bigint[] {
  const exp = Math.min(...values.map((d) => d.exp));
  return values.map((d) => d.coef * 10n ** BigInt(d.exp - exp));
}

/** Optuna's `_adjust_discrete_uniform_high`: the largest low + k·step ≤ high, in decimal arithmetic. */
function adjustFloatHigh(low: number, high: number, step: number, warn: WarningSink): number {
  const dl = toDec(low);
  const [l, h, s] = alignDec([dl, toDec(high), toDec(step)]) as [bigint, bigint, bigint];
  const r = h - l;
  if (r % s === 0n) return high;
  const exp = Math.min(dl.exp, toDec(high).exp, toDec(step).exp);
  const adjusted = Number(`${(r / s) * s + l}e${exp}`);
  warn(
    `The distribution is specified by [${low}, ${high}] and step=${step}, but the range is not divisible by \`step\`. It will be replaced with [${low}, ${adjusted}].`,
  );
  return adjusted;
}

export interface NumericOptions {
  /** Sample on a log scale (low must be > 0 for floats, >= 1 for ints). Default false. */
  log?: boolean;
  /** Discretisation step; floats default null (continuous), ints default 1. Exclusive with `log`. */
  step?: number | null;
}

/** A validated float distribution; `high` is lowered onto the step grid as Optuna does (with a warning). */
export function floatDistribution(
  low: number,
  high: number,
  options: NumericOptions = {},
  warn: WarningSink = defaultWarn,
): FloatDistribution {
  const log = options.log ?? false;
  const step = options.step ?? null;
  if (!Number.isFinite(low) || !Number.isFinite(high)) {
    throw invalid(`low=${low}, high=${high} must be finite numbers`);
  }
  if (log && step !== null) {
    throw invalid(`step=${step} is not supported with log=true`, "drop `step` or `log`");
  }
  if (low > high) throw invalid(`low=${low} must be <= high=${high}`);
  if (log && low <= 0) throw invalid(`low=${low} must be > 0 when log=true`);
  if (step !== null && !(step > 0 && Number.isFinite(step))) throw invalid(`step=${step} must be > 0`);
  const adjusted = step === null ? high : adjustFloatHigh(low, high, step, warn);
  return { kind: "float", low, high: adjusted, log, step };
}

/** A validated int distribution; `high` is lowered onto the step grid as Optuna does (with a warning). */
export function intDistribution(
  low: number,
  high: number,
  options: NumericOptions = {},
  warn: WarningSink = defaultWarn,
): IntDistribution {
  const log = options.log ?? false;
  const step = options.step ?? 1;
  if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high)) {
    throw invalid(`low=${low}, high=${high} must be integers`);
  }
  if (log && step !== 1) throw invalid(`step=${step} must be 1 when log=true`, "drop `step` or `log`");
  if (low > high) throw invalid(`low=${low} must be <= high=${high}`);
  if (log && low < 1) throw invalid(`low=${low} must be >= 1 when log=true`);
  if (!Number.isSafeInteger(step) || step <= 0) throw invalid(`step=${step} must be a positive integer`);
  let adjusted = high;
  if ((high - low) % step !== 0) {
    adjusted = Math.floor((high - low) / step) * step + low;
    warn(
      `The distribution is specified by [${low}, ${high}] and step=${step}, but the range is not divisible by \`step\`. It will be replaced with [${low}, ${adjusted}].`,
    );
  }
  return { kind: "int", low, high: adjusted, log, step };
}

const isChoice = (c: unknown): c is CategoricalChoice =>
  c === null || typeof c === "string" || typeof c === "number" || typeof c === "boolean";

export function categoricalDistribution(choices: readonly unknown[]): CategoricalDistribution {
  if (!Array.isArray(choices) || choices.length === 0) {
    throw invalid("choices must contain one or more elements");
  }
  for (const c of choices) {
    if (!isChoice(c)) {
      throw invalid(
        `choice ${String(c)} (${typeof c}) is not string | number | boolean | null`,
        "store an index or a name instead",
      );
    }
  }
  return { kind: "categorical", choices: [...(choices as CategoricalChoice[])] };
}

/** Re-validates a distribution built elsewhere (throws INVALID_DISTRIBUTION with the rule broken). */
export function validateDistribution(d: Distribution): Distribution {
  const silent: WarningSink = () => {};
  if (d.kind === "float") return floatDistribution(d.low, d.high, { log: d.log, step: d.step }, silent);
  if (d.kind === "int") return intDistribution(d.low, d.high, { log: d.log, step: d.step }, silent);
  return categoricalDistribution(d.choices);
}

/** Choice equality where NaN equals NaN (Optuna's `_categorical_choice_equal`). */
export const choiceEqual = (a: unknown, b: unknown): boolean =>
  a === b || (typeof a === "number" && typeof b === "number" && Number.isNaN(a) && Number.isNaN(b));

const invalidValue = (message: string): TuningError => new TuningError("INVALID_VALUE", message);

/** The stored float of an external value: the value itself for numbers, the choice index for categoricals. */
export function toInternal(d: Distribution, external: ParamValue): number {
  if (d.kind === "categorical") {
    const index = d.choices.findIndex((c) => choiceEqual(c, external));
    if (index < 0)
      throw invalidValue(
        `${JSON.stringify(external)} is not one of the choices ${JSON.stringify(d.choices)}`,
      );
    return index;
  }
  if (typeof external !== "number" || Number.isNaN(external)) {
    throw invalidValue(`${JSON.stringify(external)} is not a valid number for a ${d.kind} distribution`);
  }
  if (d.log && external <= 0)
    throw invalidValue(`${external} is invalid for a log distribution (must be > 0)`);
  return external;
}

/** The external value of a stored float (ints truncate like Python's `int()`). */
export function toExternal(d: Distribution, internal: number): ParamValue {
  if (d.kind === "float") return internal;
  if (d.kind === "int") return Math.trunc(internal);
  const index = Math.trunc(internal);
  if (index < 0 || index >= d.choices.length) {
    throw invalidValue(`choice index ${internal} is out of range for ${d.choices.length} choices`);
  }
  return d.choices[index] as CategoricalChoice;
}

/** Whether an internal value lies in the distribution (on its step grid for stepped ones). */
export function contains(d: Distribution, internal: number): boolean {
  if (d.kind === "categorical") {
    const index = Math.trunc(internal);
    return index >= 0 && index < d.choices.length;
  }
  if (!(d.low <= internal && internal <= d.high)) return false;
  if (d.kind === "int") return (internal - d.low) % d.step === 0;
  if (d.step === null) return true;
  const k = (internal - d.low) / d.step;
  return Math.abs(k - Math.round(k)) < 1e-8;
}

/** Whether the distribution has one value only (samplers are then skipped). */
export function isSingle(d: Distribution): boolean {
  if (d.kind === "categorical") return d.choices.length === 1;
  if (d.low === d.high) return true;
  if (d.kind === "int") return !d.log && d.high - d.low < d.step;
  if (d.step === null) return false;
  const [l, h, s] = alignDec([toDec(d.low), toDec(d.high), toDec(d.step)]) as [bigint, bigint, bigint];
  return h - l < s;
}

/** The one value of a single distribution (Optuna's `_get_single_value`). */
export function singleValue(d: Distribution): ParamValue {
  return d.kind === "categorical" ? (d.choices[0] as CategoricalChoice) : d.low;
}

/**
 * Why `next` may not follow `previous` under the same parameter name, or null when it may (Optuna's
 * `check_distribution_compatibility`: same kind, same log scale, same categorical choices).
 */
export function incompatibility(previous: Distribution, next: Distribution): string | null {
  if (previous.kind !== next.kind) return `a ${next.kind} distribution cannot follow a ${previous.kind} one`;
  if (previous.kind === "categorical" && next.kind === "categorical") {
    const same =
      previous.choices.length === next.choices.length &&
      previous.choices.every((c, i) => choiceEqual(c, next.choices[i]));
    return same ? null : "categorical choices cannot change (no dynamic value space)";
  }
  if (previous.kind !== "categorical" && next.kind !== "categorical" && previous.log !== next.log) {
    return "the log setting cannot change";
  }
  return null;
}

export const compatible = (a: Distribution, b: Distribution): boolean => incompatibility(a, b) === null;

/** Throws INCOMPATIBLE_DISTRIBUTION naming the parameter when `next` may not follow `previous`. */
export function checkCompatible(name: string, previous: Distribution, next: Distribution): void {
  const why = incompatibility(previous, next);
  if (why !== null) {
    throw new TuningError("INCOMPATIBLE_DISTRIBUTION", `parameter "${name}": ${why}`, {
      hint: "use a new parameter name for a different search space",
    });
  }
}

export function distributionsEqual(a: Distribution, b: Distribution): boolean {
  if (a.kind === "categorical" || b.kind === "categorical") return compatible(a, b);
  return a.kind === b.kind && a.low === b.low && a.high === b.high && a.log === b.log && a.step === b.step;
}

/** Python's `repr(float)`: shortest digits, always a float form, exponent at < 1e-4 or >= 1e16. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant = "", e = "0"] = x.toExponential().split("e");
  const exp = Number(e);
  if (exp < -4 || exp >= 16) return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  const sign = x < 0 ? "-" : "";
  const digits = mant.replace("-", "").replace(".", "");
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  return `${sign}${whole}.${digits.slice(exp + 1) || "0"}`;
}

/** A string as Python's `json.dumps` writes it (ensure_ascii: everything outside space..~ escaped). */
function pyString(s: string): string {
  const named: Record<string, string> = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
  };
  let out = '"';
  for (const ch of s) {
    for (let i = 0; i < ch.length; i++) {
      const unit = ch.charAt(i);
      const code = ch.charCodeAt(i);
      const esc = named[unit];
      if (esc !== undefined) out += esc;
      else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, "0")}`;
      else out += unit;
    }
  }
  return `${out}"`;
}

/**
 * `json.dumps(value)` as Python writes it. JavaScript has one number type, so integral numbers are
 * written as ints; pass floats that must read back as Python floats through {@link pyFloat} yourself.
 */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return Number.isSafeInteger(value) ? String(value) : pyFloat(value);
  if (typeof value === "string") return pyString(value);
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(", ")}]`;
  if (value instanceof Map) return pyJsonDumps(Object.fromEntries(value));
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${pyString(k)}: ${pyJsonDumps(v)}`).join(", ")}}`;
  }
  throw new TuningError("INVALID_VALUE", `cannot write a ${typeof value} as JSON`);
}

/** Optuna's `distribution_to_json`, byte for byte (attribute order as Optuna's `__dict__`). */
export function distributionToJson(d: Distribution): string {
  if (d.kind === "float") {
    const step = d.step === null ? "null" : pyFloat(d.step);
    return `{"name": "FloatDistribution", "attributes": {"step": ${step}, "low": ${pyFloat(d.low)}, "high": ${pyFloat(d.high)}, "log": ${d.log}}}`;
  }
  if (d.kind === "int") {
    return `{"name": "IntDistribution", "attributes": {"log": ${d.log}, "step": ${d.step}, "low": ${d.low}, "high": ${d.high}}}`;
  }
  return `{"name": "CategoricalDistribution", "attributes": {"choices": ${pyJsonDumps(d.choices)}}}`;
}

const num = (attrs: Record<string, unknown>, key: string): number => {
  const v = attrs[key];
  if (typeof v !== "number")
    throw invalid(`distribution attribute "${key}"=${JSON.stringify(v)} must be a number`);
  return v;
};
const optNum = (attrs: Record<string, unknown>, key: string): number | null =>
  attrs[key] === undefined || attrs[key] === null ? null : num(attrs, key);

/** Optuna's `json_to_distribution`: the current names, the legacy ones (pre-3.0), and the short `type` form. */
export function distributionFromJson(json: string | Record<string, unknown>): Distribution {
  const silent: WarningSink = () => {};
  const obj = typeof json === "string" ? (JSON.parse(json) as Record<string, unknown>) : json;
  if (typeof obj !== "object" || obj === null) throw invalid(`not a distribution: ${String(json)}`);
  if ("name" in obj) {
    const a = (obj.attributes ?? {}) as Record<string, unknown>;
    const low = () => num(a, "low");
    const high = () => num(a, "high");
    switch (obj.name) {
      case "FloatDistribution":
        return floatDistribution(low(), high(), { log: a.log === true, step: optNum(a, "step") }, silent);
      case "UniformDistribution":
        return floatDistribution(low(), high(), {}, silent);
      case "LogUniformDistribution":
        return floatDistribution(low(), high(), { log: true }, silent);
      case "DiscreteUniformDistribution":
        return floatDistribution(low(), high(), { step: num(a, "q") }, silent);
      case "IntDistribution":
        return intDistribution(low(), high(), { log: a.log === true, step: optNum(a, "step") ?? 1 }, silent);
      case "IntUniformDistribution":
        return intDistribution(low(), high(), { step: optNum(a, "step") ?? 1 }, silent);
      case "IntLogUniformDistribution":
        return intDistribution(low(), high(), { log: true, step: optNum(a, "step") ?? 1 }, silent);
      case "CategoricalDistribution":
        return categoricalDistribution((a.choices ?? []) as unknown[]);
      default:
        throw invalid(`unknown distribution class ${JSON.stringify(obj.name)}`);
    }
  }
  if (obj.type === "categorical") return categoricalDistribution((obj.choices ?? []) as unknown[]);
  if (obj.type === "float" || obj.type === "int") {
    const opts = { log: obj.log === true, step: optNum(obj, "step") };
    return obj.type === "float"
      ? floatDistribution(num(obj, "low"), num(obj, "high"), opts, silent)
      : intDistribution(num(obj, "low"), num(obj, "high"), { ...opts, step: opts.step ?? 1 }, silent);
  }
  throw invalid(`not a distribution: ${typeof json === "string" ? json : JSON.stringify(json)}`);
}
