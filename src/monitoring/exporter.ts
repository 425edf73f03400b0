/**
 * The Prometheus exporter of a long-running command: the process's metrics registry, the system
 * collector and the /metrics /health /ready server, started and stopped together.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ReadinessCheck, Route } from "./http-types.js";
import { type CryptomlMetrics, createMetricsRegistry } from "./registry.js";
import { startMetricsServer } from "./server.js";
import { startSystemCollector } from "./system-collector.js";

export interface ExporterOptions {
  /** The `monitoring:` section: host (default 127.0.0.1 there) and port (0 = a free one). */
  readonly config: { readonly host: string; readonly port: number };
  /** The command this process runs, the `command` label of cryptoml_build_info. */
  readonly command: string;
  /** Default: the version in cryptoml's package.json. */
  readonly version?: string;
  /** Directories whose file systems the disk metrics report (runs, data). Default none. */
  readonly paths?: readonly string[];
  readonly checks?: readonly ReadinessCheck[];
  readonly routes?: readonly Route[];
  /** Bearer token for state-changing routes (from CRYPTOML_MONITOR_TOKEN). */
  readonly token?: string;
  /** Where the `metrics: URL` line and handler failures go. Default: nowhere. */
  readonly log?: (line: string) => void;
}

export interface Exporter {
  readonly metrics: CryptomlMetrics;
  /** Base URL of the server, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  /** Stops the server and the collector. */
  close(): Promise<void>;
}

/** Starts the exporter; rejects with a CryptomlError (and leaves nothing running) when the port is taken. */
export async function startExporter(options: ExporterOptions): Promise<Exporter> {
  const log = options.log ?? (() => {});
  const metrics = createMetricsRegistry({
    command: options.command,
    version: options.version ?? cryptomlVersion(),
  });
  const collector = startSystemCollector({
    metrics,
    diskPaths: options.paths ?? [],
    onError: (error) => {
      metrics.counter("cryptoml_errors_total").inc({ component: "monitoring" });
      log(`monitoring: system metrics: ${error instanceof Error ? error.message : String(error)}`);
    },
  });
  try {
    const server = await startMetricsServer({
      host: options.config.host,
      port: options.config.port,
      registry: metrics,
      log,
      ...(options.routes === undefined ? {} : { routes: options.routes }),
      ...(options.checks === undefined ? {} : { checks: options.checks }),
      ...(options.token === undefined ? {} : { token: options.token }),
    });
    log(`metrics: ${server.url}/metrics`);
    return {
      metrics,
      url: server.url,
      async close() {
        collector.stop();
        await server.close();
      },
    };
  } catch (error) {
    collector.stop();
    throw error;
  }
}

let cachedVersion: string | undefined;

/** cryptoml's version from package.json (two levels above this module in src/ and in dist/). */
export function cryptomlVersion(): string {
  if (cachedVersion === undefined) {
    const path = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "package.json");
    cachedVersion = (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
  }
  return cachedVersion;
}
