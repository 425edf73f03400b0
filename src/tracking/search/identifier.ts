/** Reads the left-hand identifier of a filter comparison or an order-by key: `<entity>.<key>` or a bare attribute. */
import { ENTITY_NAMES, type EntityType, resolveAttribute, resolveEntity } from "./clauses.js";
import type { Scanner } from "./scanner.js";

export interface Identifier {
  readonly entity: EntityType;
  readonly key: string;
}

const QUOTES = new Set(["'", '"', "`"]);
export const QUOTING_HINT =
  'Quote keys that contain spaces or punctuation: metrics.`val loss` or params."my-key"';

/** `validAttributes` differ between filters and order-by (experiment_id can only be sorted on). */
export function readIdentifier(s: Scanner, validAttributes: readonly string[]): Identifier {
  s.skipSpace();
  const start = s.pos;
  if (s.peek() === "(") {
    throw s.error("Parentheses are not supported", start, "Join comparisons with AND, without grouping");
  }
  // MLflow accepts a backticked entity type (`metrics`.x); a quoted string here is a value misplaced.
  const head = s.peek() === "`" ? s.readQuoted() : s.readWord();
  if (head === "") {
    throw s.error(
      `Expected an identifier such as metrics.<key>, params.<key>, tags.<key> or attributes.<name>, found ${s.found()}`,
      start,
    );
  }
  if (s.peek() !== ".") {
    // A bare name is an attribute, as in MLflow (`status = 'FINISHED'`).
    return { entity: "attribute", key: attribute(s, head, validAttributes, start) };
  }
  const entity = resolveEntity(head);
  if (entity === undefined) {
    throw s.error(`Invalid entity type '${head}'. Valid values are ${ENTITY_NAMES}`, start);
  }
  s.pos += 1;
  const keyAt = s.pos;
  const key = QUOTES.has(s.peek()) ? s.readQuoted() : s.readKey();
  if (key === "") throw s.error(`Expected a key after '${head}.', found ${s.found()}`, keyAt, QUOTING_HINT);
  if (entity !== "attribute") return { entity, key };
  return { entity, key: attribute(s, key, validAttributes, keyAt) };
}

function attribute(s: Scanner, key: string, valid: readonly string[], at: number): string {
  const canonical = resolveAttribute(key, valid);
  if (canonical === undefined) {
    throw s.error(
      `Invalid attribute key '${key}'. Valid keys are ${valid.join(", ")}`,
      at,
      "Attribute names are snake_case, e.g. attributes.start_time or attributes.status",
    );
  }
  return canonical;
}
