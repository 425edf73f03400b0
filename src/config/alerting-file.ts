/**
 * `cryptoml monitor --config FILE`: the `alerting:` section read from one named file (any name, other
 * sections ignored), validated and reported with file:line exactly as {@link loadConfig} does.
 */
import { readFile } from "node:fs/promises";
import * as z from "zod";
import { ConfigError } from "../core/errors.js";
import { describeIssue } from "./issues.js";
import { CONFIG_HINT } from "./loader.js";
import { type AlertingConfig, alertingSchema } from "./schema/alerting.js";
import { showPath } from "./show-value.js";
import { parseYamlSource } from "./yaml-source.js";

const fileSchema = z.object({ alerting: alertingSchema });

/**
 * Reads the `alerting:` section of `path` (a missing section means every default).
 * @throws ConfigError `path:line alerting.key: value rule`, one line per problem.
 */
export async function loadAlertingFile(path: string): Promise<AlertingConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError([`${path}: cannot be read (${code})`], {
      hint: "pass --config with a monitoring.yaml file, or leave it out to read config/monitoring.yaml",
    });
  }
  const source = parseYamlSource(path, text);
  if (source.syntaxErrors.length > 0)
    throw new ConfigError(
      source.syntaxErrors.map((e) => e.text),
      { hint: CONFIG_HINT },
    );
  const value = source.value;
  const section =
    value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>).alerting
      : undefined;
  const root = { alerting: section ?? undefined };
  const result = fileSchema.safeParse(root, { reportInput: true });
  if (result.success) return result.data.alerting;
  const problems = result.error.issues.flatMap((issue) =>
    describeIssue(issue, root, fileSchema).map((p) => {
      const line = source.line(p.path, p.at);
      return { line, text: `${path}:${line} ${showPath(p.path)}: ${p.text}` };
    }),
  );
  problems.sort((a, b) => a.line - b.line);
  throw new ConfigError(
    problems.map((p) => p.text),
    { hint: CONFIG_HINT },
  );
}
