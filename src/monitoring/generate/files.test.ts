import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { useTempDirs } from "../../../test/helpers/temp-dir.js";
import { UsageError } from "../../core/errors.js";
import { DEFAULT_RULES } from "../rules/defaults.js";
import { generateFiles, writeFiles } from "./files.js";
import { DATASOURCE_UID } from "./panels.js";
import { prometheusConfig } from "./prometheus-config.js";

const tempDir = useTempDirs();
const OPTIONS = { rules: DEFAULT_RULES, targets: ["127.0.0.1:9464"], scrapeInterval: "10s" };

describe("generateFiles", () => {
  it("lays out Prometheus, Alertmanager and Grafana files", () => {
    const files = generateFiles("/srv/monitoring", OPTIONS);
    expect(files.map((f) => f.path)).toEqual([
      "prometheus/prometheus.yml",
      "prometheus/rules/cryptoml.rules.yml",
      "alertmanager/alertmanager.yml",
      "grafana/provisioning/datasources/cryptoml.yml",
      "grafana/provisioning/dashboards/cryptoml.yml",
      "grafana/dashboards/trading-overview.json",
      "grafana/dashboards/ml-training.json",
      "grafana/dashboards/data-collection.json",
      "grafana/dashboards/system-performance.json",
    ]);
    const content = (path: string) => files.find((f) => f.path === path)?.content ?? "";
    expect(parse(content("prometheus/prometheus.yml")).global).toEqual({
      scrape_interval: "10s",
      evaluation_interval: "10s",
    });
    const datasource = parse(content("grafana/provisioning/datasources/cryptoml.yml")).datasources[0];
    expect(datasource).toMatchObject({
      uid: DATASOURCE_UID,
      type: "prometheus",
      url: "http://127.0.0.1:9090",
    });
    const provider = parse(content("grafana/provisioning/dashboards/cryptoml.yml")).providers[0];
    expect(provider.options.path).toBe(join("/srv/monitoring", "grafana", "dashboards"));
    expect(JSON.parse(content("grafana/dashboards/ml-training.json")).title).toBe("ML Training");
  });
});

describe("prometheusConfig", () => {
  it("points alerting at the Alertmanager URL's host, scheme and path", () => {
    const config = prometheusConfig({ ...OPTIONS, alertmanagerUrl: "https://am.example/prefix" });
    expect((config.alerting as { alertmanagers: unknown[] }).alertmanagers[0]).toEqual({
      scheme: "https",
      path_prefix: "/prefix",
      static_configs: [{ targets: ["am.example:443"] }],
    });
  });

  it("rejects a target that is not host:port and a URL that is not http(s)", () => {
    expect(() => prometheusConfig({ ...OPTIONS, targets: ["localhost"] })).toThrow(UsageError);
    expect(() => prometheusConfig({ ...OPTIONS, targets: ["h:70000"] })).toThrow(/--target h:70000/);
    expect(() => prometheusConfig({ ...OPTIONS, alertmanagerUrl: "am:9093" })).toThrow(/--alertmanager/);
  });
});

describe("writeFiles", () => {
  const files = [{ path: "a/b.yml", content: "x: 1\n" }];

  it("writes into a new directory and refuses a non-empty one unless forced", async () => {
    const out = join(tempDir(), "out");
    expect(await writeFiles(out, files)).toEqual([join(out, "a/b.yml")]);
    await expect(writeFiles(out, files)).rejects.toThrow(/is not empty \(a\)/);
    await writeFile(join(out, "keep.txt"), "mine");
    await writeFiles(out, [{ path: "a/b.yml", content: "x: 2\n" }], { force: true });
    expect(await readFile(join(out, "a/b.yml"), "utf8")).toBe("x: 2\n");
    expect((await readdir(out)).sort()).toEqual(["a", "keep.txt"]);
  });

  it("writes into an existing empty directory", async () => {
    const out = join(tempDir(), "empty");
    await mkdir(out);
    await expect(writeFiles(out, files)).resolves.toHaveLength(1);
  });
});
