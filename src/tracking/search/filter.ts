/**
 * MLflow's run filter syntax: comparisons joined by AND (no OR, no parentheses), e.g.
 * `metrics.val_loss < 0.5 and params.model = 'lstm' and attributes.status IN ('FINISHED', 'KILLED')`.
 */
import {
  type Comparator,
  type EntityType,
  FILTER_ATTRIBUTES,
  type FilterClause,
  isNumericAttribute,
  type ListComparator,
  NUMERIC_COMPARATORS,
  type NumericComparator,
  STRING_ATTRIBUTE_COMPARATORS,
  STRING_COMPARATORS,
  type StringAttribute,
  type StringComparator,
} from "./clauses.js";
import { QUOTING_HINT, readIdentifier } from "./identifier.js";
import { Scanner } from "./scanner.js";

const SYMBOLS = [">=", "<=", "!=", "<>", "==", "=", ">", "<"];
const ALL_COMPARATORS = "=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN";

/**
 * Parses a filter into clauses; an empty or blank filter matches every run. Keys are case-sensitive,
 * keywords (AND, LIKE, ILIKE, IN, NOT IN) are not.
 * @throws TrackingError INVALID_PARAMETER_VALUE naming the position and what was expected there.
 */
export function parseFilter(text: string): FilterClause[] {
  const s = new Scanner(text, "filter");
  const clauses: FilterClause[] = [];
  if (s.atEnd()) return clauses;
  for (;;) {
    clauses.push(parseClause(s));
    if (s.atEnd()) return clauses;
    const at = s.pos;
    if (s.acceptKeyword("AND")) {
      if (s.atEnd()) throw s.error("Expected a comparison after AND, found end of input", s.pos);
      continue;
    }
    if (s.peekWord().toUpperCase() === "OR") {
      throw s.error(
        "OR is not supported; MLflow filters join comparisons with AND only",
        at,
        "Run one search per alternative and merge the results, or use attributes.<name> IN ('a', 'b')",
      );
    }
    throw s.error(`Expected AND or the end of the filter, found ${s.found()}`, at);
  }
}

function parseClause(s: Scanner): FilterClause {
  const { entity, key } = readIdentifier(s, FILTER_ATTRIBUTES);
  const subject = `${entity} '${key}'`;
  s.skipSpace();
  const comparatorAt = s.pos;
  const comparator = readComparator(s, subject);
  const numeric = entity === "metric" || (entity === "attribute" && isNumericAttribute(key));
  const allowed: readonly string[] = numeric
    ? NUMERIC_COMPARATORS
    : entity === "attribute"
      ? STRING_ATTRIBUTE_COMPARATORS
      : STRING_COMPARATORS;
  if (!allowed.includes(comparator)) {
    throw s.error(
      `Invalid comparator '${comparator}' for ${subject}; expected one of ${allowed.join(", ")}`,
      comparatorAt,
    );
  }
  s.skipSpace();
  if (numeric) {
    const value = readNumericValue(s, subject);
    return {
      type: "numeric",
      entity: entity as "metric" | "attribute",
      key,
      comparator: comparator as NumericComparator,
      value,
    };
  }
  if (comparator === "IN" || comparator === "NOT IN") {
    const values = readList(s, comparator);
    return {
      type: "list",
      entity: "attribute",
      key: key as StringAttribute,
      comparator: comparator as ListComparator,
      values,
    };
  }
  const value = readStringValue(s, subject);
  return {
    type: "string",
    entity: entity as Exclude<EntityType, "metric">,
    key,
    comparator: comparator as StringComparator,
    value,
  };
}

function readComparator(s: Scanner, subject: string): Comparator | string {
  const symbol = SYMBOLS.find((sym) => s.text.startsWith(sym, s.pos));
  if (symbol !== undefined) {
    s.pos += symbol.length;
    return symbol; // `<>` and `==` are read whole so the message quotes what was written.
  }
  for (const word of ["LIKE", "ILIKE", "IN"] as const) if (s.acceptKeyword(word)) return word;
  const notAt = s.pos;
  if (s.acceptKeyword("NOT")) {
    s.skipSpace();
    if (s.acceptKeyword("IN")) return "NOT IN";
    throw s.error(`Expected IN after NOT, found ${s.found()}`, notAt);
  }
  throw s.error(
    `Expected a comparator (${ALL_COMPARATORS}) after ${subject}, found ${s.found()}`,
    s.pos,
    QUOTING_HINT,
  );
}

function readNumericValue(s: Scanner, subject: string): number {
  const at = s.pos;
  const value = s.readNumber();
  if (value === undefined) {
    throw s.error(
      `Expected a numeric value for ${subject}, found ${s.found()}`,
      at,
      "Numbers are written unquoted, e.g. metrics.val_loss < 0.5 or attributes.start_time >= 1700000000000",
    );
  }
  return value;
}

function readStringValue(s: Scanner, subject: string): string {
  const quote = s.peek();
  if (quote === "'" || quote === '"') return s.readQuoted();
  throw s.error(
    `Expected a quoted string value for ${subject} (e.g. 'my-value'), found ${s.found()}`,
    s.pos,
    "Params, tags and string attributes compare as strings: quote the value, e.g. params.lr = '0.001'",
  );
}

function readList(s: Scanner, comparator: string): string[] {
  const listHint = "Write a list of quoted strings, e.g. attributes.status IN ('FINISHED', 'KILLED')";
  if (s.peek() !== "(") {
    throw s.error(`Expected a parenthesized list after ${comparator}, found ${s.found()}`, s.pos, listHint);
  }
  s.pos += 1;
  const values: string[] = [];
  for (;;) {
    s.skipSpace();
    const quote = s.peek();
    if (quote !== "'" && quote !== '"') {
      const what =
        values.length === 0 && quote === ")" ? "a non-empty list of" : "a quoted string in the list of";
      throw s.error(
        `Expected ${what} quoted strings after ${comparator}, found ${s.found()}`,
        s.pos,
        listHint,
      );
    }
    values.push(s.readQuoted());
    s.skipSpace();
    const next = s.peek();
    if (next !== ")" && next !== ",") {
      throw s.error(`Expected ',' or ')' in the list, found ${s.found()}`, s.pos, listHint);
    }
    s.pos += 1;
    if (next === ")") return values;
  }
}
