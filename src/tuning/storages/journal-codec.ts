/**
 * The two encodings Optuna's journal depends on that JavaScript does not share with Python: JSON as
 * Python's `json` module writes it (bare `NaN`, `Infinity` and `-Infinity` tokens, ASCII-only strings)
 * and datetimes as `datetime.isoformat(timespec="microseconds")` writes them. An intermediate value of
 * NaN is legal in Optuna, and `JSON.parse` rejects the token Python writes for it, so the journal needs
 * its own codec to read what Optuna writes and to write what Optuna reads.
 */

import { pyFloat } from "../distributions.js";

/**
 * A number Python holds as a float (an objective value, a parameter's internal value): written `1.0`,
 * not `1`, so that Optuna reads back the type it wrote. Other numbers are written as ints when integral.
 */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Separators as Python's `json.dumps` takes them: the file backend writes compact, Redis the default. */
export type JsonStyle = "compact" | "python-default";

/** Serialises like Python's `json.dumps(value)` (ensure_ascii, allow_nan), `undefined` fields omitted. */
export function pythonJsonDumps(value: unknown, style: JsonStyle = "compact"): string {
  const item = style === "compact" ? "," : ", ";
  const colon = style === "compact" ? ":" : ": ";
  const encode = (v: unknown): string => {
    if (v === null || v === undefined) return "null";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "number") return Number.isSafeInteger(v) ? String(v) : pyFloat(v);
    if (v instanceof PyFloat) return pyFloat(v.value);
    if (typeof v === "bigint") return v.toString();
    if (typeof v === "string") return encodeString(v);
    if (v instanceof Date) return encodeString(v.toISOString());
    if (Array.isArray(v)) return `[${v.map(encode).join(item)}]`;
    if (v instanceof Map) return encode(Object.fromEntries(v));
    if (typeof v === "object") {
      const fields: string[] = [];
      for (const [key, field] of Object.entries(v as Record<string, unknown>)) {
        if (field !== undefined) fields.push(`${encodeString(key)}${colon}${encode(field)}`);
      }
      return `{${fields.join(item)}}`;
    }
    throw new TypeError(`cannot serialise a ${typeof v} into the journal`);
  };
  return encode(value);
}

/** Python's `py_encode_basestring_ascii`: every character outside space..tilde is escaped. */
function encodeString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c >= 0x20 && c <= 0x7e) out += s[i];
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else out += `\\u${c.toString(16).padStart(4, "0")}`;
  }
  return `${out}"`;
}

// Sentinels for the non-finite tokens while JSON.parse runs; the NUL prefix keeps them from colliding with
// any string a study would hold.
const NON_FINITE: Record<string, number> = {
  "\u0000NaN": Number.NaN,
  "\u0000Infinity": Number.POSITIVE_INFINITY,
  "\u0000-Infinity": Number.NEGATIVE_INFINITY,
};

/** Parses JSON as Python's `json.loads` accepts it (the bare NaN/Infinity tokens included). */
export function pythonJsonLoads(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!/NaN|Infinity/.test(text)) throw error;
  }
  return JSON.parse(quoteNonFinite(text), (_key, value: unknown) =>
    typeof value === "string" && value in NON_FINITE ? NON_FINITE[value] : value,
  );
}

/** Rewrites bare NaN / Infinity / -Infinity tokens outside strings into sentinel strings. */
function quoteNonFinite(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '"') {
      // Copy the string verbatim, escapes included.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const token = ["-Infinity", "Infinity", "NaN"].find((t) => text.startsWith(t, i));
    if (token !== undefined) {
      out += `"\\u0000${token}"`;
      i += token.length;
      continue;
    }
    out += ch;
    i += 1;
  }
  return out;
}

/** `datetime.now(tz=timezone.utc).isoformat(timespec="microseconds")`: `2026-11-29T10:34:54.123000+00:00`. */
export function formatOptunaDate(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000+00:00`;
}

const ISO = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$/;

/**
 * Parses what `datetime.fromisoformat` accepts of Optuna's journal. A naive time is local time, as
 * Optuna's `astimezone()` reads it; digits past milliseconds are dropped (a Date holds milliseconds).
 */
export function parseOptunaDate(text: string): Date {
  const m = ISO.exec(text);
  if (m === null) throw new RangeError(`"${text}" is not an ISO 8601 datetime`);
  const fraction = (m[3] ?? "").padEnd(3, "0").slice(0, 3);
  const zone = m[4] === undefined ? "" : m[4] === "Z" ? "Z" : m[4].replace(/^([+-]\d\d)(\d\d)$/, "$1:$2");
  return new Date(`${m[1]}T${m[2]}.${fraction}${zone}`);
}
