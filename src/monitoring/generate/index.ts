/**
 * `cryptoml monitoring generate`: Prometheus scrape config and rules, Alertmanager routes with the
 * monitor's escalation, and Grafana provisioning with four dashboards. See docs/monitoring.md.
 */
export {
  type AlertmanagerOptions,
  alertmanagerConfig,
  DEFAULT_WEBHOOK_URL,
  receiverName,
} from "./alertmanager.js";
export { type DashboardProblem, dashboardProblems } from "./dashboard-checks.js";
export { DASHBOARD_SPECS, dashboards } from "./dashboards.js";
export {
  DEFAULT_PROMETHEUS_URL,
  type GeneratedFile,
  type GenerateOptions,
  generateFiles,
  grafanaDashboardProvider,
  grafanaDatasource,
  writeFiles,
} from "./files.js";
export { DATASOURCE_UID } from "./panels.js";
export {
  DEFAULT_ALERTMANAGER_URL,
  type PrometheusConfigOptions,
  prometheusConfig,
  RULES_PATH,
  SCRAPE_JOB,
} from "./prometheus-config.js";
export {
  alertingRules,
  labelTemplate,
  type PrometheusAlertingRule,
  type PrometheusRuleFile,
  prometheusRules,
  RULE_GROUP,
} from "./prometheus-rules.js";
export { catalogMetricOf, conditionToPromQL, metricNames, promDuration, seriesSelector } from "./promql.js";
