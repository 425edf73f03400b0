/**
 * The /metrics /health /ready server of a long-running command (`--metrics-port`, `--no-metrics`,
 * `monitoring.host`/`monitoring.port`). Monitoring must never stop the work it watches: when the port
 * is taken the command warns and carries on without it.
 */
import { CryptomlError, UsageError } from "../../core/errors.js";
import { type Exporter, startExporter } from "../../monitoring/exporter.js";
import { type ReadinessCheck, TOKEN_ENV } from "../../monitoring/http-types.js";
import type { CryptomlMetrics } from "../../monitoring/registry.js";
import type { CliContext } from "../context.js";

/** /ready fails when a training job has made no step for this long. */
export const HEARTBEAT_MAX_AGE_MS = 120_000;

export interface MetricsFlags {
  metricsPort?: string;
  /** false with --no-metrics. */
  metrics?: boolean;
}

/** Adds `--metrics-port` and `--no-metrics` to a command. */
export function metricsOptions<T extends { option(flags: string, description: string): T }>(command: T): T {
  return command
    .option(
      "--metrics-port <port>",
      "serve /metrics, /health and /ready on this port (0 = any free one; default monitoring.port)",
    )
    .option("--no-metrics", "do not serve Prometheus metrics");
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--metrics-port ${value} must be an integer from 0 to 65535`, {
      hint: "0 picks a free port; the URL is printed when the server starts",
    });
  }
  return port;
}

/**
 * Starts the exporter for `command`, or returns undefined (after a warning) when metrics are off or the
 * port is taken. `checks` receive the metrics so they can read what the command records.
 */
export async function serveMetrics(
  ctx: CliContext,
  flags: MetricsFlags,
  settings: {
    readonly monitoring: { readonly host: string; readonly port: number };
    readonly command: string;
    readonly paths: readonly string[];
    readonly checks?: (metrics: CryptomlMetrics) => readonly ReadinessCheck[];
    readonly log: (line: string) => void;
  },
): Promise<Exporter | undefined> {
  if (flags.metrics === false) return undefined;
  const port = flags.metricsPort === undefined ? settings.monitoring.port : parsePort(flags.metricsPort);
  let exporter: Exporter | undefined;
  const checks: ReadinessCheck[] = [];
  try {
    const token = ctx.env[TOKEN_ENV];
    exporter = await startExporter({
      config: { host: settings.monitoring.host, port },
      command: settings.command,
      paths: settings.paths,
      checks,
      log: settings.log,
      ...(token === undefined || token === "" ? {} : { token }),
    });
  } catch (error) {
    if (!(error instanceof CryptomlError) || error.code !== "NETWORK") throw error;
    settings.log(`monitoring: metrics are not served: ${error.message}; ${error.hint ?? ""}`.trim());
    return undefined;
  }
  // The checks array is read at each /ready, so checks that need the metrics can be added now.
  checks.push(...(settings.checks?.(exporter.metrics) ?? []));
  return exporter;
}
