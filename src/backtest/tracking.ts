/**
 * Backtest results recorded on the tracking run of the job that trained each model (when the train run
 * was tracked): the metrics as `backtest_<name>` (labelled in- or out-of-sample by a tag) and the chart
 * and the JSON report as artifacts under `backtest/`.
 */
import type { TrackingClient } from "../tracking/client.js";
import type { Metric } from "../tracking/types.js";
import { REPORTED_METRICS, type SymbolBacktest } from "./report.js";

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Logs one symbol's backtest on `runId`; returns the metric names written. */
export async function recordBacktest(
  client: TrackingClient,
  runId: string,
  backtest: SymbolBacktest,
  files: { chart: string; report: string },
  inSample: boolean,
): Promise<string[]> {
  const timestamp = Date.now();
  const prefix = inSample ? "backtest_in_sample_" : "backtest_";
  const metrics: Metric[] = [];
  for (const name of REPORTED_METRICS) {
    const value = (backtest.metrics as unknown as Record<string, number>)[name];
    if (typeof value === "number" && Number.isFinite(value))
      metrics.push({ key: `${prefix}${snake(name)}`, value, step: 0, timestamp });
  }
  const bh = backtest.buyAndHold.totalReturn;
  if (Number.isFinite(bh))
    metrics.push({ key: `${prefix}buy_and_hold_total_return`, value: bh, step: 0, timestamp });
  await client.logBatch(runId, {
    metrics,
    tags: [{ key: "cryptoml.backtest", value: inSample ? "in-sample" : "out-of-sample" }],
  });
  await client.logArtifact(runId, files.chart, "backtest");
  await client.logArtifact(runId, files.report, "backtest");
  return metrics.map((m) => m.key);
}
