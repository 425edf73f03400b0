/**
 * `cryptoml monitoring generate` end to end: the files it writes pass promtool's config and rules
 * checks, the hand-written promtool unit tests in test/fixtures/promtool/ (one per built-in rule, each
 * level at its time) pass on the generated rules and fail on rules escalating a minute late or early, the
 * Alertmanager config passes amtool, and the written dashboards pass every dashboard check.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { DATASOURCE_UID, dashboardProblems, prometheusRules } from "../../src/monitoring/generate/index.js";
import { DEFAULT_RULES } from "../../src/monitoring/rules/defaults.js";
import { REPO_ROOT, runCli } from "../helpers/run-cli.js";

const CONFIG_DIR = join(REPO_ROOT, "config");
const FIXTURES = join(REPO_ROOT, "test", "fixtures", "promtool");
const FIXTURE_FILES = readdirSync(FIXTURES).filter((f) => f.endsWith(".test.yml"));

function toolMissing(tool: string, hint: string): string | undefined {
  const probe = spawnSync(tool, ["--version"], { encoding: "utf8" });
  return probe.status === 0 ? undefined : `${tool} is not installed (${hint})`;
}
const PROMTOOL_MISSING = toolMissing("promtool", "apt-get install prometheus");
const AMTOOL_MISSING = toolMissing("amtool", "apt-get install prometheus-alertmanager");
for (const reason of [PROMTOOL_MISSING, AMTOOL_MISSING]) {
  if (reason) console.warn(`monitoring-generate: SKIPPING checks: ${reason}`);
}

function run(tool: string, args: string[], cwd: string) {
  const result = spawnSync(tool, args, { cwd, encoding: "utf8" });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Copies the promtool unit tests next to a rules file, as their `rule_files: [cryptoml.rules.yml]` expects. */
function promtoolTests(rulesDir: string) {
  for (const file of FIXTURE_FILES) copyFileSync(join(FIXTURES, file), join(rulesDir, file));
  return run("promtool", ["test", "rules", ...FIXTURE_FILES], rulesDir);
}

