"""Reference values for src/features, computed with `ta` (bukosabino/ta), pandas and numpy.

Usage:
    .venv-peers/bin/python test/peers/ta_reference.py CANDLES.json.gz OUT.json SPECS_JSON

CANDLES.json.gz is gzip JSON `[[open_time_ms, open, high, low, close, volume], ...]` (the bundled files);
SPECS_JSON is a JSON list of feature specs exactly as cryptoml's FeatureSpec (snake_case, e.g.
`[{"type": "rsi", "period": 14}]`). OUT.json receives `{"rows": n, "columns": {name: [value | null, ...]}}`
with cryptoml's column names; NaN is written as null, every float at full (round-trip) precision.

Where a formula is undefined, cryptoml's documented convention is applied here too so the comparison is
like for like: Bollinger %B is 0.5 when the band has zero width (ta gives NaN), the volume z-score is 0
when the window's std is 0 (pandas gives NaN or inf).
"""

from __future__ import annotations

import gzip
import json
import math
import sys

import numpy as np
import pandas as pd
from ta.momentum import RSIIndicator
from ta.trend import MACD
from ta.volatility import AverageTrueRange, BollingerBands


def load_candles(path: str) -> pd.DataFrame:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = json.load(handle)
    frame = pd.DataFrame(rows, columns=["open_time", "open", "high", "low", "close", "volume"])
    return frame.astype({"open_time": "int64", "open": "float64", "high": "float64", "low": "float64",
                         "close": "float64", "volume": "float64"})


def log_return(close: pd.Series, lag: int) -> pd.Series:
    return np.log(close / close.shift(lag))


def realized_volatility(close: pd.Series, window: int) -> pd.Series:
    return log_return(close, 1).rolling(window).std(ddof=0)


def volume_zscore(volume: pd.Series, window: int) -> pd.Series:
    rolling = volume.rolling(window)
    mean, std = rolling.mean(), rolling.std(ddof=0)
    z = (volume - mean) / std
    return z.where(~(std == 0), 0.0)


def bollinger_pct_b(close: pd.Series, period: int, std_dev: float) -> pd.Series:
    bands = BollingerBands(close, window=period, window_dev=std_dev)
    pband = bands.bollinger_pband()
    flat = bands.bollinger_hband() == bands.bollinger_lband()
    return pband.where(~flat, 0.5)


def cyclical(open_time: pd.Series) -> dict[str, pd.Series]:
    stamp = pd.to_datetime(open_time, unit="ms", utc=True)
    seconds = (stamp - stamp.dt.normalize()).dt.total_seconds()
    weekday = stamp.dt.day_of_week  # Monday = 0
    day_angle = 2 * np.pi * seconds / 86400
    week_angle = 2 * np.pi * weekday / 7
    return {
        "time_of_day_sin": np.sin(day_angle),
        "time_of_day_cos": np.cos(day_angle),
        "day_of_week_sin": np.sin(week_angle),
        "day_of_week_cos": np.cos(week_angle),
    }


def spec_columns(spec: dict, candles: pd.DataFrame) -> dict[str, pd.Series]:
    close, kind = candles["close"], spec["type"]
    if kind == "log_return":
        return {f"log_return_{lag}": log_return(close, lag) for lag in spec["lags"]}
    if kind == "realized_volatility":
        return {f"realized_volatility_{w}": realized_volatility(close, w) for w in spec["windows"]}
    if kind == "rsi":
        return {f"rsi_{spec['period']}": RSIIndicator(close, window=spec["period"]).rsi()}
    if kind == "macd":
        fast, slow, signal = spec["fast"], spec["slow"], spec["signal"]
        lines = MACD(close, window_slow=slow, window_fast=fast, window_sign=signal)
        scale = close if spec["relative"] else 1.0
        rel = "_rel" if spec["relative"] else ""
        suffix = f"{fast}_{slow}_{signal}"
        return {
            f"macd{rel}_{suffix}": lines.macd() / scale,
            f"macd_signal{rel}_{suffix}": lines.macd_signal() / scale,
            f"macd_hist{rel}_{suffix}": lines.macd_diff() / scale,
        }
    if kind == "bollinger_pct_b":
        name = f"bollinger_pct_b_{spec['period']}_{format_number(spec['std_dev'])}"
        return {name: bollinger_pct_b(close, spec["period"], spec["std_dev"])}
    if kind == "atr":
        period = spec["period"]
        value = AverageTrueRange(candles["high"], candles["low"], close, window=period).average_true_range()
        # ta fills the warm-up with 0 instead of NaN; blank it so nobody compares against it by mistake.
        value = value.where(value.index >= period - 1, np.nan)
        name = f"atr_rel_{period}" if spec["relative"] else f"atr_{period}"
        return {name: value / close if spec["relative"] else value}
    if kind == "volume_zscore":
        return {f"volume_zscore_{spec['window']}": volume_zscore(candles["volume"], spec["window"])}
    if kind in ("time_of_day", "day_of_week"):
        return {name: series for name, series in cyclical(candles["open_time"]).items() if name.startswith(kind)}
    raise SystemExit(f"ta_reference.py: unknown feature type {kind!r}")


def format_number(value: float) -> str:
    """Formats a parameter as JavaScript's String(number) does for the values specs use (2 -> "2")."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def to_json_list(series: pd.Series) -> list[float | None]:
    return [None if math.isnan(x) else x for x in series.to_numpy(dtype="float64").tolist()]


def main(argv: list[str]) -> None:
    if len(argv) != 4:
        raise SystemExit(__doc__)
    candles_path, out_path, specs_json = argv[1:]
    candles = load_candles(candles_path)
    columns: dict[str, list[float | None]] = {}
    for spec in json.loads(specs_json):
        for name, series in spec_columns(spec, candles).items():
            columns[name] = to_json_list(pd.Series(series, index=candles.index))
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump({"rows": len(candles), "columns": columns}, handle, allow_nan=False)


if __name__ == "__main__":
    main(sys.argv)
