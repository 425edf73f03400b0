"""Reference values for src/engine/ops/recurrent (fused LSTM and GRU), computed with PyTorch 2.13 on the CPU
in float32: torch.nn.LSTM / torch.nn.GRU with batch_first=True, one layer, biases on.

Usage:
    .venv-peers/bin/python test/peers/recurrent_torch.py < CASES.json > RESULT.json
    .venv-peers/bin/python test/peers/recurrent_torch.py --bench [--threads 1] [--batch 64 --steps 64
        --features 16 --hidden 64] [--repeats 30]

CASES.json is `{"cases": [case, ...]}`; each case (every tensor a flat row-major list of floats):
    {
      "name": "lstm-small", "kind": "lstm" | "gru",
      "batch": B, "steps": T, "features": F, "hidden": H,
      "x": [B*T*F], "weight_ih": [G*F], "weight_hh": [G*H], "bias_ih": [G], "bias_hh": [G],   # G = 4H or 3H
      "h0": [B*H] | null, "c0": [B*H] | null,                 # null: zeros, and no gradient is reported
      "grad_output": [B*T*H] | null, "grad_h": [B*H] | null, "grad_c": [B*H] | null   # upstream gradients
    }
The upstream gradients are pushed through with one torch.autograd.backward over (output, h_n, c_n).
RESULT.json is `{"torch": version, "cases": [{"name", "output", "h", "c" (lstm only), "grads": {"x",
"weight_ih", "weight_hh", "bias_ih", "bias_hh", "h0"?, "c0"?}}]}`, floats at full (round-trip) precision.

--bench prints one JSON line: the fastest and the median ms per call, and samples/s at the fastest, of the
forward pass (under torch.no_grad) and of forward + backward (gradient into h_n, x not requiring grad, as
when training on data), for LSTM and GRU at the given shape, with torch.set_num_threads(threads).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch


def as_tensor(values, shape, requires_grad=False):
    t = torch.tensor(values, dtype=torch.float32).reshape(shape)
    return t.requires_grad_(requires_grad)


def flat(tensor) -> list[float]:
    return tensor.detach().reshape(-1).tolist()


def make_layer(kind: str, features: int, hidden: int):
    layer_type = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    return layer_type(features, hidden, num_layers=1, bias=True, batch_first=True)


def run_case(case: dict) -> dict:
    kind = case["kind"]
    b, t, f, h = case["batch"], case["steps"], case["features"], case["hidden"]
    layer = make_layer(kind, f, h)
    gates = (4 if kind == "lstm" else 3) * h
    with torch.no_grad():
        layer.weight_ih_l0.copy_(as_tensor(case["weight_ih"], (gates, f)))
        layer.weight_hh_l0.copy_(as_tensor(case["weight_hh"], (gates, h)))
        layer.bias_ih_l0.copy_(as_tensor(case["bias_ih"], (gates,)))
        layer.bias_hh_l0.copy_(as_tensor(case["bias_hh"], (gates,)))
    x = as_tensor(case["x"], (b, t, f), requires_grad=True)
    # nn.LSTM/GRU take states as [num_layers, B, H].
    states = {}
    for key in ("h0", "c0"):
        if case.get(key) is not None:
            states[key] = as_tensor(case[key], (1, b, h), requires_grad=True)
    if kind == "lstm":
        zeros = torch.zeros(1, b, h)
        hx = None if not states else (states.get("h0", zeros), states.get("c0", zeros))
        output, (h_n, c_n) = layer(x, hx)
        finals = {"h": h_n[0], "c": c_n[0]}
    else:
        output, h_n = layer(x, states.get("h0"))
        finals = {"h": h_n[0]}

    roots, seeds = [], []
    for root, key, shape in ((output, "grad_output", (b, t, h)), (finals["h"], "grad_h", (b, h))):
        if case.get(key) is not None:
            roots.append(root)
            seeds.append(as_tensor(case[key], shape))
    if kind == "lstm" and case.get("grad_c") is not None:
        roots.append(finals["c"])
        seeds.append(as_tensor(case["grad_c"], (b, h)))
    torch.autograd.backward(roots, seeds)

    grads = {
        "x": flat(x.grad),
        "weight_ih": flat(layer.weight_ih_l0.grad),
        "weight_hh": flat(layer.weight_hh_l0.grad),
        "bias_ih": flat(layer.bias_ih_l0.grad),
        "bias_hh": flat(layer.bias_hh_l0.grad),
    }
    for key, state in states.items():
        grads[key] = flat(state.grad)
    result = {"name": case["name"], "output": flat(output), "grads": grads}
    result.update({key: flat(value) for key, value in finals.items()})
    return result


def time_per_call(work, repeats: int) -> tuple[float, float]:
    """(fastest, median) seconds per call after a warm-up: the minimum is least disturbed by a busy machine."""
    for _ in range(5):
        work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[0], times[len(times) // 2]


def bench(args) -> dict:
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    b, t, f, h = args.batch, args.steps, args.features, args.hidden
    x = torch.randn(b, t, f)
    report = {"torch": torch.__version__, "threads": args.threads, "shape": [b, t, f, h]}
    for kind in ("lstm", "gru"):
        layer = make_layer(kind, f, h)
        grad_h = torch.randn(1, b, h)
        report[kind] = {}

        def forward():
            with torch.no_grad():
                layer(x)

        def train_step():
            layer.zero_grad(set_to_none=False)
            _, state = layer(x)
            h_n = state[0] if kind == "lstm" else state
            h_n.backward(grad_h)

        for name, work in (("forward", forward), ("train", train_step)):
            fastest, median = time_per_call(work, args.repeats)
            report[kind][f"{name}_ms_min"] = fastest * 1e3
            report[kind][f"{name}_ms_median"] = median * 1e3
            report[kind][f"{name}_samples_per_s"] = b / fastest
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    if args.bench:
        print(json.dumps(bench(args)))
        return
    torch.set_num_threads(1)
    request = json.load(sys.stdin)
    cases = [run_case(case) for case in request["cases"]]
    json.dump({"torch": torch.__version__, "cases": cases}, sys.stdout)


if __name__ == "__main__":
    main()
