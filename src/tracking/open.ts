/**
 * Opens the tracking store a URI names:
 * - `file:<dir>` (the default, `file:.cryptoml/mlruns`): the embedded store, `<dir>/tracking.db` plus
 *   artifacts under `<dir>/artifacts`;
 * - `sqlite:<file>` (or `sqlite:///<file>`): the embedded store in that file, artifacts beside it;
 * - `http(s)://host:port`: an MLflow tracking server (artifacts through its proxy).
 * The URI comes from `--tracking-uri`, else `MLFLOW_TRACKING_URI`, else `tracking.uri` in config.
 */
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../core/errors.js";
import { replaySpools } from "./async-logger.js";
import { TrackingClient } from "./client.js";
import type { TrackingStore } from "./store.js";
import { MlflowRestStore } from "./stores/mlflow-rest.js";
import { SqliteTrackingStore } from "./stores/sqlite.js";

/** The URI to use: the command line's, else the environment's, else the config's. */
export function trackingUri(options: { flag?: string; env: NodeJS.ProcessEnv; config: string }): string {
  return options.flag ?? options.env.MLFLOW_TRACKING_URI ?? options.config;
}

/** Where records wait while a remote store is unreachable: beside the embedded default store. */
export function spoolDirFor(cwd = process.cwd()): string {
  return join(resolve(cwd), ".cryptoml", "tracking-spool");
}

export async function openTrackingStore(uri: string): Promise<TrackingStore> {
  if (/^https?:\/\//i.test(uri)) return new MlflowRestStore(uri.replace(/\/+$/, ""));
  let path: string;
  let artifactRoot: string;
  if (uri.startsWith("file:")) {
    const dir = resolve(uri.slice("file:".length).replace(/^\/\/(?=\/)/, ""));
    path = join(dir, "tracking.db");
    artifactRoot = join(dir, "artifacts");
  } else if (uri.startsWith("sqlite:")) {
    path = resolve(
      uri
        .slice("sqlite:".length)
        .replace(/^\/\/\//, "/")
        .replace(/^\/\/(?!\/)/, ""),
    );
    artifactRoot = join(dirname(path), "artifacts");
  } else {
    throw new UsageError(`tracking URI ${JSON.stringify(uri)} has no known scheme`, {
      hint: "use file:<dir> or sqlite:<file> for the embedded store, or http://host:port for an MLflow server",
    });
  }
  await mkdir(dirname(path), { recursive: true });
  return SqliteTrackingStore.open({ path, artifactRoot, uri });
}

/**
 * A client on the store `uri` names; records a previous process could not deliver (its spool) are
 * sent first, so they are not lost.
 */
export async function openTracking(
  uri: string,
  options: { spoolDir?: string; log?: (line: string) => void } = {},
): Promise<TrackingClient> {
  const client = new TrackingClient(await openTrackingStore(uri));
  if (/^https?:\/\//i.test(uri)) {
    const failed = await client.markDeadRunsFailed().catch(() => []);
    if (failed.length > 0) options.log?.(`tracking: marked ${failed.length} run(s) of dead processes FAILED`);
  }
  const spoolDir = options.spoolDir ?? spoolDirFor();
  try {
    const sent = await replaySpools(client, spoolDir);
    if (sent.length > 0)
      options.log?.(`tracking: delivered records buffered by an earlier process for ${sent.length} run(s)`);
  } catch (error) {
    options.log?.(
      `tracking: buffered records in ${spoolDir} could not be delivered yet (${(error as Error).message})`,
    );
  }
  return client;
}
