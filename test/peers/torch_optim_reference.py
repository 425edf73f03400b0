"""Reference trajectories for src/engine/optim, computed with torch.optim (PyTorch 2.13, CPU, float32).

Usage:
    .venv-peers/bin/python test/peers/torch_optim_reference.py < CASES.json > RESULT.json

CASES.json is `{"cases": [case, ...]}`; each case:
    {
      "name": "adam-amsgrad",
      "params": [{"name": "w", "shape": [3, 4], "data": [12 floats]}, ...],
      "grads": [[[grads of param 0], [grads of param 1], ...], ...],   # one entry per step
      "optimizer": {"type": "sgd" | "adam" | "adamw", ...torch keyword arguments (snake_case)},
      "scheduler": null | {"type": "step" | "cosine_warmup" | "one_cycle" | "plateau", ...keyword arguments},
      "metrics": [floats, one per step]          # only for "plateau"
      "clip": null | {"max_norm": 1.0, "norm_type": 2.0 | "Infinity"},
      "record_every": 1                          # params are written after every k-th step and the last
    }
Each step: set the grads, clip (torch.nn.utils.clip_grad_norm_) if asked, optimizer.step(), scheduler.step().
RESULT.json is `{"cases": [{"name", "initial_lr", "initial_momentum", "steps": [{"norm", "lr", "momentum",
"params": [[floats], ...] | null}, ...]}]}`: the clip norm before the step, then the LR and momentum (SGD
momentum or Adam beta1) the next step will use and every parameter after the step (null on steps not
recorded). Floats are written at full
(round-trip) precision; non-finite values as the strings "Infinity", "-Infinity", "NaN".

"cosine_warmup" is transformers' get_cosine_with_min_lr_schedule_with_warmup (which equals
get_cosine_schedule_with_warmup when min_lr is 0), reproduced here verbatim as a LambdaLR because
transformers is not a test peer; cryptoml holds the minimum after total_steps, so cases stop there.
"""

from __future__ import annotations

import json
import math
import sys
from functools import partial

import torch


def json_float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def cosine_with_min_lr_lambda(current_step, *, num_warmup_steps, num_training_steps, num_cycles, min_lr_rate):
    # transformers.optimization._get_cosine_schedule_with_warmup_lr_lambda with min_lr_rate (v4.4x).
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    factor = 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress))
    factor = factor * (1 - min_lr_rate) + min_lr_rate
    return max(0, factor)


def make_optimizer(params, config):
    kwargs = {key: value for key, value in config.items() if key != "type"}
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    kinds = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    return kinds[config["type"]](params, **kwargs)


def make_scheduler(optimizer, config):
    if config is None:
        return None
    kwargs = {key: value for key, value in config.items() if key != "type"}
    kind = config["type"]
    if kind == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, **kwargs)
    if kind == "one_cycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, **kwargs)
    if kind == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    if kind == "cosine_warmup":
        base_lr = optimizer.defaults["lr"]
        lr_lambda = partial(
            cosine_with_min_lr_lambda,
            num_warmup_steps=kwargs["warmup_steps"],
            num_training_steps=kwargs["total_steps"],
            num_cycles=0.5,
            min_lr_rate=kwargs.get("min_lr", 0.0) / base_lr,
        )
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    raise ValueError(f"unknown scheduler type {kind!r}")


def momentum_of(optimizer) -> float:
    group = optimizer.param_groups[0]
    return float(group["betas"][0]) if "betas" in group else float(group["momentum"])


def run_case(case):
    params = [
        torch.nn.Parameter(torch.tensor(p["data"], dtype=torch.float32).reshape(p["shape"]))
        for p in case["params"]
    ]
    optimizer = make_optimizer(params, case["optimizer"])
    scheduler = make_scheduler(optimizer, case.get("scheduler"))
    clip = case.get("clip")
    metrics = case.get("metrics") or []
    record_every = case.get("record_every", 1)
    last = len(case["grads"]) - 1
    result = {
        "name": case["name"],
        "initial_lr": optimizer.param_groups[0]["lr"],
        "initial_momentum": momentum_of(optimizer),
        "steps": [],
    }
    for index, grads in enumerate(case["grads"]):
        for param, grad in zip(params, grads, strict=True):
            param.grad = torch.tensor(grad, dtype=torch.float32).reshape(param.shape)
        norm = None
        if clip is not None:
            # float() also reads the strings "Infinity"/"inf" that JSON needs for the infinity norm.
            norm_type = float(clip.get("norm_type", 2.0))
            norm = float(torch.nn.utils.clip_grad_norm_(params, float(clip["max_norm"]), norm_type))
        optimizer.step()
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(metrics[index])
        elif scheduler is not None:
            scheduler.step()
        recorded = (index + 1) % record_every == 0 or index == last
        result["steps"].append(
            {
                "norm": None if norm is None else json_float(norm),
                "lr": optimizer.param_groups[0]["lr"],
                "momentum": momentum_of(optimizer),
                "params": [[json_float(x) for x in p.detach().reshape(-1).tolist()] for p in params]
                if recorded
                else None,
            }
        )
    return result


def main() -> None:
    torch.set_num_threads(1)
    request = json.load(sys.stdin)
    json.dump({"cases": [run_case(case) for case in request["cases"]]}, sys.stdout)


if __name__ == "__main__":
    main()
