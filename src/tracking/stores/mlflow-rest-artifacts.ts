/**
 * Paths in the MLflow artifact proxy: a run's artifact URI names its root under the server's artifacts
 * destination, and artifact paths below it are checked so that none escapes the run's root.
 */
import { TrackingError } from "../errors.js";

/**
 * The proxy path of a run's artifact root, from its artifact URI: `mlflow-artifacts:/1/<run>/artifacts`,
 * `mlflow-artifacts://host:port/1/<run>/artifacts` or `http(s)://host/api/2.0/mlflow-artifacts/artifacts/1/...`.
 */
export function proxyRoot(artifactUri: string, serverUri: string): string {
  const proxied = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(artifactUri);
  if (proxied !== null) return (proxied[1] ?? "").replace(/\/+$/, "");
  const http = /^https?:\/\/[^/]+\/api\/2\.0\/mlflow-artifacts\/artifacts\/*(.*)$/.exec(artifactUri);
  if (http !== null) return (http[1] ?? "").replace(/\/+$/, "");
  throw new TrackingError(
    "INVALID_STATE",
    `run artifact URI ${artifactUri} is not served by the MLflow artifact proxy`,
    {
      hint: `start the MLflow server at ${serverUri} with artifact serving on (the default; drop --no-serve-artifacts and --default-artifact-root) so new experiments store artifacts under mlflow-artifacts:/`,
    },
  );
}

/** A relative artifact path, `/`-separated, with no empty, `.` or `..` segment. */
export function relativeSegments(path: string): string[] {
  const segments = path.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) {
    throw new TrackingError(
      "INVALID_PARAMETER_VALUE",
      `artifact path ${path} leaves the run's artifact root`,
      {
        hint: "use a relative path without '..' segments",
      },
    );
  }
  return segments;
}

export const encodePath = (segments: readonly string[]): string => segments.map(encodeURIComponent).join("/");
