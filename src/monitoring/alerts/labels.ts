/** Label-set helpers: fingerprints, matchers, `{{label}}` templates and durations. */
import type { LabelMatchers } from "../rules/types.js";
import type { Labels } from "./types.js";

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;
const SEPARATOR = 0xff;

/**
 * Alertmanager's label-set fingerprint (Prometheus `model.LabelSet.Fingerprint`): FNV-1a 64 over the
 * sorted names and values, each followed by byte 0xff, as 16 hex digits — so ours equal theirs.
 */
export function fingerprint(labels: Labels): string {
  let hash = FNV_OFFSET;
  const mix = (bytes: Uint8Array) => {
    for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * FNV_PRIME) & MASK;
  };
  const encoder = new TextEncoder();
  const separator = Uint8Array.of(SEPARATOR);
  for (const name of Object.keys(labels).sort()) {
    mix(encoder.encode(name));
    mix(separator);
    mix(encoder.encode(labels[name] ?? ""));
    mix(separator);
  }
  return hash.toString(16).padStart(16, "0");
}

/** Whether every matcher equals the label of the same name (a missing label equals ""). */
export function matches(labels: Labels, matchers: LabelMatchers | undefined): boolean {
  if (matchers === undefined) return true;
  return Object.entries(matchers).every(([name, value]) => (labels[name] ?? "") === value);
}

/** Fills `{{name}}` (spaces allowed inside the braces) with the label's value; a missing label gives "". */
export function renderTemplate(template: string, labels: Labels): string {
  return template.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, name: string) => labels[name] ?? "");
}

/** `{a="1", b="2"}` in Prometheus' own quoting, names sorted. */
export function formatLabels(labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `{${parts.join(", ")}}`;
}

/**
 * Parses `k=v` matcher arguments (`--match symbol=BTCUSDT`) into matchers.
 * @returns the matchers, or the first argument that is not `name=value`.
 */
export function parseMatchers(
  args: readonly string[],
): { matchers: Record<string, string> } | { bad: string } {
  const matchers: Record<string, string> = {};
  for (const arg of args) {
    const match = /^([a-zA-Z_][a-zA-Z0-9_]*)=(.*)$/.exec(arg);
    if (!match) return { bad: arg };
    matchers[match[1] as string] = (match[2] as string).replace(/^"(.*)"$/, "$1");
  }
  return { matchers };
}

// One parser for every alerting duration: config/monitoring.yaml, rules files and the API.
export { DURATION_PATTERN, DURATION_RULE, durationMs } from "../../config/schema/alerting.js";