let root: string;
let out: string;
let stdout: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "cryptoml-monitoring-"));
  out = join(root, "out");
  const result = await runCli(["--config-dir", CONFIG_DIR, "monitoring", "generate", "--out", out]);
  expect(result.code, result.stderr).toBe(0);
  stdout = result.stdout;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("cryptoml monitoring generate", () => {
  it("prints every file it wrote", () => {
    for (const path of [
      "prometheus/prometheus.yml",
      "prometheus/rules/cryptoml.rules.yml",
      "alertmanager/alertmanager.yml",
      "grafana/provisioning/datasources/cryptoml.yml",
      "grafana/provisioning/dashboards/cryptoml.yml",
      "grafana/dashboards/ml-training.json",
    ]) {
      expect(stdout).toContain(path);
      expect(readFileSync(join(out, path), "utf8").length).toBeGreaterThan(0);
    }
  });

  it("scrapes monitoring.host:port at monitoring.scrape_interval unless --target says otherwise", async () => {
    const config = parse(readFileSync(join(out, "prometheus/prometheus.yml"), "utf8"));
    expect(config.global.scrape_interval).toBe("15s");
    expect(config.scrape_configs[0].static_configs[0].targets).toEqual(["127.0.0.1:9464"]);
    const other = join(root, "targets");
    const result = await runCli(
      [
        "--config-dir",
        CONFIG_DIR,
        "monitoring",
        "generate",
        "--out",
        other,
        "--target",
        "a:1",
        "--target",
        "b:2",
      ],
      { CRYPTOML_MONITORING__SCRAPE_INTERVAL: "5s" },
    );
    expect(result.code, result.stderr).toBe(0);
    const written = parse(readFileSync(join(other, "prometheus/prometheus.yml"), "utf8"));
    expect(written.global.evaluation_interval).toBe("5s");
    expect(written.scrape_configs[0].static_configs[0].targets).toEqual(["a:1", "b:2"]);
  });

  it("refuses a non-empty --out without --force and a target that is not host:port", async () => {
    const again = await runCli(["--config-dir", CONFIG_DIR, "monitoring", "generate", "--out", out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--out .* is not empty/);
    expect(again.stderr).toContain("--force");
    const forced = await runCli([
      "--config-dir",
      CONFIG_DIR,
      "monitoring",
      "generate",
      "--out",
      out,
      "--force",
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    const bad = await runCli(["monitoring", "generate", "--out", join(root, "bad"), "--target", "nohost"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--target nohost is not host:port");
  });

  it("writes dashboards that pass every dashboard check as read back from disk", () => {
    for (const file of readdirSync(join(out, "grafana/dashboards"))) {
      const dashboard = JSON.parse(readFileSync(join(out, "grafana/dashboards", file), "utf8"));
      expect(dashboardProblems(dashboard, DATASOURCE_UID), file).toEqual([]);
    }
  });
});

describe("promtool unit tests in test/fixtures/promtool", () => {
  interface AlertCase {
    alertname: string;
    exp_alerts: { exp_labels: { severity: string } }[];
  }
  const fixtures = FIXTURE_FILES.map(
    (file) =>
      parse(readFileSync(join(FIXTURES, file), "utf8")) as { tests: { alert_rule_test: AlertCase[] }[] },
  );
  const cases = fixtures.flatMap((f) => f.tests.flatMap((t) => t.alert_rule_test));

  it("cover every rule: each severity fires, and a case where nothing fires", () => {
    expect(new Set(cases.map((c) => c.alertname))).toEqual(new Set(DEFAULT_RULES.map((r) => r.name)));
    for (const rule of DEFAULT_RULES) {
      const own = cases.filter((c) => c.alertname === rule.name);
      expect(
        own.some((c) => c.exp_alerts.length === 0),
        `${rule.name} has no quiet case`,
      ).toBe(true);
      const fired = new Set(own.flatMap((c) => c.exp_alerts.map((a) => a.exp_labels.severity)));
      expect(fired, rule.name).toEqual(new Set(rule.levels.map((l) => l.severity)));
    }
  });
});

describe.skipIf(PROMTOOL_MISSING !== undefined)("promtool", () => {
  it("checks the scrape config and the rules", () => {
    const config = run("promtool", ["check", "config", "prometheus/prometheus.yml"], out);
    expect(config.code, config.output).toBe(0);
    const rules = run("promtool", ["check", "rules", "prometheus/rules/cryptoml.rules.yml"], out);
    expect(rules.code, rules.output).toBe(0);
    expect(rules.output).toContain(`${DEFAULT_RULES.reduce((n, r) => n + r.levels.length, 0)} rules found`);
  });

  it("passes the unit test of every rule on the generated rules", () => {
    const result = promtoolTests(join(out, "prometheus/rules"));
    expect(result.code, result.output).toBe(0);
    expect(result.output.match(/SUCCESS/g)).toHaveLength(FIXTURE_FILES.length);
  });

  it.each([
    ["late", 60_000],
    ["early", -60_000],
  ])("fails every unit test on rules whose last level escalates a minute %s", (name, shiftMs) => {
    const shifted = DEFAULT_RULES.map((rule) => ({
      ...rule,
      levels: rule.levels.map((l, i) =>
        i === rule.levels.length - 1 ? { ...l, afterMs: l.afterMs + shiftMs } : l,
      ),
    }));
    const dir = mkdtempSync(join(root, `${name}-`));
    writeFileSync(join(dir, "cryptoml.rules.yml"), stringify(prometheusRules(shifted)));
    const result = promtoolTests(dir);
    expect(result.code).not.toBe(0);
    expect(result.output.match(/FAILED/g), result.output).toHaveLength(FIXTURE_FILES.length);
  });
});

if (PROMTOOL_MISSING) {
  describe("promtool", () => it.skip(`SKIPPED: ${PROMTOOL_MISSING}`, () => {}));
}

describe("amtool", () => {
  it.skipIf(AMTOOL_MISSING !== undefined)("checks the Alertmanager config", () => {
    const result = run("amtool", ["check-config", "alertmanager/alertmanager.yml"], out);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain("3 inhibit rules");
  });
  if (AMTOOL_MISSING) it.skip(`SKIPPED: ${AMTOOL_MISSING}`, () => {});
});
