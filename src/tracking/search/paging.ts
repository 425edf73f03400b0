/** Offset paging behind an opaque token, as MLflow's file store does it. */
import { invalidValue } from "../errors.js";

export const DEFAULT_MAX_RESULTS = 1000;
export const MAX_RESULTS_LIMIT = 50_000;

const TOKEN_HINT =
  "Pass the nextPageToken of the previous page unchanged, or omit pageToken to start at the first page";

/** Validates maxResults (1..50000, MLflow's limit) and applies the default of 1000. */
export function resolveMaxResults(maxResults: number | undefined): number {
  if (maxResults === undefined) return DEFAULT_MAX_RESULTS;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_RESULTS_LIMIT) {
    throw invalidValue(
      `Invalid value ${maxResults} for maxResults: it must be an integer from 1 to ${MAX_RESULTS_LIMIT}`,
      `Omit maxResults for the default of ${DEFAULT_MAX_RESULTS}, and page through more with pageToken`,
    );
  }
  return maxResults;
}

/** Base64 of `{"offset": N}`, byte for byte what MLflow's file store issues. */
export function encodePageToken(offset: number): string {
  return Buffer.from(`{"offset": ${offset}}`, "utf8").toString("base64");
}

/** The offset a token points at; no token (or "") is the first page. */
export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === "") return 0;
  const shown = token.length > 40 ? `${token.slice(0, 40)}…` : token;
  // Buffer.from silently skips invalid characters, so check the alphabet first.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) {
    throw invalidValue(`Invalid page token '${shown}': it is not base64`, TOKEN_HINT);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
  } catch {
    throw invalidValue(`Invalid page token '${shown}': it does not decode to JSON`, TOKEN_HINT);
  }
  const offset =
    typeof parsed === "object" && parsed !== null ? (parsed as { offset?: unknown }).offset : undefined;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalidValue(`Invalid page token '${shown}': it holds no valid offset`, TOKEN_HINT);
  }
  return offset;
}
