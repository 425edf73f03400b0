/**
 * The parsed forms of MLflow's run-search language (filters and order-by keys), and the identifier rules
 * both share: entity types with MLflow's aliases, and the run attributes one may search or sort on.
 */
export type EntityType = "metric" | "param" | "tag" | "attribute";

export type NumericAttribute = "start_time" | "end_time";
export type StringAttribute =
  | "run_id"
  | "run_name"
  | "status"
  | "artifact_uri"
  | "user_id"
  | "lifecycle_stage";
/** experiment_id is orderable but, as in MLflow, not filterable (the query's experimentIds select it). */
export type RunAttribute = NumericAttribute | StringAttribute | "experiment_id";

export type NumericComparator = "=" | "!=" | ">" | ">=" | "<" | "<=";
export type StringComparator = "=" | "!=" | "LIKE" | "ILIKE";
export type ListComparator = "IN" | "NOT IN";
export type Comparator = NumericComparator | StringComparator | ListComparator;

/** `metrics.x > 0.5`, `attributes.start_time >= 1700000000000`. */
export interface NumericClause {
  readonly type: "numeric";
  readonly entity: "metric" | "attribute";
  readonly key: string;
  readonly comparator: NumericComparator;
  readonly value: number;
}

/** `params.model = 'lstm'`, `tags.symbol LIKE 'BTC%'`, `attributes.status != 'FAILED'`. */
export interface StringClause {
  readonly type: "string";
  readonly entity: "param" | "tag" | "attribute";
  readonly key: string;
  readonly comparator: StringComparator;
  readonly value: string;
}

/** `attributes.status IN ('FINISHED', 'KILLED')`; string attributes only. */
export interface ListClause {
  readonly type: "list";
  readonly entity: "attribute";
  readonly key: StringAttribute;
  readonly comparator: ListComparator;
  readonly values: readonly string[];
}

export type FilterClause = NumericClause | StringClause | ListClause;

export interface OrderByClause {
  readonly entity: EntityType;
  /** The metric, param or tag key, or the canonical attribute name. */
  readonly key: string;
  readonly ascending: boolean;
}

export const NUMERIC_ATTRIBUTES: readonly NumericAttribute[] = ["start_time", "end_time"];
export const STRING_ATTRIBUTES: readonly StringAttribute[] = [
  "run_id",
  "run_name",
  "status",
  "artifact_uri",
  "user_id",
  "lifecycle_stage",
];
export const FILTER_ATTRIBUTES: readonly string[] = [...STRING_ATTRIBUTES, ...NUMERIC_ATTRIBUTES];
export const ORDER_ATTRIBUTES: readonly string[] = [...FILTER_ATTRIBUTES, "experiment_id"];

export const NUMERIC_COMPARATORS: readonly NumericComparator[] = ["=", "!=", ">", ">=", "<", "<="];
export const STRING_COMPARATORS: readonly StringComparator[] = ["=", "!=", "LIKE", "ILIKE"];
export const STRING_ATTRIBUTE_COMPARATORS: readonly Comparator[] = [...STRING_COMPARATORS, "IN", "NOT IN"];

// MLflow's own spellings (mlflow/utils/search_utils.py), so filters written for an MLflow server work here.
const ENTITY_ALIASES: Readonly<Record<string, EntityType>> = {
  metric: "metric",
  metrics: "metric",
  parameter: "param",
  parameters: "param",
  param: "param",
  params: "param",
  tag: "tag",
  tags: "tag",
  attribute: "attribute",
  attributes: "attribute",
  attr: "attribute",
  run: "attribute",
};

// The UI's column names, which MLflow also accepts as attribute keys.
const ATTRIBUTE_ALIASES: Readonly<Record<string, string>> = {
  created: "start_time",
  Created: "start_time",
  "run name": "run_name",
  "Run name": "run_name",
  "Run Name": "run_name",
};

export const ENTITY_NAMES = "metrics, params, tags, attributes";

/** Resolves an entity prefix, or returns undefined when it is not one MLflow knows. */
export function resolveEntity(name: string): EntityType | undefined {
  return Object.hasOwn(ENTITY_ALIASES, name) ? ENTITY_ALIASES[name] : undefined;
}

/** Maps an attribute key (or one of the UI's aliases) to its canonical name; undefined when not in `valid`. */
export function resolveAttribute(key: string, valid: readonly string[]): string | undefined {
  const canonical = Object.hasOwn(ATTRIBUTE_ALIASES, key) ? (ATTRIBUTE_ALIASES[key] ?? key) : key;
  return valid.includes(canonical) ? canonical : undefined;
}

export const isNumericAttribute = (key: string): key is NumericAttribute =>
  (NUMERIC_ATTRIBUTES as readonly string[]).includes(key);
