/** Scraping the targets' /metrics: a target that cannot be read is reported down, never fatal. */
import { parseExposition } from "./exposition.js";
import type { ScrapeResult } from "./types.js";

export interface ScrapeOptions {
  /** Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Injected for tests; default the global fetch. */
  readonly fetch?: typeof fetch;
}

/** `host:port` of a target URL (Prometheus' `instance` label). */
export function instanceOf(target: string): string {
  try {
    return new URL(target).host;
  } catch {
    return target;
  }
}

/** GETs one target and parses its exposition; failures come back as `up: false` with the reason. */
export async function scrapeTarget(
  target: string,
  nowMs: number,
  options: ScrapeOptions = {},
): Promise<ScrapeResult> {
  const { timeoutMs = 10_000, fetch: doFetch = fetch } = options;
  const base = { target, instance: instanceOf(target), scrapedAtMs: nowMs };
  try {
    const response = await doFetch(target, {
      headers: { accept: "text/plain;version=0.0.4" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok)
      return { ...base, up: false, samples: [], error: `HTTP ${response.status} from ${target}` };
    return { ...base, up: true, samples: parseExposition(text, target) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return { ...base, up: false, samples: [], error: `${reason}${cause}` };
  }
}
