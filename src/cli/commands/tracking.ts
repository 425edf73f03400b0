/** `cryptoml runs list|show|compare` and `cryptoml models list|show|promote`. */
import type { Command } from "commander";
import { loadConfig } from "../../config/index.js";
import { UsageError } from "../../core/errors.js";
import type { TrackingClient } from "../../tracking/client.js";
import { openTracking, trackingUri } from "../../tracking/open.js";
import type { Metric, Run } from "../../tracking/types.js";
import { type CliContext, print } from "../context.js";

/** A table with the first column left-aligned and the rest right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

const formatTime = (ms: number | undefined) =>
  ms === undefined ? "-" : new Date(ms).toISOString().slice(0, 19).replace("T", " ");
const formatNumber = (v: number | undefined) =>
  v === undefined
    ? "-"
    : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3)
      ? v.toExponential(3)
      : v.toFixed(4);
const metricOf = (run: Run, key: string): number | undefined =>
  run.data.metrics.find((m: Metric) => m.key === key)?.value;
const tagOf = (run: Run, key: string): string | undefined => run.data.tags.find((t) => t.key === key)?.value;

async function withClient<T>(
  ctx: CliContext,
  flag: string | undefined,
  use: (client: TrackingClient, experiment: string) => Promise<T>,
): Promise<T> {
  const { config } = await loadConfig({ configDir: ctx.configDir, env: ctx.env });
  const client = await openTracking(trackingUri({ flag, env: ctx.env, config: config.tracking.uri }), {
    log: (line) => print(ctx.stderr, line),
  });
  try {
    return await use(client, config.tracking.experiment_name);
  } finally {
    await client.close();
  }
}

export function registerTrackingCommands(program: Command, getContext: () => CliContext): void {
  const runs = program.command("runs").description("tracked runs: list, show and compare them");

  runs
    .command("list")
    .description("list the runs of an experiment, newest first (MLflow filter syntax with --filter)")
    .option("--experiment <name>", "experiment (default: tracking.experiment_name)")
    .option("--filter <expr>", "e.g. \"metrics.best_val_loss < 1 and params.model = 'gru'\"")
    .option("--order-by <expr>", 'e.g. "metrics.best_val_loss ASC"')
    .option("--max <n>", "at most this many runs", "50")
    .option("--tracking-uri <uri>", "tracking store (default: MLFLOW_TRACKING_URI or tracking.uri)")
    .option("--json", "print the runs as JSON")
    .action(
      async (options: {
        experiment?: string;
        filter?: string;
        orderBy?: string;
        max: string;
        trackingUri?: string;
        json?: boolean;
      }) => {
        const ctx = getContext();
        await withClient(ctx, options.trackingUri, async (client, defaultExperiment) => {
          const experiment = await client.experiment(options.experiment ?? defaultExperiment);
          const page = await client.searchRuns({
            experimentIds: [experiment.experimentId],
            ...(options.filter === undefined ? {} : { filter: options.filter }),
            ...(options.orderBy === undefined ? {} : { orderBy: [options.orderBy] }),
            maxResults: Number(options.max),
          });
          if (options.json) return print(ctx.stdout, JSON.stringify(page.items, null, 2));
          const rows = page.items.map((r) => [
            r.info.runId,
            r.info.runName,
            r.info.status,
            formatTime(r.info.startTime),
            formatNumber(metricOf(r, "best_val_loss")),
            formatNumber(metricOf(r, "best_val_directional_accuracy")),
            tagOf(r, "mlflow.parentRunId")?.slice(0, 8) ?? "",
          ]);
          print(
            ctx.stdout,
            table(["run id", "name", "status", "started (UTC)", "best val loss", "dir. acc", "parent"], rows),
          );
        });
      },
    );

  runs
    .command("show")
    .description("a run's info, params, latest metrics, tags and artifacts")
    .argument("<run-id>", "the run's id")
    .option("--tracking-uri <uri>", "tracking store (default: MLFLOW_TRACKING_URI or tracking.uri)")
    .option("--json", "print as JSON")
    .action(async (runId: string, options: { trackingUri?: string; json?: boolean }) => {
      const ctx = getContext();
      await withClient(ctx, options.trackingUri, async (client) => {
        const run = await client.getRun(runId);
        const artifacts = await client.listArtifacts(runId);
        if (options.json) return print(ctx.stdout, JSON.stringify({ ...run, artifacts }, null, 2));
        const { info, data } = run;
        print(
          ctx.stdout,
          [
            `run ${info.runId} (${info.runName}) ${info.status}, experiment ${info.experimentId}`,
            `started ${formatTime(info.startTime)}, ended ${formatTime(info.endTime)}; artifacts at ${info.artifactUri}`,
            "",
            table(
              ["param", "value"],
              data.params.map((p) => [p.key, p.value]),
            ),
            "",
            table(
              ["metric", "latest", "step"],
              data.metrics.map((m) => [m.key, formatNumber(m.value), String(m.step)]),
            ),
            "",
            table(
              ["tag", "value"],
              data.tags.map((t) => [t.key, t.value.slice(0, 80)]),
            ),
            "",
            table(
              ["artifact", "bytes"],
              artifacts.map((a) => [
                a.isDir ? `${a.path}/` : a.path,
                a.fileSize === undefined ? "" : String(a.fileSize),
              ]),
            ),
          ].join("\n"),
        );
      });
    });

  runs
    .command("compare")
    .description("params and final metrics of several runs side by side (differences marked *)")
    .argument("<run-ids...>", "two or more run ids")
    .option("--tracking-uri <uri>", "tracking store (default: MLFLOW_TRACKING_URI or tracking.uri)")
    .option("--all", "also show params that are equal in every run")
    .option("--json", "print as JSON")
    .action(async (runIds: string[], options: { trackingUri?: string; all?: boolean; json?: boolean }) => {
      const ctx = getContext();
      if (runIds.length < 2)
        throw new UsageError("compare needs at least two run ids", { hint: "cryptoml runs list shows them" });
      await withClient(ctx, options.trackingUri, async (client) => {
        const found = await Promise.all(runIds.map((id) => client.getRun(id)));
        const keys = (pick: (r: Run) => readonly { key: string }[]) =>
          [...new Set(found.flatMap((r) => pick(r).map((e) => e.key)))].sort();
        const params = keys((r) => r.data.params).map((key) => ({
          key,
          values: found.map((r) => r.data.params.find((p) => p.key === key)?.value ?? "-"),
        }));
        const metrics = keys((r) => r.data.metrics).map((key) => ({
          key,
          values: found.map((r) => metricOf(r, key)),
        }));
        if (options.json)
          return print(ctx.stdout, JSON.stringify({ runs: runIds, params, metrics }, null, 2));
        const differs = (values: readonly unknown[]) => new Set(values.map(String)).size > 1;
        const header = ["", ...found.map((r) => `${r.info.runName} (${r.info.runId.slice(0, 8)})`)];
        const paramRows = params
          .filter((p) => options.all || differs(p.values))
          .map((p) => [
            `${differs(p.values) ? "* " : "  "}params.${p.key}`,
            ...p.values.map((v) => v.slice(0, 40)),
          ]);
        const metricRows = metrics.map((m) => [
          `${differs(m.values) ? "* " : "  "}metrics.${m.key}`,
          ...m.values.map(formatNumber),
        ]);
        print(ctx.stdout, table(header, [...paramRows, ...metricRows]));
        if (!options.all)
          print(ctx.stdout, `(${params.length - paramRows.length} equal params hidden; --all shows them)`);
      });
    });

  const models = program
    .command("models")
    .description("the model registry: registered models, versions, aliases");

  models
    .command("list")
    .description("registered models with their newest version and aliases")
    .option("--tracking-uri <uri>", "tracking store (default: MLFLOW_TRACKING_URI or tracking.uri)")
    .option("--json", "print as JSON")
    .action(async (options: { trackingUri?: string; json?: boolean }) => {
      const ctx = getContext();
      await withClient(ctx, options.trackingUri, async (client) => {
        const page = await client.store.searchRegisteredModels({ maxResults: 1000 });
        if (options.json) return print(ctx.stdout, JSON.stringify(page.items, null, 2));
        const rows = page.items.map((m) => [
          m.name,
          m.latestVersion ?? "-",
          m.aliases.map((a) => `${a.alias}→v${a.version}`).join(", "),
          formatTime(m.lastUpdatedTimestamp),
        ]);
        print(ctx.stdout, table(["model", "latest", "aliases", "updated (UTC)"], rows));
      });
    });

  models
    .command("show")
    .description("a registered model's versions, their runs, metrics and aliases")
    .argument("<name>", "registered model name, e.g. cryptoml-BTCUSDT-lstm_attention")
    .option("--tracking-uri <uri>", "tracking store (default: MLFLOW_TRACKING_URI or tracking.uri)")
    .option("--json", "print as JSON")
    .action(async (name: string, options: { trackingUri?: string; json?: boolean }) => {
      const ctx = getContext();
      await withClient(ctx, options.trackingUri, async (client) => {
        const model = await client.store.getRegisteredModel(name);
        const versions = await client.store.searchModelVersions(name);
        if (options.json) return print(ctx.stdout, JSON.stringify({ ...model, versions }, null, 2));
        const rows = versions.map((v) => [
          `v${v.version}`,
          v.aliases.join(", "),
          v.runId,
          v.tags.map((t) => `${t.key}=${t.value.slice(0, 10)}`).join(" "),
          formatTime(v.creationTimestamp),
        ]);
        print(
          ctx.stdout,
          [
            `${model.name}: ${model.description}`,
            table(["version", "aliases", "run", "tags", "created (UTC)"], rows),
          ].join("\n"),
        );
      });
    });

  models
    .command("promote")
    .description("point an alias (default champion) at a version")
    .argument("<name>", "registered model name")
    .argument("<version>", "the version number")
    .option("--alias <alias>", "the alias to move", "champion")
    .option("--tracking-uri <uri>", "tracking store (default: MLFLOW_TRACKING_URI or tracking.uri)")
    .action(async (name: string, version: string, options: { alias: string; trackingUri?: string }) => {
      const ctx = getContext();
      await withClient(ctx, options.trackingUri, async (client) => {
        const previous = await client.versionByAlias(name, options.alias);
        await client.store.getModelVersion(name, version);
        await client.setAlias(name, options.alias, version);
        print(
          ctx.stdout,
          `${name}: ${options.alias} → v${version}${previous ? ` (was v${previous.version})` : ""}`,
        );
      });
    });
}
