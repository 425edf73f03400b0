/** Prints configuration values the way they would be written in YAML, short enough for one line. */

const MAX_LENGTH = 60;

function render(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  if (Array.isArray(value)) return `[${value.map(render).join(", ")}]`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => `${k}: ${render(v)}`);
    return `{${entries.join(", ")}}`;
  }
  return String(value);
}

/** `"abc"`, `-4`, `[1, 2]`, `{train: 0.8}`; long values are cut with "…". */
export function showValue(value: unknown): string {
  const text = render(value);
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text;
}

/** The YAML-ish kind of a value, for "(got string "abc")". */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "list";
  if (value instanceof Date) return "date";
  if (typeof value === "object") return "mapping";
  return typeof value;
}

/** `training.batch_size`, `features[3].slow`. */
export function showPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out;
}
