/**
 * MLflow's run search, in memory: the embedded store loads the candidate runs of the experiments and
 * hands them here, so filters, ordering and paging behave as on an MLflow server (mlflow/utils/search_utils.py).
 */

import { parseFilter } from "./search/filter.js";
import { matchesFilter } from "./search/match.js";
import { parseOrderBy, runComparator } from "./search/order.js";
import { decodePageToken, encodePageToken, resolveMaxResults } from "./search/paging.js";
import type { Page, Run, SearchRunsQuery } from "./types.js";

export type {
  Comparator,
  EntityType,
  FilterClause,
  ListClause,
  ListComparator,
  NumericClause,
  NumericComparator,
  OrderByClause,
  RunAttribute,
  StringClause,
  StringComparator,
} from "./search/clauses.js";
export { parseFilter } from "./search/filter.js";
export { latestMetric, likePattern, matchesFilter } from "./search/match.js";
export { parseOrderBy, runComparator } from "./search/order.js";
export {
  DEFAULT_MAX_RESULTS,
  decodePageToken,
  encodePageToken,
  MAX_RESULTS_LIMIT,
  resolveMaxResults,
} from "./search/paging.js";

/**
 * Selects the runs of `query.experimentIds` (active only unless includeDeleted), filters, orders and
 * pages them. An empty experimentIds selects nothing, as in MLflow.
 * @throws TrackingError INVALID_PARAMETER_VALUE for a bad filter, order-by, maxResults or pageToken,
 *   checked before any run is looked at, so a bad query fails even when there are no runs.
 */
export function searchRunsInMemory(runs: readonly Run[], query: SearchRunsQuery): Page<Run> {
  const clauses = parseFilter(query.filter ?? "");
  const orderBy = parseOrderBy(query.orderBy ?? []);
  const maxResults = resolveMaxResults(query.maxResults);
  const offset = decodePageToken(query.pageToken);

  const experiments = new Set(query.experimentIds);
  const selected = runs.filter(
    (run) =>
      experiments.has(run.info.experimentId) &&
      (query.includeDeleted === true || run.info.lifecycleStage === "active") &&
      matchesFilter(run, clauses),
  );
  selected.sort(runComparator(orderBy));

  const end = offset + maxResults;
  const items = selected.slice(offset, end);
  return end < selected.length ? { items, nextPageToken: encodePageToken(end) } : { items };
}
