import { resolve } from "node:path";
import { type Command, Option } from "commander";
import { loadConfig } from "../../config/index.js";
import { alertRules } from "../../monitoring/alerts/from-config.js";
import { durationMs } from "../../monitoring/alerts/labels.js";
import {
  DEFAULT_ALERTMANAGER_URL,
  DEFAULT_PROMETHEUS_URL,
  DEFAULT_WEBHOOK_URL,
  generateFiles,
  writeFiles,
} from "../../monitoring/generate/index.js";
import { type CliContext, print } from "../context.js";

interface GenerateCliOptions {
  out: string;
  target: string[];
  alertmanager: string;
  webhookUrl: string;
  prometheusUrl: string;
  force: boolean;
}

const GENERATE_HELP = `
Writes, under --out:
  prometheus/prometheus.yml                      scrape job "cryptoml", rule_files, alerting
  prometheus/rules/cryptoml.rules.yml            the built-in alert rules, one rule per escalation level
  alertmanager/alertmanager.yml                  a route and webhook receiver per severity, inhibit rules
  grafana/provisioning/datasources/cryptoml.yml  the Prometheus datasource (uid cryptoml-prometheus)
  grafana/provisioning/dashboards/cryptoml.yml   a file provider for grafana/dashboards
  grafana/dashboards/*.json                      Trading Overview, ML Training, Data Collection, System Performance

Check them with: promtool check config DIR/prometheus/prometheus.yml; amtool check-config DIR/alertmanager/alertmanager.yml
See docs/monitoring.md ("Prometheus, Alertmanager and Grafana files").
`;

const collect = (value: string, previous: string[]) => [...previous, value];

async function generate(ctx: CliContext, options: GenerateCliOptions): Promise<void> {
  const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
  const monitoring = config.monitoring;
  const outDir = resolve(options.out);
  const files = generateFiles(outDir, {
    rules: await alertRules(config.alerting),
    groupBy: config.alerting.group_by,
    // The schema has validated both durations, and defaults them (0s, 1m) when absent.
    groupWaitMs: durationMs(config.alerting.group_wait) as number,
    groupIntervalMs: durationMs(config.alerting.group_interval) as number,
    targets: options.target.length > 0 ? options.target : [`${monitoring.host}:${monitoring.port}`],
    scrapeInterval: monitoring.scrape_interval,
    alertmanagerUrl: options.alertmanager,
    webhookUrl: options.webhookUrl,
    prometheusUrl: options.prometheusUrl,
  });
  const written = await writeFiles(outDir, files, { force: options.force });
  print(
    ctx.stdout,
    [`wrote ${written.length} files under ${outDir}:`, ...files.map((f) => `  ${f.path}`)].join("\n"),
  );
}

/** Adds `monitoring generate`: Prometheus, Alertmanager and Grafana files for an existing setup. */
export function registerMonitoringCommands(program: Command, getContext: () => CliContext): void {
  const monitoring = program
    .command("monitoring")
    .description("files that plug cryptoml into Prometheus, Alertmanager and Grafana");
  monitoring
    .command("generate")
    .description("write Prometheus scrape config and rules, Alertmanager routes and Grafana dashboards")
    .requiredOption("--out <dir>", "directory to write into (must be empty or new unless --force)")
    .addOption(
      new Option("--target <host:port>", "a cryptoml /metrics endpoint to scrape; repeat for several")
        .argParser(collect)
        .default([], "monitoring.host:monitoring.port"),
    )
    .option("--alertmanager <url>", "where Prometheus sends alerts", DEFAULT_ALERTMANAGER_URL)
    .option(
      "--webhook-url <url>",
      "base URL of the Alertmanager webhook receivers, + /<severity>",
      DEFAULT_WEBHOOK_URL,
    )
    .option("--prometheus-url <url>", "where Grafana reaches Prometheus", DEFAULT_PROMETHEUS_URL)
    .option("--force", "overwrite the generated files in a non-empty --out", false)
    .addHelpText("after", GENERATE_HELP)
    .action(async (options: GenerateCliOptions) => generate(getContext(), options));
}
