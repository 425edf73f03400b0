/** MLflow's run ordering: the order-by keys, then start_time DESC, then run_id ASC to break ties. */
import type { Run } from "../types.js";
import { ORDER_ATTRIBUTES, type OrderByClause } from "./clauses.js";
import { readIdentifier } from "./identifier.js";
import { entityValue } from "./match.js";
import { Scanner } from "./scanner.js";

/**
 * Parses order-by items such as `metrics.val_loss`, `params.lr DESC` or `attributes.start_time asc`
 * (direction case-insensitive, default ASC).
 * @throws TrackingError INVALID_PARAMETER_VALUE naming the item and what was expected.
 */
export function parseOrderBy(items: readonly string[]): OrderByClause[] {
  return items.map((item) => {
    const s = new Scanner(item, "order_by");
    if (s.atEnd())
      throw s.error("Expected an order_by key such as metrics.val_loss DESC, found end of input");
    const { entity, key } = readIdentifier(s, ORDER_ATTRIBUTES);
    let ascending = true;
    if (!s.atEnd()) {
      const at = s.pos;
      if (s.acceptKeyword("DESC")) ascending = false;
      else if (!s.acceptKeyword("ASC"))
        throw s.error(`Invalid ordering key ${s.found()}; expected ASC or DESC`, at);
    }
    if (!s.atEnd()) throw s.error(`Expected the end of the order_by clause, found ${s.found()}`);
    return { entity, key, ascending };
  });
}

// Present values first, then NaN, then missing, whichever the direction (as MLflow's file store sorts).
function rank(value: string | number | undefined): number {
  if (value === undefined) return 2;
  return typeof value === "number" && Number.isNaN(value) ? 1 : 0;
}

function compareValues(a: string | number, b: string | number): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

/** A comparator for Array.prototype.sort that applies `orderBy` and then MLflow's default order. */
export function runComparator(orderBy: readonly OrderByClause[]): (a: Run, b: Run) => number {
  return (a, b) => {
    for (const clause of orderBy) {
      const va = entityValue(a, clause.entity, clause.key);
      const vb = entityValue(b, clause.entity, clause.key);
      const byRank = rank(va) - rank(vb);
      if (byRank !== 0) return byRank;
      if (va === undefined || vb === undefined || rank(va) !== 0) continue;
      const order = compareValues(va, vb);
      if (order !== 0) return clause.ascending ? order : -order;
    }
    if (a.info.startTime !== b.info.startTime) return b.info.startTime - a.info.startTime;
    return compareValues(a.info.runId, b.info.runId);
  };
}
