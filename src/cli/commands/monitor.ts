/**
 * `cryptoml monitor`: the alert evaluation service, and the commands that talk to a running one
 * (`ack`, `silence`, `silences`, `alerts`).
 */
import type { Command } from "commander";
import { loadAlertingFile } from "../../config/alerting-file.js";
import { loadConfig } from "../../config/index.js";
import type { AlertingConfig } from "../../config/schema/alerting.js";
import { UsageError } from "../../core/errors.js";
import { MonitorClient } from "../../monitoring/alerts/client.js";
import type { AlertView } from "../../monitoring/alerts/escalation.js";
import { createMonitor } from "../../monitoring/alerts/from-config.js";
import { parseMatchers } from "../../monitoring/alerts/labels.js";
import { runRounds } from "../../monitoring/alerts/rounds.js";
import type { RoundSummary } from "../../monitoring/alerts/service.js";
import { startExporter } from "../../monitoring/exporter.js";
import { TOKEN_ENV } from "../../monitoring/http-types.js";
import { type CliContext, print } from "../context.js";

interface ConfigOption {
  config?: string;
}

async function alertingConfig(ctx: CliContext, options: ConfigOption): Promise<AlertingConfig> {
  if (options.config !== undefined) return loadAlertingFile(options.config);
  return (await loadConfig({ configDir: ctx.configDir, env: ctx.env })).config.alerting;
}

function statusLine(round: RoundSummary): string {
  const time = new Date(round.atMs).toISOString();
  const failed = round.failedDeliveries > 0 ? `, ${round.failedDeliveries} failed` : "";
  return `${time} targets ${round.targetsUp} up ${round.targetsDown} down, alerts ${round.firing} firing ${round.pending} pending, ${round.notifications.length} notification(s)${failed}`;
}

async function runService(ctx: CliContext, options: ConfigOption & { once?: boolean }): Promise<void> {
  const config = await alertingConfig(ctx, options);
  const log = (line: string) => print(ctx.stdout, line);
  // Bound once the exporter (and its registry) runs; --once has no registry, its status line counts them.
  let countError = () => {};
  const monitor = await createMonitor(config, { log, onDeliveryFailure: () => countError() });
  const token = ctx.env[TOKEN_ENV];
  if (options.once) {
    const round = await monitor.service.evaluate();
    print(ctx.stdout, statusLine(round));
    return;
  }
  const exporter = await startExporter({
    config: { host: config.host, port: config.port },
    command: "monitor",
    routes: monitor.routes,
    ...(token ? { token } : {}),
    log: (line) => print(ctx.stderr, line),
  });
  const errors = exporter.metrics.counter("cryptoml_errors_total");
  countError = () => errors.inc({ component: "alerting" });
  print(
    ctx.stderr,
    `monitor: ${monitor.rules.length} rules on ${config.targets.join(", ")}; API ${exporter.url}/api/alerts`,
  );
  if (!token)
    print(ctx.stderr, `monitor: ${TOKEN_ENV} is not set, so acknowledging and silencing are refused`);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await runRounds({
      intervalMs: monitor.intervalMs,
      signal: controller.signal,
      round: async () => {
        const round = await monitor.service.evaluate();
        if (ctx.verbose) print(ctx.stderr, statusLine(round));
      },
      onError: (error) => {
        countError();
        const reason = error instanceof Error ? (error.stack ?? error.message) : String(error);
        print(ctx.stderr, `monitor: evaluation round failed, continuing with the next: ${reason}`);
      },
    });
    print(ctx.stderr, "monitor: stopped");
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await exporter.close();
  }
}

