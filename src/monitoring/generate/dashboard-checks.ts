/**
 * Checks a dashboard JSON model against what Grafana needs to load and show it: the fields the SDK's
 * schema-derived types require, the schema version the SDK targets, a sound 24-column grid, and
 * queries that only reach the provisioned datasource, defined variables and catalog metrics.
 */
import { type Dashboard, defaultDashboard, type GridPos } from "@grafana/grafana-foundation-sdk/dashboard";
import { catalogMetricOf, metricNames } from "./promql.js";

/** One thing wrong with a dashboard, located by panel when it is about one. */
export interface DashboardProblem {
  readonly where: string;
  readonly problem: string;
}

/** Panel types the generator emits (each from its SDK builder). */
const PANEL_TYPES = new Set(["row", "timeseries", "stat"]);
const GRID_COLUMNS = 24;

interface LoosePanel {
  type?: unknown;
  id?: unknown;
  title?: unknown;
  gridPos?: Partial<GridPos>;
  datasource?: { uid?: unknown };
  targets?: { refId?: unknown; expr?: unknown; datasource?: { uid?: unknown } }[];
}

function overlaps(a: GridPos, b: GridPos): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function gridProblems(where: string, pos: Partial<GridPos> | undefined): string[] {
  if (pos === undefined) return ["has no gridPos"];
  const { x, y, w, h } = pos;
  if (![x, y, w, h].every((n) => Number.isInteger(n) && (n as number) >= 0)) {
    return [`gridPos ${JSON.stringify(pos)} needs whole, non-negative x, y, w, h`];
  }
  const problems: string[] = [];
  if ((w as number) < 1 || (h as number) < 1) problems.push(`gridPos ${JSON.stringify(pos)} is empty`);
  if ((x as number) + (w as number) > GRID_COLUMNS)
    problems.push(`${where} runs past column ${GRID_COLUMNS}`);
  return problems;
}

/** Problems of one query: datasource, metric names, variables. */
function targetProblems(
  target: NonNullable<LoosePanel["targets"]>[number],
  datasourceUid: string,
  variables: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  if (target.datasource?.uid !== datasourceUid) {
    problems.push(
      `query ${String(target.refId)} uses datasource ${String(target.datasource?.uid)}, not ${datasourceUid}`,
    );
  }
  if (typeof target.expr !== "string" || target.expr.trim() === "")
    return [...problems, "a query has no expr"];
  for (const name of metricNames(target.expr)) {
    if (catalogMetricOf(name) === undefined)
      problems.push(`${name} in "${target.expr}" is not a catalog metric`);
  }
  for (const match of target.expr.matchAll(/\$(\w+)/g)) {
    const name = match[1] as string;
    if (!name.startsWith("__") && !variables.has(name)) problems.push(`$${name} is not a template variable`);
  }
  return problems;
}

type Report = (where: string, problems: readonly string[]) => void;

function checkHeader(dashboard: Dashboard, report: Report): void {
  const expected = defaultDashboard().schemaVersion;
  if (dashboard.schemaVersion !== expected) {
    report("dashboard", [`schemaVersion ${dashboard.schemaVersion} is not ${expected}`]);
  }
  if (!dashboard.uid || dashboard.uid.length > 40) report("dashboard", ["uid must be 1-40 characters"]);
  if (!dashboard.title) report("dashboard", ["has no title"]);
}

/** Checks the template variables; returns their names for the queries' `$name` references. */
function checkVariables(dashboard: Dashboard, datasourceUid: string, report: Report): Set<string> {
  const variables = new Set<string>();
  for (const v of dashboard.templating.list ?? []) {
    variables.add(v.name);
    const where = `variable ${v.name}`;
    if (v.datasource?.uid !== datasourceUid) report(where, [`datasource is not ${datasourceUid}`]);
    const query = typeof v.query === "string" ? v.query : String(v.query?.query ?? "");
    for (const name of metricNames(query)) {
      if (catalogMetricOf(name) === undefined) report(where, [`${name} is not a catalog metric`]);
    }
  }
  return variables;
}

/** Ids unique, types known, positions on the grid and apart from each other. */
function checkLayout(panels: readonly LoosePanel[], report: Report): void {
  const seenIds = new Set<unknown>();
  const placed: { where: string; pos: GridPos }[] = [];
  for (const [index, panel] of panels.entries()) {
    const where = panelName(panel, index);
    if (!Number.isInteger(panel.id)) report(where, ["has no numeric id"]);
    else if (seenIds.has(panel.id)) report(where, [`id ${String(panel.id)} is used twice`]);
    seenIds.add(panel.id);
    if (typeof panel.type !== "string" || !PANEL_TYPES.has(panel.type)) {
      report(where, [`type ${String(panel.type)} is unexpected`]);
    }
    const grid = gridProblems(where, panel.gridPos);
    report(where, grid);
    if (grid.length > 0) continue;
    const pos = panel.gridPos as GridPos;
    for (const other of placed) if (overlaps(pos, other.pos)) report(where, [`overlaps ${other.where}`]);
    placed.push({ where, pos });
  }
}

function checkQueries(
  panels: readonly LoosePanel[],
  datasourceUid: string,
  variables: ReadonlySet<string>,
  report: Report,
): void {
  for (const [index, panel] of panels.entries()) {
    if (panel.type === "row") continue;
    const where = panelName(panel, index);
    if (panel.datasource?.uid !== datasourceUid) report(where, [`panel datasource is not ${datasourceUid}`]);
    if (!panel.targets?.length) report(where, ["has no query"]);
    const refIds = new Set(panel.targets?.map((t) => t.refId));
    if (refIds.size !== (panel.targets?.length ?? 0)) report(where, ["queries share a refId"]);
    for (const target of panel.targets ?? []) report(where, targetProblems(target, datasourceUid, variables));
  }
}

const panelName = (panel: LoosePanel, index: number) =>
  `panel ${String(panel.id)} "${String(panel.title ?? `#${index}`)}"`;

/**
 * Every problem of `dashboard`, empty when Grafana can load it as intended. `datasourceUid` is the
 * uid every query and variable must use.
 */
export function dashboardProblems(dashboard: Dashboard, datasourceUid: string): DashboardProblem[] {
  const problems: DashboardProblem[] = [];
  const report: Report = (where, list) => {
    for (const problem of list) problems.push({ where, problem });
  };
  checkHeader(dashboard, report);
  const variables = checkVariables(dashboard, datasourceUid, report);
  const panels = (dashboard.panels ?? []) as LoosePanel[];
  checkLayout(panels, report);
  checkQueries(panels, datasourceUid, variables, report);
  return problems;
}
