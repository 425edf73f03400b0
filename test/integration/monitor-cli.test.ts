/**
 * `cryptoml monitor` from the command line: one evaluation with --once, configuration errors with
 * file:line, the long-running service stopped by Ctrl-C, and `alerts`, `ack`, `silence`, `silences`
 * talking to a running monitor with clear errors for a missing or wrong token and a monitor that is not there.
 */
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { alertingSchema } from "../../src/config/schema/alerting.js";
import { freePort } from "../../src/core/free-port.js";
import { createMonitor } from "../../src/monitoring/alerts/from-config.js";
import { createMetricsRegistry } from "../../src/monitoring/registry.js";
import { startMetricsServer } from "../../src/monitoring/server.js";
import { runCli } from "../helpers/run-cli.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const TOKEN = "cli-token";
const NO_TOKEN = { CRYPTOML_MONITOR_TOKEN: "" };
const NAN_LOSS = 'cryptoml_training_step_loss{symbol="BTCUSDT",model="lstm"} NaN\n';

const tempDir = useTempDirs();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

async function nanTarget(): Promise<string> {
  const port = await listen(createServer((_req, res) => res.end(NAN_LOSS)));
  return `http://127.0.0.1:${port}/metrics`;
}

function configFile(lines: string[]): string {
  const path = join(tempDir(), "my-monitoring.yaml");
  writeFileSync(path, lines.join("\n"));
  return path;
}

/** A monitor with its API, evaluated once over a NaN loss. */
async function runningMonitor(): Promise<{ url: string; fingerprint: string }> {
  const config = alertingSchema.parse({ targets: [await nanTarget()] });
  const monitor = await createMonitor(config, { log: () => {} });
  const server = await startMetricsServer({
    port: 0,
    registry: createMetricsRegistry({ command: "monitor", version: "test", defaultMetrics: false }),
    routes: monitor.routes,
    token: TOKEN,
  });
  closers.push(() => server.close());
  await monitor.service.evaluate();
  return { url: server.url, fingerprint: monitor.service.alerts()[0]?.fingerprint ?? "" };
}

