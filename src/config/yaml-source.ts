/**
 * One parsed configuration file: its values plus enough of the YAML syntax tree to say on which
 * line a key path lives, so problems can be reported as `file:line`.
 */

import type { Document } from "yaml";
import { isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";

export interface YamlSource {
  /** The file as the user named it (`config/training.yaml`). */
  readonly path: string;
  /** The plain JS value of the document (null for an empty file). */
  readonly value: unknown;
  /** `path:line YAML syntax error: …` problems; when non-empty, `value` is null. */
  readonly syntaxErrors: { line: number; text: string }[];
  /** 1-based line of a key path; see {@link locate}. */
  line(keyPath: readonly PropertyKey[], at?: "value" | "key"): number;
}

/** yaml's messages end with " at line 3, column 5:" and a code frame; the frame is noise here. */
function shortReason(message: string): string {
  const first = message.split("\n")[0] ?? message;
  return first.replace(/\s*at line \d+, column \d+:?\s*$/, "").trim();
}

/** Parses a YAML file's text, keeping line positions for error reports. Never throws. */
export function parseYamlSource(path: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line;
  const syntaxErrors = doc.errors.map((error) => {
    const line = error.linePos?.[0].line ?? lineOf(error.pos[0]);
    return { line, text: `${path}:${line} YAML syntax error: ${shortReason(error.message)}` };
  });
  let value: unknown = null;
  if (syntaxErrors.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (error) {
      // toJS fails only on pathological aliases; report it like a syntax problem.
      const reason = error instanceof Error ? error.message : String(error);
      syntaxErrors.push({ line: 1, text: `${path}:1 YAML syntax error: ${reason}` });
    }
  }
  return {
    path,
    value,
    syntaxErrors,
    line: (keyPath, at = "value") => locate(doc, lineOf, keyPath, at),
  };
}

function deref(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function startLine(node: unknown, lineOf: (offset: number) => number): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? lineOf(range[0]) : undefined;
}

/**
 * The line to report for `keyPath`. Walks the syntax tree as far as the path exists, so a
 * missing key or a default-filled field points at its nearest written ancestor (the parent).
 * A scalar or flow value reports its own line; a block mapping or list reports the line of the
 * key that introduces it (where a reader looks); `at: "key"` reports the last key's own line
 * (unknown keys). An alias (`epochs: *bs`) reports its own line, not its anchor's: the path names
 * the place the alias is used. Keys inside an aliased collection report that alias too, for the same
 * reason (the anchor's own keys sit under another path).
 */
function locate(
  doc: Document,
  lineOf: (offset: number) => number,
  keyPath: readonly PropertyKey[],
  at: "value" | "key",
): number {
  let node: unknown = deref(doc, doc.contents);
  let line = startLine(node, lineOf) ?? 1;
  // Once the walk has gone through an alias, every deeper line is the alias's.
  let aliasLine: number | undefined;
  for (const [index, segment] of keyPath.entries()) {
    const last = index === keyPath.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) return line;
      const keyLine = aliasLine ?? startLine(pair.key, lineOf) ?? line;
      if (last && at === "key") return keyLine;
      if (aliasLine === undefined && isAlias(pair.value)) aliasLine = startLine(pair.value, lineOf);
      const value = deref(doc, pair.value);
      const block = isCollection(value) && !value.flow;
      line = aliasLine ?? (block || value === null ? keyLine : (startLine(value, lineOf) ?? keyLine));
      node = value;
    } else if (isSeq(node) && typeof segment === "number") {
      const raw = node.items[segment];
      if (raw === undefined) return line;
      if (aliasLine === undefined && isAlias(raw)) aliasLine = startLine(raw, lineOf);
      const item = deref(doc, raw);
      line = aliasLine ?? startLine(item, lineOf) ?? line;
      node = item;
    } else {
      return line;
    }
  }
  return line;
}
