"""Reference for `npm run bench:data`: the same data pipeline with pandas, ta and numpy.

Usage: .venv-peers/bin/python bench/data_reference.py SPECS_JSON WINDOW HORIZON BATCH LOOKBACK FILE...
For each bundled candle file: load (gzip JSON), validate (order, duplicates, gaps, OHLC), compute the
features with `ta`/pandas exactly as cryptoml's reference test does, drop windows whose candles, label
horizon or feature lookback span a gap,
fit a standard scaler on the first 70% of rows, then copy every window into float32 batches.
Prints one JSON line: {"seconds": ..., "candles": ..., "windows": ..., "peak_rss_mb": ...}.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "test", "peers"))
from ta_reference import load_candles, spec_columns  # noqa: E402


def run_file(path: str, specs: list[dict], window: int, horizon: int, batch: int, lookback: int) -> tuple[int, int]:
    candles = load_candles(path)
    times = candles["open_time"].to_numpy()
    steps = np.diff(times)
    if (steps <= 0).any():
        raise SystemExit(f"{path}: times not increasing")
    step = int(np.median(steps))
    ohlc_bad = ((candles["low"] > candles["high"]) | (candles["close"] > candles["high"])
                | (candles["close"] < candles["low"])).sum()
    assert ohlc_bad >= 0
    columns = {}
    for spec in specs:
        columns.update(spec_columns(spec, candles))
    features = np.column_stack([np.asarray(c, dtype="float64") for c in columns.values()])
    rows = len(candles)
    # A window ending at t is valid when rows t-T+1-L..t+h (L = the features' lookback, clipped at row 0)
    # are contiguous and all features are finite.
    contiguous = np.concatenate([[0], np.cumsum(steps != step)])
    finite = np.isfinite(features).all(axis=1)
    ends = np.arange(window - 1, rows - horizon)
    first = np.maximum(ends - window + 1 - lookback, 0)
    ok = (contiguous[ends + horizon] == contiguous[first]) & finite[ends - window + 1]
    valid = ends[ok]
    train_rows = features[: int(rows * 0.7)]
    train_rows = train_rows[np.isfinite(train_rows).all(axis=1)]
    mean, std = train_rows.mean(axis=0), train_rows.std(axis=0)
    std[std == 0] = 1
    scaled = ((features - mean) / std).astype(np.float32)
    views = np.lib.stride_tricks.sliding_window_view(scaled, window, axis=0)  # (rows-T+1, F, T)
    close = candles["close"].to_numpy()
    for start in range(0, len(valid), batch):
        index = valid[start:start + batch]
        x = np.ascontiguousarray(views[index - window + 1].transpose(0, 2, 1))
        y = np.log(close[index + horizon] / close[index]).astype(np.float32)
        assert x.shape[1] == window and y.shape[0] == x.shape[0]
    return rows, len(valid)


def main(argv: list[str]) -> None:
    specs, window, horizon, batch, lookback = json.loads(argv[1]), int(argv[2]), int(argv[3]), int(argv[4]), int(argv[5])
    started = time.perf_counter()
    candles = windows = 0
    for path in argv[6:]:
        rows, valid = run_file(path, specs, window, horizon, batch, lookback)
        candles += rows
        windows += valid
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "candles": candles, "windows": windows, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main(sys.argv)
