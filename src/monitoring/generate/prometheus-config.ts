/**
 * prometheus.yml: scrape cryptoml's /metrics endpoints, load the generated rules, send alerts to
 * Alertmanager. Paths are relative to the file, as Prometheus resolves them.
 */
import { UsageError } from "../../core/errors.js";
import { CRYPTOML_JOB } from "../catalog.js";

/** The generated rule file, relative to prometheus.yml. */
export const RULES_PATH = "rules/cryptoml.rules.yml";

/** The scrape job every cryptoml target is in (its `job` label); TargetDown selects `up` by it. */
export const SCRAPE_JOB = CRYPTOML_JOB;

/** Alertmanager's usual address when none is given. */
export const DEFAULT_ALERTMANAGER_URL = "http://127.0.0.1:9093";

export interface PrometheusConfigOptions {
  /** `host:port` of each cryptoml /metrics endpoint. */
  readonly targets: readonly string[];
  /** Scrape and rule-evaluation interval, a Prometheus duration (`monitoring.scrape_interval`, default 15s). */
  readonly scrapeInterval: string;
  /** Where Alertmanager listens. Default {@link DEFAULT_ALERTMANAGER_URL}. */
  readonly alertmanagerUrl?: string;
}

const TARGET = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):(\d{1,5})$/;

/** Checks a `host:port` scrape target; throws a UsageError naming the flag otherwise. */
export function checkTarget(target: string): string {
  const match = TARGET.exec(target);
  const port = Number(match?.[2]);
  if (match === null || port < 1 || port > 65535) {
    throw new UsageError(`--target ${target} is not host:port`, {
      hint: "give each cryptoml /metrics endpoint as host:port with a port 1-65535, e.g. --target 127.0.0.1:9464",
    });
  }
  return target;
}

/** An Alertmanager URL split the way prometheus.yml wants it. */
export function alertmanagerEndpoint(url: string): { scheme: string; target: string; pathPrefix: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL("invalid:");
  }
  if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.host === "") {
    throw new UsageError(`--alertmanager ${url} is not an http(s) URL`, {
      hint: `give Alertmanager's address, e.g. --alertmanager ${DEFAULT_ALERTMANAGER_URL}`,
    });
  }
  const defaultPort = parsed.protocol === "https:" ? "443" : "80";
  return {
    scheme: parsed.protocol.slice(0, -1),
    target: `${parsed.hostname}:${parsed.port || defaultPort}`,
    pathPrefix: parsed.pathname === "" ? "/" : parsed.pathname,
  };
}

/** The prometheus.yml document (serialise with `yaml`). */
export function prometheusConfig(options: PrometheusConfigOptions): Record<string, unknown> {
  if (options.targets.length === 0) {
    throw new UsageError("no scrape target", {
      hint: "pass --target host:port, or leave it out for the config's",
    });
  }
  const alertmanager = alertmanagerEndpoint(options.alertmanagerUrl ?? DEFAULT_ALERTMANAGER_URL);
  return {
    global: { scrape_interval: options.scrapeInterval, evaluation_interval: options.scrapeInterval },
    rule_files: [RULES_PATH],
    alerting: {
      alertmanagers: [
        {
          scheme: alertmanager.scheme,
          path_prefix: alertmanager.pathPrefix,
          static_configs: [{ targets: [alertmanager.target] }],
        },
      ],
    },
    scrape_configs: [
      {
        job_name: SCRAPE_JOB,
        metrics_path: "/metrics",
        static_configs: [{ targets: options.targets.map(checkTarget) }],
      },
    ],
  };
}
