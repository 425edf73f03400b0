/** Paging and row helpers shared by the parts of the embedded SQLite store. */
import { decodePageToken, encodePageToken, resolveMaxResults } from "../search.js";
import type { Tag } from "../types.js";

export interface PageWindow {
  readonly offset: number;
  readonly limit: number;
}

/** The rows a page request asks for; tokens and limits are those of the run search, so all pages agree. */
export function pageWindow(options: { maxResults?: number; pageToken?: string } = {}): PageWindow {
  return { offset: decodePageToken(options.pageToken), limit: resolveMaxResults(options.maxResults) };
}

/**
 * Cuts one page out of rows fetched with `LIMIT limit + 1`: the extra row only says whether a next
 * page exists.
 */
export function toPage<T>(rows: readonly T[], window: PageWindow): { items: T[]; nextPageToken?: string } {
  if (rows.length <= window.limit) return { items: [...rows] };
  return { items: rows.slice(0, window.limit), nextPageToken: encodePageToken(window.offset + window.limit) };
}

export interface TagRow {
  readonly key: string;
  readonly value: string;
}

export const toTags = (rows: readonly TagRow[]): Tag[] =>
  rows.map((row) => ({ key: row.key, value: row.value }));

/** Groups rows by an owner column, keeping their order. */
export function groupBy<R, K>(rows: readonly R[], keyOf: (row: R) => K): Map<K, R[]> {
  const groups = new Map<K, R[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [row]);
    else group.push(row);
  }
  return groups;
}
