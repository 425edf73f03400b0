/**
 * A real Prometheus (Debian's package) scrapes a running `cryptoml train` every second with the
 * configuration and rules `cryptoml monitoring generate` writes; PromQL answers with the run's loss,
 * throughput and system metrics. The same live /metrics output must declare every metric the generated
 * rules and dashboards name.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/core/free-port.js";
import { parseExposition } from "../../src/monitoring/alerts/exposition.js";
import { SCRAPE_METRICS } from "../../src/monitoring/catalog.js";
import {
  catalogMetricOf,
  dashboards,
  metricNames,
  prometheusRules,
} from "../../src/monitoring/generate/index.js";
import { DEFAULT_RULES } from "../../src/monitoring/rules/defaults.js";
import { REPO_ROOT, runCli, spawnCli } from "../helpers/run-cli.js";

const CONFIG_DIR = join(REPO_ROOT, "config");
const HAS_PROMETHEUS = spawnSync("prometheus", ["--version"]).status === 0;
if (!HAS_PROMETHEUS)
  console.warn("prometheus is not installed (apt-get install prometheus): skipping the scrape test");

let cwd: string;
let train: ChildProcess | undefined;
let prometheus: ChildProcess | undefined;
let metricsUrl: string;
let prometheusUrl: string;
let trainLog = "";

/** Series synthesised by the scraper (Prometheus or cryptoml monitor), not by the target. */
const SCRAPER_SYNTHESISED = new Set<string>(SCRAPE_METRICS.map((m) => m.name));
const NOT_FROM_A_HEALTHY_TRAIN = new Set([
  "cryptoml_errors_total",
  "cryptoml_training_early_stops_total",
  "cryptoml_training_nan_events_total",
  "cryptoml_system_gpu_utilization_ratio",
  "cryptoml_system_gpu_memory_used_bytes",
  "cryptoml_system_gpu_memory_total_bytes",
]);

/**
 * The metric selectors of a PromQL expression with their fixed equality matchers; matchers on template
 * variables (`$symbol`) or regexes are left out, as any series may satisfy them.
 */