describe("cryptoml monitor", () => {
  it("--once evaluates once, prints the notifications and a status line", async () => {
    const file = configFile([
      "alerting:",
      "  targets:",
      `    - ${await nanTarget()}`,
      "    - http://127.0.0.1:1/metrics",
    ]);
    const result = await runCli(["monitor", "--config", file, "--once"], NO_TOKEN);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\[firing\] TrainingLossNotFinite critical [0-9a-f]{16} .*symbol=BTCUSDT/);
    expect(result.stdout).toContain("target http://127.0.0.1:1/metrics is down");
    // The down target is TargetDown, pending for its 1m `for:`.
    expect(result.stdout).toMatch(/targets 1 up 1 down, alerts 1 firing 1 pending, 1 notification\(s\)/);
  });

  it("reports a bad alerting section and a bad rules file with their lines", async () => {
    const bad = configFile(["alerting:", "  port: 99999", "  group_wait: soon"]);
    const result = await runCli(["monitor", "--config", bad, "--once"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${bad}:2 alerting.port: 99999 must be an integer >= 1 and <= 65535`);
    expect(result.stderr).toContain(`${bad}:3 alerting.group_wait: "soon" must be a duration like`);

    const rules = join(tempDir(), "rules.yaml");
    writeFileSync(rules, "rules:\n  - name: DiskHigh\n    for: later\n");
    const withRules = configFile(["alerting:", `  rules_file: ${rules}`]);
    const second = await runCli(["monitor", "--config", withRules, "--once"]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`${rules}:3:10 rules[0].for: must be a duration like`);
  });

  it("a level naming an unconfigured receiver is refused", async () => {
    const file = configFile([
      "alerting:",
      "  default_levels:",
      "    - { severity: warning, after: 0s, receivers: [log, webhook], repeat: 1h }",
    ]);
    const result = await runCli(["monitor", "--config", file, "--once"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `${file}:3 alerting.default_levels[0].receivers[1]: "webhook" must be a configured receiver (log)`,
    );
  });

  it("runs until Ctrl-C and serves its API meanwhile", async () => {
    const port = await freePort();
    const file = configFile([
      "alerting:",
      `  targets: [${await nanTarget()}]`,
      `  port: ${port}`,
      "  evaluation_interval: 50ms",
    ]);
    const running = runCli(["--verbose", "monitor", "--config", file], { CRYPTOML_MONITOR_TOKEN: TOKEN });
    let listed = { code: -1, stdout: "", stderr: "" };
    for (let i = 0; i < 100 && !listed.stdout.includes("TrainingLossNotFinite"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      listed = await runCli(["monitor", "alerts", "--config", file]);
    }
    expect(listed.stdout, listed.stderr).toMatch(/^[0-9a-f]{16}\s+TrainingLossNotFinite\s+critical/m);
    process.emit("SIGINT");
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("monitor: stopped");
    expect(result.stderr).toMatch(/alerts 1 firing/);
  });

  it('counts deliveries that failed in cryptoml_errors_total{component="alerting"} on its /metrics', async () => {
    const hook = await listen(
      createServer((_req, res) => {
        res.statusCode = 500;
        res.end("down for maintenance");
      }),
    );
    const rules = join(tempDir(), "rules.yaml");
    writeFileSync(
      rules,
      [
        "rules:",
        "  - name: TrainingLossNotFinite",
        "    levels:",
        "      - { severity: critical, after: 0s, receivers: [log, webhook], repeat: 1h }",
      ].join("\n"),
    );
    const port = await freePort();
    const file = configFile([
      "alerting:",
      `  targets: [${await nanTarget()}]`,
      `  port: ${port}`,
      "  evaluation_interval: 50ms",
      `  rules_file: ${rules}`,
      "  receivers:",
      `    webhook: { url: "http://127.0.0.1:${hook}/hook", retries: 0 }`,
    ]);
    const running = runCli(["monitor", "--config", file], NO_TOKEN);
    const counted = /^cryptoml_errors_total\{component="alerting"\} 1$/m;
    let exposition = "";
    for (let i = 0; i < 100 && !counted.test(exposition); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      exposition = await fetch(`http://127.0.0.1:${port}/metrics`)
        .then((r) => r.text())
        .catch(() => "");
    }
    process.emit("SIGINT");
    const result = await running;
    expect(exposition).toMatch(counted);
    expect(result.stdout).toContain("notification to webhook failed");
  });

  it("alerts, ack, silence and silences talk to a running monitor", async () => {
    const { url, fingerprint } = await runningMonitor();
    const alerts = await runCli(["monitor", "alerts", "--url", url]);
    expect(alerts.code, alerts.stderr).toBe(0);
    expect(alerts.stdout).toContain(`${fingerprint}  TrainingLossNotFinite`);
    const json = await runCli(["monitor", "alerts", "--url", url, "--json"]);
    expect(JSON.parse(json.stdout).alerts[0]).toMatchObject({ fingerprint, severity: "critical" });

    const noToken = await runCli(["monitor", "ack", fingerprint, "--url", url], NO_TOKEN);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("CRYPTOML_MONITOR_TOKEN is not set");
    const wrong = await runCli(["monitor", "ack", fingerprint, "--url", url], {
      CRYPTOML_MONITOR_TOKEN: "nope",
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`the monitor at ${url} refused the bearer token`);
    const unknown = await runCli(["monitor", "ack", "0123456789abcdef", "--url", url], {
      CRYPTOML_MONITOR_TOKEN: TOKEN,
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no firing alert has fingerprint 0123456789abcdef");

    const acked = await runCli(
      ["monitor", "ack", "--match", "alertname=TrainingLossNotFinite", "--comment", "on it", "--url", url],
      {
        CRYPTOML_MONITOR_TOKEN: TOKEN,
      },
    );
    expect(acked.code, acked.stderr).toBe(0);
    expect(acked.stdout).toContain("acknowledged 1 alert(s)");
    expect((await runCli(["monitor", "alerts", "--url", url])).stdout).toContain("acked by");

    const silenced = await runCli(
      ["monitor", "silence", "--match", "symbol=BTCUSDT", "--for", "2h", "--url", url],
      {
        CRYPTOML_MONITOR_TOKEN: TOKEN,
      },
    );
    expect(silenced.code, silenced.stderr).toBe(0);
    expect(silenced.stdout).toMatch(/^silence \S+ until \d{4}-/);
    const silences = await runCli(["monitor", "silences", "--url", url]);
    expect(silences.stdout).toContain("symbol=BTCUSDT");
    const badFor = await runCli(
      ["monitor", "silence", "--match", "symbol=X", "--for", "soon", "--url", url],
      {
        CRYPTOML_MONITOR_TOKEN: TOKEN,
      },
    );
    expect(badFor.code).toBe(2);
    expect(badFor.stderr).toContain('duration "soon" is not a positive duration');
  });

  it("says clearly when no monitor is running or the arguments are wrong", async () => {
    const down = await runCli(["monitor", "alerts", "--url", `http://127.0.0.1:${await freePort()}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("no monitor answers at");
    expect(down.stderr).toContain("start it with `cryptoml monitor`");
    const neither = await runCli(["monitor", "ack", "--url", "http://127.0.0.1:1"], {
      CRYPTOML_MONITOR_TOKEN: TOKEN,
    });
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("give either a fingerprint or --match name=value");
  });
});