async function clientFor(ctx: CliContext, options: ConfigOption & { url?: string }): Promise<MonitorClient> {
  const token = ctx.env[TOKEN_ENV];
  let url = options.url;
  if (url === undefined) {
    const config = await alertingConfig(ctx, options);
    url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${config.port}`;
  }
  return new MonitorClient({ url, ...(token ? { token } : {}) });
}

function matchersOf(args: readonly string[] | undefined): Record<string, string> | undefined {
  if (args === undefined || args.length === 0) return undefined;
  const parsed = parseMatchers(args);
  if ("bad" in parsed)
    throw new UsageError(`--match ${parsed.bad} is not name=value`, {
      hint: "e.g. --match alertname=TrainingStalled",
    });
  return parsed.matchers;
}

function alertLine(a: AlertView): string {
  const { alertname, severity, instance, ...rest } = a.labels;
  const labels = Object.entries(rest)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const flags = [a.acknowledged ? `acked by ${a.acknowledged.by}` : "", a.silencedBy.length ? "silenced" : ""]
    .filter(Boolean)
    .join(", ");
  const state = a.state === "firing" ? (severity ?? "firing") : "pending";
  return `${a.fingerprint}  ${(alertname ?? "").padEnd(24)} ${state.padEnd(9)} ${labels} @${instance ?? ""}${flags ? `  (${flags})` : ""}`;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerMonitorCommands(program: Command, getContext: () => CliContext): void {
  const monitor = program
    .command("monitor")
    .description("the alert evaluation service (the default, `monitor run`) and commands for a running one");
  // `run` is the default so that `cryptoml monitor --config FILE` starts the service, and each
  // subcommand owns its --config (a parent option would swallow theirs).
  monitor
    .command("run", { isDefault: true })
    .description("evaluate alert rules on cryptoml /metrics, escalate and notify (Ctrl-C stops)")
    .option(
      "--config <file>",
      "a monitoring.yaml with an alerting: section (default: <config-dir>/monitoring.yaml)",
    )
    .option("--once", "evaluate once, print the notifications and a status line, and exit")
    .action((options: ConfigOption & { once?: boolean }) => runService(getContext(), options));

  const withClient = (command: Command) =>
    command
      .option("--url <url>", "the monitor's API (default: http://<alerting.host>:<alerting.port>)")
      .option("--config <file>", "a monitoring.yaml to read alerting.host/port from");
  const client = (options: ConfigOption & { url?: string }) => clientFor(getContext(), options);

  withClient(monitor.command("alerts").description("list the active alerts of a running monitor"))
    .option("--json", "print the API's JSON")
    .action(async (options: ConfigOption & { url?: string; json?: boolean }) => {
      const ctx = getContext();
      const result = await (await client(options)).alerts();
      if (options.json) return print(ctx.stdout, JSON.stringify(result, null, 2));
      for (const t of result.targets.filter((t) => !t.up))
        print(ctx.stdout, `target ${t.target} DOWN: ${t.error ?? ""}`);
      if (result.alerts.length === 0) return print(ctx.stdout, "no active alerts");
      for (const a of result.alerts) print(ctx.stdout, alertLine(a));
    });

  withClient(monitor.command("ack").description("acknowledge alerts: stops their escalation and repeats"))
    .argument("[fingerprint]", "the alert's fingerprint (see `cryptoml monitor alerts`)")
    .option("--match <name=value>", "acknowledge every firing alert with this label (repeatable)", collect)
    .option("--comment <text>", "why, or who is on it", "")
    .action(
      async (
        fingerprint: string | undefined,
        options: ConfigOption & { url?: string; match?: string[]; comment: string },
      ) => {
        const ctx = getContext();
        const matchers = matchersOf(options.match);
        if ((fingerprint === undefined) === (matchers === undefined))
          throw new UsageError("give either a fingerprint or --match name=value", {
            hint: "e.g. `cryptoml monitor ack 1a30ba71cca2921f` or `cryptoml monitor ack --match alertname=TrainingStalled`",
          });
        const by = ctx.env.USER ?? "cli";
        const result = await (await client(options)).acknowledge({
          ...(fingerprint === undefined ? {} : { fingerprint }),
          ...(matchers === undefined ? {} : { matchers }),
          by,
          comment: options.comment,
        });
        print(ctx.stdout, `acknowledged ${result.acknowledged.length} alert(s)`);
        for (const a of result.acknowledged) print(ctx.stdout, alertLine(a));
      },
    );

  withClient(monitor.command("silence").description("mute matching alerts for a while (they stay visible)"))
    .requiredOption("--match <name=value>", "label the silenced alerts carry (repeatable)", collect)
    .requiredOption("--for <duration>", "how long, e.g. 30m, 2h, 1d")
    .option("--comment <text>", "why", "")
    .action(
      async (options: ConfigOption & { url?: string; match: string[]; for: string; comment: string }) => {
        const ctx = getContext();
        const matchers = matchersOf(options.match) ?? {};
        const result = await (await client(options)).silence({
          matchers,
          duration: options.for,
          comment: options.comment,
          createdBy: ctx.env.USER ?? "cli",
        });
        print(
          ctx.stdout,
          `silence ${result.silence.id} until ${new Date(result.silence.endsAtMs).toISOString()}`,
        );
      },
    );

  withClient(monitor.command("silences").description("list the silences of a running monitor")).action(
    async (options: ConfigOption & { url?: string }) => {
      const ctx = getContext();
      const { silences } = await (await client(options)).silences();
      if (silences.length === 0) return print(ctx.stdout, "no silences");
      for (const s of silences) {
        const matchers = Object.entries(s.matchers)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ");
        print(ctx.stdout, `${s.id}  ${matchers}  until ${new Date(s.endsAtMs).toISOString()}  ${s.comment}`);
      }
    },
  );
}
