"""Reference outputs and gradients of single ops, computed with PyTorch 2.13 (CPU, float32), for the parity
suite of src/engine/ops (test/integration/ops-torch.test.ts).

Usage:
    .venv-peers/bin/python test/peers/ops_torch.py < CASES.json > RESULT.json

CASES.json is `{"cases": [case, ...], "dtype": "float32"}` (dtype optional: "float64" runs everything in
double precision, for studying tolerances); each case:
    {
      "name": "conv1d-k3-p1",
      "op": "softmax" | "layer_norm" | "conv1d" | "mha" | "mse" | "huber" | "bce_with_logits"
            | "cross_entropy" | "gelu",
      "inputs": {"x": {"shape": [8, 64, 16], "data": [floats]}, ...},   # tensors, by the op's names below
      "grad": ["x", "weight", ...],   # inputs that require grad (the others, such as targets, are constants)
      "params": {...},                # scalars and lists: axis, eps, padding, heads, mask, delta, classes
      "grad_out": [floats]            # the upstream gradient, shaped like the output (one value for a loss)
    }
Inputs per op (the engine's layouts; PyTorch's where they differ is handled here):
    softmax: x; params.axis                            -> torch.softmax(x, dim=axis)
    layer_norm: x [..., D], weight [D], bias [D]; params.eps
    conv1d: x [B, T, Cin], weight [Cout, Cin, K], bias [Cout]; params.padding
                                                       -> conv1d(x.transpose(1, 2), ...).transpose(1, 2)
    mha: x [B, T, E], in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias; params.heads,
         params.mask (null or "causal")               -> nn.MultiheadAttention(E, heads, batch_first=True,
                                                          dropout=0)(x, x, x, need_weights=False)[0]
    mse / huber / bce_with_logits: pred, target; huber: params.delta (mean reduction)
    cross_entropy: logits [N, C]; params.classes (N ints)
    gelu: x                                            -> F.gelu(x) (approximate="none")
RESULT.json is `{"torch": version, "cases": [{"name", "shape", "output": [floats], "grads": {name: [floats]}}]}`
with output and gradients flattened row-major, floats at full (round-trip) precision.
"""

from __future__ import annotations

import json
import sys

import torch
import torch.nn.functional as F


def run_mha(t, params):
    x = t["x"]
    embed = x.shape[-1]
    module = torch.nn.MultiheadAttention(embed, params["heads"], dropout=0.0, batch_first=True)
    with torch.no_grad():
        module.in_proj_weight.copy_(t["in_proj_weight"])
        module.in_proj_bias.copy_(t["in_proj_bias"])
        module.out_proj.weight.copy_(t["out_proj_weight"])
        module.out_proj.bias.copy_(t["out_proj_bias"])
    mask = None
    if params.get("mask") == "causal":
        steps = x.shape[1]
        mask = torch.triu(torch.full((steps, steps), float("-inf")), diagonal=1)
    out = module(x, x, x, need_weights=False, attn_mask=mask)[0]
    # Gradients of the module's own parameters, reported under the input names.
    owned = {
        "in_proj_weight": module.in_proj_weight,
        "in_proj_bias": module.in_proj_bias,
        "out_proj_weight": module.out_proj.weight,
        "out_proj_bias": module.out_proj.bias,
    }
    return out, owned


def forward(op, t, params):
    """The op's output and any tensors, beyond the inputs, whose gradients are reported."""
    if op == "softmax":
        return torch.softmax(t["x"], dim=params["axis"]), {}
    if op == "layer_norm":
        x = t["x"]
        return F.layer_norm(x, (x.shape[-1],), t["weight"], t["bias"], eps=params["eps"]), {}
    if op == "conv1d":
        y = F.conv1d(t["x"].transpose(1, 2), t["weight"], t["bias"], padding=params["padding"])
        return y.transpose(1, 2), {}
    if op == "mha":
        return run_mha(t, params)
    if op == "mse":
        return F.mse_loss(t["pred"], t["target"]), {}
    if op == "huber":
        return F.huber_loss(t["pred"], t["target"], delta=params["delta"]), {}
    if op == "bce_with_logits":
        return F.binary_cross_entropy_with_logits(t["pred"], t["target"]), {}
    if op == "cross_entropy":
        return F.cross_entropy(t["logits"], torch.tensor(params["classes"], dtype=torch.long)), {}
    if op == "gelu":
        return F.gelu(t["x"]), {}
    raise ValueError(f"unknown op {op!r}")


def run_case(case, dtype):
    wanted = set(case.get("grad", []))
    tensors = {}
    for name, spec in case["inputs"].items():
        value = torch.tensor(spec["data"], dtype=dtype).reshape(spec["shape"])
        # Module-owned parameters (mha) get their gradients on the module's copies instead.
        module_owned = case["op"] == "mha" and name != "x"
        tensors[name] = value.requires_grad_(name in wanted and not module_owned)
    out, owned = forward(case["op"], tensors, case.get("params", {}))
    grad_out = torch.tensor(case["grad_out"], dtype=dtype).reshape(out.shape)
    out.backward(grad_out)
    sources = {**{k: v for k, v in tensors.items() if v.requires_grad}, **owned}
    grads = {name: sources[name].grad.reshape(-1).tolist() for name in wanted}
    return {
        "name": case["name"],
        "shape": list(out.shape),
        "output": out.detach().reshape(-1).tolist(),
        "grads": grads,
    }


def main():
    torch.set_num_threads(1)
    request = json.load(sys.stdin)
    # float64 is for studying tolerances: how far float32 torch itself is from a near-exact answer.
    dtype = {"float32": torch.float32, "float64": torch.float64}[request.get("dtype", "float32")]
    torch.set_default_dtype(dtype)
    results = [run_case(case, dtype) for case in request["cases"]]
    json.dump({"torch": torch.__version__, "cases": results}, sys.stdout)


if __name__ == "__main__":
    main()
