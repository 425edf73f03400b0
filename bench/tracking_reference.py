"""Reference for `npm run bench:tracking`: MLflow's own Python client logging metric points to a server.

Usage: .venv-peers/bin/python bench/tracking_reference.py TRACKING_URI RUN_ID POINTS [KEY]
Logs POINTS points of metric KEY (default "loss"; steps 0..POINTS-1) to the existing run RUN_ID with
`MlflowClient().log_batch(run_id, metrics=[Metric(...)] * 1000 per call)`, synchronously, one call after
another, as a training script batching its own points would. Only the log_batch loop (building the
Metric objects included) is timed; interpreter start-up and `import mlflow` are measured separately and
reported as import_seconds. Prints one JSON line:
{"seconds": ..., "points": ..., "calls": ..., "batch": 1000, "import_seconds": ..., "mlflow": "<version>"}.
"""

from __future__ import annotations

import json
import math
import sys
import time

started_import = time.perf_counter()
import mlflow  # noqa: E402
from mlflow.entities import Metric  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

BATCH = 1000


def main(argv: list[str]) -> None:
    import_seconds = time.perf_counter() - started_import
    uri, run_id, points = argv[1], argv[2], int(argv[3])
    key = argv[4] if len(argv) > 4 else "loss"
    client = MlflowClient(tracking_uri=uri)
    started = time.perf_counter()
    calls = 0
    for start in range(0, points, BATCH):
        now = int(time.time() * 1000)
        metrics = [Metric(key, math.sin(step * 1e-3), now, step) for step in range(start, min(start + BATCH, points))]
        client.log_batch(run_id, metrics=metrics, synchronous=True)
        calls += 1
    seconds = time.perf_counter() - started
    print(json.dumps({
        "seconds": seconds,
        "points": points,
        "calls": calls,
        "batch": BATCH,
        "import_seconds": import_seconds,
        "mlflow": mlflow.__version__,
    }))


if __name__ == "__main__":
    main(sys.argv)
