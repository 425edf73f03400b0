/**
 * The few panel shapes cryptoml's dashboards use, built with Grafana's foundation SDK so the JSON
 * follows Grafana's published schema (panel defaults, field config, schemaVersion) rather than a
 * hand-written copy of it. Every query targets the provisioned Prometheus datasource by uid.
 */
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";

/** The uid of the provisioned Prometheus datasource; dashboards refer to it by this uid alone. */
export const DATASOURCE_UID = "cryptoml-prometheus";
export const DATASOURCE: common.DataSourceRef = { type: "prometheus", uid: DATASOURCE_UID };

/** One PromQL query of a panel and its legend (`{{symbol}}` etc. are Grafana's label templates). */
export interface Query {
  readonly expr: string;
  readonly legend?: string;
}

/** A panel before it gets its id: the dashboard numbers panels in order. */
export interface PanelSpec {
  readonly kind: "timeseries" | "stat";
  readonly title: string;
  readonly description: string;
  /** Grafana unit id, e.g. `percentunit`, `bytes`, `s`, `ops`. */
  readonly unit: string;
  readonly queries: readonly Query[];
  /** Columns of Grafana's 24-column grid. Default 12 (timeseries) or 6 (stat). */
  readonly width?: number;
  /** Grid rows. Default 8 (timeseries) or 4 (stat). */
  readonly height?: number;
  readonly min?: number;
  readonly max?: number;
}

export interface RowSpec {
  readonly title: string;
  readonly panels: readonly PanelSpec[];
}

/** A dashboard template variable filled from `label_values(metric, label)`. */
export interface VariableSpec {
  readonly name: string;
  readonly label: string;
  readonly metric: string;
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  /** File name under grafana/dashboards/. */
  readonly file: string;
  readonly variables: readonly VariableSpec[];
  readonly rows: readonly RowSpec[];
}

function targets(queries: readonly Query[]): prometheus.DataqueryBuilder[] {
  return queries.map((query, i) =>
    new prometheus.DataqueryBuilder()
      .datasource(DATASOURCE)
      .refId(String.fromCharCode(65 + i))
      .expr(query.expr)
      .legendFormat(query.legend ?? "__auto")
      .range(),
  );
}

function timeseriesPanel(spec: PanelSpec, id: number): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .span(spec.width ?? 12)
    .height(spec.height ?? 8)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );
  for (const target of targets(spec.queries)) panel.withTarget(target);
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  return panel;
}

function statPanel(spec: PanelSpec, id: number): stat.PanelBuilder {
  const panel = new stat.PanelBuilder()
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .span(spec.width ?? 6)
    .height(spec.height ?? 4)
    .graphMode(common.BigValueGraphMode.Area)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false));
  for (const target of targets(spec.queries)) panel.withTarget(target);
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  return panel;
}

function variable(spec: VariableSpec): dashboard.QueryVariableBuilder {
  const query = `label_values(${spec.metric}, ${spec.name})`;
  return new dashboard.QueryVariableBuilder(spec.name)
    .label(spec.label)
    .datasource(DATASOURCE)
    .query({ qryType: 1, query, refId: "PrometheusVariableQueryEditor-VariableQuery" })
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue(".*")
    .current({ selected: true, text: ["All"], value: ["$__all"] });
}

/**
 * The dashboard JSON of `spec`: rows (expanded) with their panels laid out left to right by the
 * SDK's grid placement, panel ids 1, 2, … in order, a 1-hour window refreshed every 30s.
 */
export function buildDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(["cryptoml", "generated"])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .refresh("30s")
    .time({ from: "now-1h", to: "now" })
    .timezone("browser");
  for (const v of spec.variables) builder.withVariable(variable(v));
  let id = 0;
  for (const row of spec.rows) {
    builder.withRow(new dashboard.RowBuilder(row.title).id(++id));
    for (const panel of row.panels) {
      builder.withPanel(panel.kind === "stat" ? statPanel(panel, ++id) : timeseriesPanel(panel, ++id));
    }
  }
  return builder.build();
}