function selectorsOf(expr: string): { name: string; matchers: Record<string, string> }[] {
  return metricNames(expr).flatMap((name) => {
    const found = [...expr.matchAll(new RegExp(`(?<![\\w:])${name}(?![\\w:])\\s*(\\{[^}]*\\})?`, "g"))];
    return found.map((m) => {
      const matchers: Record<string, string> = {};
      for (const [, label, value] of (m[1] ?? "").matchAll(/(\w+)\s*=\s*"([^"$]*)"/g)) {
        matchers[label as string] = value as string;
      }
      return { name, matchers };
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; train said:\n${trainLog}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(expr: string): Promise<Sample[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data: { result: Sample[] } };
  expect(body.status, expr).toBe("success");
  return body.data.result;
}

beforeAll(async () => {
  if (!HAS_PROMETHEUS) return;
  cwd = await mkdtemp(join(tmpdir(), "cryptoml-prometheus-"));
  const imported = spawnCli(["--config-dir", CONFIG_DIR, "data", "import", "--bundled"], { cwd });
  expect(imported.code, imported.stderr).toBe(0);
  train = spawn(
    process.execPath,
    [
      join(REPO_ROOT, "bin", "cryptoml.js"),
      ...["--config-dir", CONFIG_DIR, "train", "--duration", "90s", "--symbols", "BTCUSDT", "--model", "gru"],
      ...["--metrics-port", "0", "--no-track"],
    ],
    { cwd, env: { ...process.env, CRYPTOML_MODELS__GRU__HIDDEN_SIZE: "16", CRYPTOML_DATASET__WINDOW: "32" } },
  );
  train.stderr?.on("data", (chunk: Buffer) => {
    trainLog += chunk.toString();
  });
  metricsUrl = await waitFor(
    "the metrics URL",
    async () => /metrics: (http:\/\/\S+\/metrics)/.exec(trainLog)?.[1],
  );
  const target = new URL(metricsUrl).host;
  const out = join(cwd, "monitoring");
  const generated = await runCli(
    ["--config-dir", CONFIG_DIR, "monitoring", "generate", "--out", out, "--target", target],
    { CRYPTOML_MONITORING__SCRAPE_INTERVAL: "1s" },
  );
  expect(generated.code, generated.stderr).toBe(0);
  const port = await freePort();
  prometheusUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    "prometheus",
    [
      `--config.file=${join(out, "prometheus", "prometheus.yml")}`,
      `--storage.tsdb.path=${join(cwd, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd, stdio: "ignore" },
  );
  await waitFor("Prometheus to be ready", async () =>
    (await fetch(`${prometheusUrl}/-/ready`)).ok ? true : undefined,
  );
}, 180_000);

afterAll(async () => {
  train?.kill("SIGKILL");
  prometheus?.kill("SIGTERM");
  if (cwd !== undefined) await rm(cwd, { recursive: true, force: true });
});

describe.skipIf(!HAS_PROMETHEUS)("Prometheus scraping cryptoml train", () => {
  it("answers PromQL with the run's loss, samples/s and system metrics, and loads the generated rules", async () => {
    const loss = await waitFor("a scraped training loss", async () => {
      const found = await query('cryptoml_training_loss{symbol="BTCUSDT",model="gru",split="val"}');
      return found.length > 0 ? found : undefined;
    });
    expect(Number(loss[0]?.value[1])).toBeGreaterThan(0);
    const up = await query('up{job="cryptoml"}');
    expect(up.map((s) => s.value[1])).toEqual(["1"]);
    const throughput = await query('cryptoml_training_samples_per_second{symbol="BTCUSDT"}');
    expect(Number(throughput[0]?.value[1])).toBeGreaterThan(0);
    const rate = await waitFor("two scrapes of the sample counter", async () => {
      const found = await query("rate(cryptoml_training_samples_total[10s])");
      return found.length > 0 && Number(found[0]?.value[1]) > 0 ? found : undefined;
    });
    expect(Number(rate[0]?.value[1])).toBeGreaterThan(0);
    for (const expr of [
      "cryptoml_system_memory_used_bytes",
      "cryptoml_system_cpu_utilization_ratio",
      'cryptoml_system_load_average{period="1m"}',
      "process_resident_memory_bytes",
    ]) {
      expect((await query(expr)).length, expr).toBeGreaterThan(0);
    }
    const rules = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string }[] }[] };
    };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(new Set(loaded.map((r) => r.name))).toEqual(new Set(DEFAULT_RULES.map((r) => r.name)));
    expect(loaded.every((r) => r.health === "ok" || r.health === "unknown")).toBe(true);
  }, 120_000);

  it("serves a series for every selector a generated rule or dashboard uses, label matchers included", async () => {
    const live = parseExposition(await (await fetch(metricsUrl)).text(), metricsUrl);
    const exprs = [
      ...prometheusRules(DEFAULT_RULES).groups.flatMap((g) => g.rules.map((r) => r.expr)),
      ...dashboards().flatMap(({ dashboard }) => [
        ...(dashboard.panels ?? []).flatMap((p) =>
          ((p as { targets?: { expr?: string }[] }).targets ?? []).map((t) => t.expr ?? ""),
        ),
        ...(dashboard.templating?.list ?? []).map((v) => String((v as { query?: unknown }).query ?? "")),
      ]),
    ];
    const selectors = exprs.flatMap((expr) => selectorsOf(expr));
    expect(new Set(selectors.map((s) => s.name)).size).toBeGreaterThan(30);
    const unmatched = selectors.filter(({ name, matchers }) => {
      if (SCRAPER_SYNTHESISED.has(name)) return false;
      const family = catalogMetricOf(name);
      if (family === undefined) return true;
      // What a training process cannot produce: trading (backtests, tuning), data feeds, a GPU,
      // and counters of events this run does not have (errors, early stops, non-finite losses).
      if (
        family.group === "trading" ||
        family.group === "data" ||
        NOT_FROM_A_HEALTHY_TRAIN.has(family.name)
      ) {
        return false;
      }
      return !live.some(
        (sample) =>
          (sample.name === name ||
            sample.name.startsWith(`${family.name}_`) ||
            sample.name === family.name) &&
          Object.entries(matchers).every(([label, value]) => sample.labels[label] === value),
      );
    });
    expect(unmatched.map((s) => `${s.name}${JSON.stringify(s.matchers)}`)).toEqual([]);
  }, 60_000);
});
