import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONFIG_DIR } from "../../test/helpers/config-fixtures.js";
import { ConfigError } from "../core/errors.js";
import { loadAlertingFile } from "./alerting-file.js";
import { defaultConfig, loadConfig } from "./index.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "cryptoml-alerting-"));
  dirs.push(dir);
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe("the alerting: section", () => {
  it("has the documented defaults, and config/monitoring.yaml spells them all out", async () => {
    const defaults = defaultConfig().alerting;
    expect(defaults).toEqual({
      targets: ["http://127.0.0.1:9464/metrics"],
      evaluation_interval: "15s",
      host: "127.0.0.1",
      port: 9465,
      external_url: null,
      rules_file: null,
      group_by: ["alertname"],
      group_wait: "0s",
      group_interval: "1m",
      receivers: { webhook: null, slack: null },
      default_levels: null,
    });
    const written = parse(await readFile(join(CONFIG_DIR, "monitoring.yaml"), "utf8")).alerting;
    expect(written).toEqual(defaults);
    expect((await loadConfig({ configDir: CONFIG_DIR })).config.alerting).toEqual(defaults);
  });

  it("loadConfig reports alerting problems with monitoring.yaml's line", async () => {
    const path = await file(
      "monitoring.yaml",
      "alerting:\n  targets: [ftp://x]\n  receivers:\n    webhook: { url: http://h/x, retries: -1 }\n",
    );
    const error = await loadConfig({ configDir: join(path, "..") }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      `${path}:2 alerting.targets[0]: "ftp://x" must be an http:// or https:// URL of a /metrics endpoint`,
      `${path}:4 alerting.receivers.webhook.retries: -1 must be an integer >= 0 and <= 10`,
    ]);
  });

  it("default_levels get the rules file's ladder checks, each with its file:line", async () => {
    const text = [
      "alerting:",
      "  default_levels:",
      "    - { severity: warning, after: 5m, receivers: [log], repeat: 0s }",
      "    - { severity: critical, after: 1m, receivers: [log], repeat: 1h }",
      "",
    ].join("\n");
    const path = await file("monitoring.yaml", text);
    const expected = [
      `${path}:3 alerting.default_levels[0].after: the first level must start at once: after: 0s`,
      `${path}:3 alerting.default_levels[0].repeat: must be longer than 0s, e.g. 1h`,
      `${path}:4 alerting.default_levels[1].after: must be later than the level before (5m); list levels in the order they escalate`,
    ];
    const fromFile = await loadAlertingFile(path).catch((e: unknown) => e);
    expect((fromFile as ConfigError).problems).toEqual(expected);
    const fromLoader = await loadConfig({ configDir: join(path, "..") }).catch((e: unknown) => e);
    expect((fromLoader as ConfigError).problems).toEqual(expected);
  });

  it("loadAlertingFile reads the section from a file of any name and ignores the others", async () => {
    const path = await file(
      "prod.yaml",
      "monitoring:\n  port: 1\nalerting:\n  port: 9999\n  group_by: [alertname, symbol]\n",
    );
    expect(await loadAlertingFile(path)).toMatchObject({
      port: 9999,
      group_by: ["alertname", "symbol"],
      host: "127.0.0.1",
    });
    expect((await loadAlertingFile(await file("empty.yaml", ""))).port).toBe(9465);
  });

  it("loadAlertingFile names file:line of each problem, unknown keys included", async () => {
    const path = await file("m.yaml", "alerting:\n  evaluation_interval: often\n  grup_by: [x]\n");
    const error = await loadAlertingFile(path).catch((e: unknown) => e);
    expect((error as ConfigError).problems).toEqual([
      `${path}:2 alerting.evaluation_interval: "often" must be a duration like "0s", "500ms", "15s", "5m", "2h", "1d" or "1h30m"`,
      `${path}:3 alerting.grup_by: unknown key (did you mean "group_by"?)`,
    ]);
    await expect(loadAlertingFile(join(path, "..", "missing.yaml"))).rejects.toThrow(
      /missing\.yaml: cannot be read \(ENOENT\)/,
    );
  });
});
