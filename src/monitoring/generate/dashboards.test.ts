import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import { describe, expect, it } from "vitest";
import { METRICS } from "../catalog.js";
import { dashboardProblems } from "./dashboard-checks.js";
import { dashboards } from "./dashboards.js";
import { DATASOURCE_UID } from "./panels.js";
import { catalogMetricOf, metricNames } from "./promql.js";

const built = dashboards();
const byTitle = (title: string): Dashboard => {
  const found = built.find((d) => d.dashboard.title === title)?.dashboard;
  if (found === undefined) throw new Error(`no dashboard ${title}`);
  return found;
};
// Through JSON, as Grafana reads the files (the SDK objects carry marker functions).
const copy = (title: string): Dashboard => JSON.parse(JSON.stringify(byTitle(title)));
type AnyPanel = {
  id: number;
  type: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; datasource: { uid: string } }[];
};
const panelsOf = (d: Dashboard) => (d.panels ?? []) as unknown as AnyPanel[];
const expressions = (d: Dashboard) => panelsOf(d).flatMap((p) => (p.targets ?? []).map((t) => t.expr));

describe("generated dashboards", () => {
  it("are the four dashboards, each in its own file with a stable uid", () => {
    expect(built.map((d) => [d.file, d.dashboard.title, d.dashboard.uid])).toEqual([
      ["trading-overview.json", "Trading Overview", "cryptoml-trading-overview"],
      ["ml-training.json", "ML Training", "cryptoml-ml-training"],
      ["data-collection.json", "Data Collection", "cryptoml-data-collection"],
      ["system-performance.json", "System Performance", "cryptoml-system-performance"],
    ]);
  });

  it.each(built.map((d) => [d.dashboard.title as string]))("%s passes every check", (title) => {
    expect(dashboardProblems(copy(title), DATASOURCE_UID)).toEqual([]);
  });

  it("filter by symbol, model and strategy variables filled from label_values", () => {
    const names = (title: string) => (byTitle(title).templating.list ?? []).map((v) => v.name);
    expect(names("ML Training")).toEqual(["symbol", "model"]);
    expect(names("Trading Overview")).toEqual(["symbol", "strategy"]);
    const model = byTitle("ML Training").templating.list?.[1];
    expect(model?.query).toMatchObject({ query: "label_values(cryptoml_training_loss, model)" });
  });

  it("show what each dashboard is for", () => {
    expect(expressions(byTitle("ML Training"))).toEqual(
      expect.arrayContaining([
        'cryptoml_training_loss{symbol=~"$symbol",model=~"$model"}',
        'rate(cryptoml_training_steps_total{symbol=~"$symbol",model=~"$model"}[5m])',
      ]),
    );
    const read = (title: string) => new Set(expressions(byTitle(title)).flatMap(metricNames));
    expect(read("Data Collection")).toContain("cryptoml_data_processing_seconds_bucket");
    // Every metric of a group is on its dashboard.
    const groups = {
      training: "ML Training",
      trading: "Trading Overview",
      data: "Data Collection",
      system: "System Performance",
    } as const;
    for (const [group, title] of Object.entries(groups)) {
      const shown = new Set([...read(title)].map((n) => catalogMetricOf(n)?.name));
      for (const spec of METRICS.filter((m) => m.group === group)) expect(shown, title).toContain(spec.name);
    }
  });
});

describe("dashboardProblems", () => {
  const title = "ML Training";

  it("finds duplicate ids, overlapping panels and panels past the grid", () => {
    const d = copy(title);
    const [, first, second] = panelsOf(d);
    if (first === undefined || second === undefined) throw new Error("too few panels");
    second.id = first.id;
    second.gridPos = { ...first.gridPos, x: first.gridPos.x + 1 };
    const problems = dashboardProblems(d, DATASOURCE_UID).map((p) => p.problem);
    expect(problems).toContain(`id ${first.id} is used twice`);
    expect(problems.some((p) => p.startsWith("overlaps panel"))).toBe(true);
    second.gridPos = { x: 20, y: 200, w: 6, h: 4 };
    expect(dashboardProblems(d, DATASOURCE_UID).map((p) => p.problem)).toContain(
      `panel ${first.id} "Step loss" runs past column 24`,
    );
  });

  it("finds unknown metrics, undefined variables and other datasources", () => {
    const d = copy(title);
    const target = panelsOf(d)[1]?.targets?.[0];
    if (target === undefined) throw new Error("no target");
    target.expr = 'rate(cryptoml_training_step_total{symbol=~"$sym"}[5m])';
    target.datasource = { uid: "other" };
    const problems = dashboardProblems(d, DATASOURCE_UID).map((p) => p.problem);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("cryptoml_training_step_total in"),
        "$sym is not a template variable",
        expect.stringContaining("uses datasource other"),
      ]),
    );
  });

  it("finds a schema version other than the SDK's", () => {
    const d = copy(title);
    d.schemaVersion = 16;
    expect(dashboardProblems(d, DATASOURCE_UID)[0]?.problem).toMatch(/^schemaVersion 16 is not \d+$/);
  });
});
