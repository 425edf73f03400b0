"""Reads back what `cryptoml train` recorded on an MLflow server, with MLflow's own client.

Usage: mlflow_readback.py TRACKING_URI EXPERIMENT_NAME OUT_DIR

Prints one JSON object on stdout:
  experiment: {experiment_id, name}
  runs: [{info, params, tags, metrics (latest values), history: {key: [{step, value, timestamp}]},
          artifacts: [{path, is_dir, file_size}]}]   (every run of the experiment; history and artifacts
          for every run, artifacts downloaded into OUT_DIR/<run_id>/...)
  models: [{name, aliases, versions: [{version, run_id, source, status, tags, aliases}]}]
  champions: {name: version or null}   (get_model_version_by_alias(name, "champion"))

Used by test/integration/mlflow-train.test.ts, so MLflow itself (not cryptoml's REST client) checks
that the runs, the full metric histories, the artifacts and the registry are what cryptoml logged.
"""

import json
import os
import sys

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402


def list_recursive(client, run_id, path=None):
    out = []
    for entry in client.list_artifacts(run_id, path):
        out.append({"path": entry.path, "is_dir": entry.is_dir, "file_size": entry.file_size})
        if entry.is_dir:
            out.extend(list_recursive(client, run_id, entry.path))
    return out


def run_info(run):
    info = run.info
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": info.lifecycle_stage,
        "user_id": info.user_id,
    }


def main():
    uri, experiment_name, out_dir = sys.argv[1:4]
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment = client.get_experiment_by_name(experiment_name)
    if experiment is None:
        raise SystemExit(f"no experiment named {experiment_name!r} on {uri}")

    runs = []
    page_token = None
    while True:
        page = client.search_runs(
            [experiment.experiment_id], max_results=1000, page_token=page_token, order_by=["start_time ASC"]
        )
        runs.extend(page)
        page_token = page.token
        if not page_token:
            break

    dumped = []
    for run in runs:
        run_id = run.info.run_id
        history = {}
        for key in sorted(run.data.metrics):
            points = client.get_metric_history(run_id, key)
            history[key] = [{"step": m.step, "value": m.value, "timestamp": m.timestamp} for m in points]
        artifacts = list_recursive(client, run_id)
        target = os.path.join(out_dir, run_id)
        os.makedirs(target, exist_ok=True)
        if artifacts:
            # The whole tree at once: files land at OUT_DIR/<run_id>/<artifact path>.
            client.download_artifacts(run_id, "", target)
        dumped.append(
            {
                "info": run_info(run),
                "params": dict(run.data.params),
                "tags": dict(run.data.tags),
                "metrics": dict(run.data.metrics),
                "history": history,
                "artifacts": artifacts,
            }
        )

    models = []
    champions = {}
    for registered in client.search_registered_models(max_results=1000):
        name = registered.name
        versions = client.search_model_versions(f"name = '{name}'", max_results=1000)
        models.append(
            {
                "name": name,
                "aliases": dict(registered.aliases or {}),
                "versions": sorted(
                    (
                        {
                            "version": v.version,
                            "run_id": v.run_id,
                            "source": v.source,
                            "status": v.status,
                            "tags": dict(v.tags or {}),
                            "aliases": list(v.aliases or []),
                        }
                        for v in versions
                    ),
                    key=lambda v: int(v["version"]),
                ),
            }
        )
        try:
            champions[name] = client.get_model_version_by_alias(name, "champion").version
        except MlflowException:
            champions[name] = None

    json.dump(
        {
            "experiment": {"experiment_id": experiment.experiment_id, "name": experiment.name},
            "runs": dumped,
            "models": models,
            "champions": champions,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
