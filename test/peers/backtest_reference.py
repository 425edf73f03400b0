"""Reference values for src/backtest/metrics.ts, computed with quantstats (pinned in requirements-backtest.txt).

Usage:
    echo '{"returns": [0.01, -0.02], "periods": 105192, "rf": 0}' | \
        .venv-peers/bin/python test/peers/backtest_reference.py

stdin is one case `{"returns": [...], "periods": periods_per_year, "rf": annual_rate}` or a JSON list of them
(one interpreter start for many series); stdout is one result object, or a list in the same order:
`{"total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar"}`. Non-finite values
are written as the strings "NaN", "Infinity", "-Infinity" (JSON has no literal for them), every float at
full round-trip precision.

Each call is quantstats' own with its documented arguments: `sharpe(returns, rf=rf, periods=p,
annualize=True)`, `sortino(...)` likewise, `volatility(returns, periods=p, annualize=True)`,
`cagr(returns, periods=p)` (years = observations / periods), `max_drawdown(returns)` (baseline equity 1
before the first return), `calmar(returns, periods=p)` and `comp(returns)` for the total return.
"""

from __future__ import annotations

import json
import math
import sys

import pandas as pd
import quantstats as qs


def encode(value: float) -> float | str:
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def reference(case: dict) -> dict:
    periods = case["periods"]
    rf = case.get("rf", 0.0)
    # A daily DatetimeIndex: quantstats validates that the index is dates; none of the metrics used here
    # reads the dates (years are counted from observations), so the spacing does not matter.
    index = pd.date_range("2020-01-01", periods=len(case["returns"]), freq="D")
    returns = pd.Series(case["returns"], index=index, dtype="float64")
    stats = qs.stats
    return {
        "total_return": encode(stats.comp(returns)),
        "cagr": encode(stats.cagr(returns, periods=periods)),
        "volatility": encode(stats.volatility(returns, periods=periods, annualize=True)),
        "sharpe": encode(stats.sharpe(returns, rf=rf, periods=periods, annualize=True)),
        "sortino": encode(stats.sortino(returns, rf=rf, periods=periods, annualize=True)),
        "max_drawdown": encode(stats.max_drawdown(returns)),
        "calmar": encode(stats.calmar(returns, periods=periods)),
    }


def main() -> None:
    payload = json.load(sys.stdin)
    result = [reference(case) for case in payload] if isinstance(payload, list) else reference(payload)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
