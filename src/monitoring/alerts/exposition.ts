/**
 * A strict parser of the Prometheus text exposition format 0.0.4 — what every cryptoml process
 * serves on /metrics. Strict because the monitor decides alerts on these numbers: a line it cannot
 * read is an error naming the target and line, never a silently skipped series.
 */
import { DataFormatError } from "../../core/errors.js";
import type { Labels, Sample } from "./types.js";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^-?\d+$/;

/** Thrown inside a line; the caller adds the source and line number. */
class LineProblem extends Error {}

/**
 * Parses exposition text into samples.
 * @param source names the text in errors (the target URL).
 * @throws DataFormatError `source:line: problem` for the first malformed line: a bad name, label,
 *   escape, value or timestamp, an unknown `# TYPE`, a second `# TYPE` for one metric, or a series twice.
 */
export function parseExposition(text: string, source: string): Sample[] {
  const samples: Sample[] = [];
  const typed = new Set<string>();
  const seen = new Set<string>();
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    try {
      if (line.trim() === "") continue;
      if (line.trimStart().startsWith("#")) {
        readComment(line.trimStart(), typed);
        continue;
      }
      const sample = readSample(line);
      const key = seriesKey(sample.name, sample.labels);
      if (seen.has(key)) throw new LineProblem(`series ${key} appears twice`);
      seen.add(key);
      samples.push(sample);
    } catch (error) {
      if (!(error instanceof LineProblem)) throw error;
      throw new DataFormatError(source, index + 1, error.message, {
        hint: "the target does not serve Prometheus text format 0.0.4; check that the URL is a cryptoml /metrics endpoint",
      });
    }
  }
  return samples;
}

/** `name{a="1",b="2"}` with labels sorted: one key per series. */
export function seriesKey(name: string, labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `${name}{${parts.join(",")}}`;
}

function readComment(line: string, typed: Set<string>): void {
  const match = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (!match) return; // a plain comment
  const [, keyword, name = "", rest = ""] = match;
  if (!METRIC_NAME.test(name) || METRIC_NAME.exec(name)?.[0] !== name)
    throw new LineProblem(`# ${keyword} names ${JSON.stringify(name)}, which is not a metric name`);
  if (keyword === "HELP") {
    if (/\\[^\\n]/.test(rest.replace(/\\\\/g, "")))
      throw new LineProblem("# HELP has an escape other than \\\\ or \\n");
    return;
  }
  const type = rest.trim();
  if (!TYPES.has(type))
    throw new LineProblem(`# TYPE ${name} ${JSON.stringify(type)} must be one of ${[...TYPES].join(", ")}`);
  if (typed.has(name)) throw new LineProblem(`second # TYPE line for ${name}`);
  typed.add(name);
}

function readSample(line: string): Sample {
  let rest = line.trimStart();
  const name = METRIC_NAME.exec(rest)?.[0];
  if (name === undefined)
    throw new LineProblem(`expected a metric name at ${JSON.stringify(rest.slice(0, 20))}`);
  rest = rest.slice(name.length);
  let labels: Labels = {};
  if (rest.startsWith("{")) {
    const read = readLabels(rest.slice(1));
    labels = read.labels;
    rest = read.rest;
  }
  if (!/^[ \t]/.test(rest)) throw new LineProblem(`expected a space and a value after ${name}`);
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length > 2) throw new LineProblem(`unexpected ${JSON.stringify(fields[2])} after the timestamp`);
  const value = readValue(fields[0] ?? "");
  const stamp = fields[1];
  if (stamp === undefined) return { name, labels, value };
  if (!INTEGER.test(stamp))
    throw new LineProblem(`timestamp ${JSON.stringify(stamp)} must be integer milliseconds`);
  return { name, labels, value, timestampMs: Number(stamp) };
}

/** Reads `a="x",b="y"}` (the text after `{`), returning the labels and what follows `}`. */
function readLabels(text: string): { labels: Labels; rest: string } {
  const labels: Record<string, string> = {};
  let rest = text.trimStart();
  while (!rest.startsWith("}")) {
    const name = LABEL_NAME.exec(rest)?.[0];
    if (name === undefined)
      throw new LineProblem(`expected a label name at ${JSON.stringify(rest.slice(0, 20))}`);
    rest = rest.slice(name.length).trimStart();
    if (!rest.startsWith('="') && !/^=[ \t]*"/.test(rest))
      throw new LineProblem(`expected ="…" after label ${name}`);
    rest = rest.slice(rest.indexOf('"') + 1);
    const read = readQuoted(rest, name);
    if (Object.hasOwn(labels, name)) throw new LineProblem(`label ${name} appears twice`);
    labels[name] = read.value;
    rest = read.rest.trimStart();
    if (rest.startsWith(",")) rest = rest.slice(1).trimStart();
    else if (!rest.startsWith("}")) throw new LineProblem(`expected , or } after label ${name}`);
  }
  return { labels, rest: rest.slice(1) };
}

function readQuoted(text: string, label: string): { value: string; rest: string } {
  let value = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return { value, rest: text.slice(i + 1) };
    if (c !== "\\") {
      value += c;
      continue;
    }
    const next = text[++i];
    if (next === "\\") value += "\\";
    else if (next === '"') value += '"';
    else if (next === "n") value += "\n";
    else throw new LineProblem(`label ${label} has the escape \\${next ?? ""}; only \\\\, \\" and \\n exist`);
  }
  throw new LineProblem(`label ${label}'s value has no closing quote`);
}

function readValue(text: string): number {
  if (text === "NaN") return Number.NaN;
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (!FLOAT.test(text))
    throw new LineProblem(`value ${JSON.stringify(text)} must be a number, NaN, +Inf or -Inf`);
  return Number(text);
}
