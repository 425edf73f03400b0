"""PyTorch side of the safetensors interop test (test/integration/safetensors-torch.test.ts).

Usage:
    .venv-peers/bin/python test/peers/safetensors_torch.py write PATH
    .venv-peers/bin/python test/peers/safetensors_torch.py check PATH
    .venv-peers/bin/python test/peers/safetensors_torch.py dtypes PATH

write   saves the state_dict of the reference lstm model (nn.LSTM(16, 64, batch_first=True) as `rnn`,
        nn.Linear(64, 1) as `out`, torch.manual_seed(0)) with `safetensors.torch.save_file`, metadata
        {"format": "pt"}, and prints what it saved.
check   loads a file written by cryptoml with `safetensors.torch.load_file`, then
        `model.load_state_dict(..., strict=True)` (raises, exit status 1, if that refuses it), and prints
        the model's state_dict after loading, the file's metadata, and whether `safetensors.torch.save`
        of the loaded tensors reproduces the file byte for byte.
dtypes  saves awkward float32 values and their float16, bfloat16 and float64 conversions, plus integer
        and bool tensors, and prints them.

Output is one JSON object on stdout: {"tensors": {name: {"dtype", "shape", "sum", "values"}}, ...}.
Every float is printed at full precision (float32, float16 and bfloat16 values are exact as doubles);
non-finite floats as the strings "nan", "inf", "-inf"; 64-bit integers as strings, which a JavaScript
number could not hold exactly.
"""

from __future__ import annotations

import json
import math
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save, save_file
from torch import nn

DTYPE_NAMES = {
    torch.float32: "F32",
    torch.float64: "F64",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


class ReferenceLstm(nn.Module):
    """The parameter layout of cryptoml's reference `lstm` model (keys rnn.* and out.*)."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(16, 64, batch_first=True)
        self.out = nn.Linear(64, 1)


def json_value(value: float | int | bool, dtype: torch.dtype) -> float | int | str:
    if dtype == torch.int64:
        return str(int(value))
    if dtype.is_floating_point:
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return float(value)
    return int(value)


def describe(tensors: dict[str, torch.Tensor]) -> dict[str, dict]:
    described = {}
    for name, tensor in tensors.items():
        flat = tensor.detach().reshape(-1)
        # Half formats are widened exactly; tolist() of a float32 tensor gives the exact doubles.
        values = flat.float().tolist() if tensor.dtype in (torch.float16, torch.bfloat16) else flat.tolist()
        described[name] = {
            "dtype": DTYPE_NAMES[tensor.dtype],
            "shape": list(tensor.shape),
            "sum": json_value(float(flat.double().sum()), torch.float64) if tensor.dtype.is_floating_point else None,
            "values": [json_value(v, tensor.dtype) for v in values],
        }
    return described


def reference_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = ReferenceLstm()
    return {name: value.contiguous() for name, value in model.state_dict().items()}


def write(path: str) -> dict:
    state = reference_state()
    save_file(state, path, metadata={"format": "pt"})
    return {"tensors": describe(state)}


def check(path: str) -> dict:
    loaded = load_file(path)
    model = ReferenceLstm()
    result = model.load_state_dict(loaded, strict=True)
    with safe_open(path, framework="pt") as handle:
        metadata = handle.metadata() or {}
    with open(path, "rb") as handle:
        original = handle.read()
    resaved = save(loaded, metadata=metadata or None)
    return {
        "tensors": describe(model.state_dict()),
        "file_dtypes": {name: DTYPE_NAMES[tensor.dtype] for name, tensor in loaded.items()},
        "metadata": metadata,
        "missing_keys": list(result.missing_keys),
        "unexpected_keys": list(result.unexpected_keys),
        "resave_identical": resaved == original,
    }


def awkward_float32() -> torch.Tensor:
    """Values that exercise rounding: ties, overflow and underflow of the half formats, signed zero, NaN."""
    values = [
        0.0, -0.0, 1.0, -2.5, 0.1, 1 / 3, 3.14159265, 65504.0, 65519.0, 65520.0, 1e5, -1e-8, 6e-8, 3.0e-5,
        6.1e-5, 1.0009765625, 1.00048828125, 1.00146484375, 1.00390625, 1.005859375, 3.0e38, 1.0e-40,
        float("inf"), float("-inf"), float("nan"),
    ]
    generator = torch.Generator().manual_seed(1)
    return torch.cat([torch.tensor(values, dtype=torch.float32), torch.randn(64, generator=generator) * 100])


def dtypes(path: str) -> dict:
    x = awkward_float32()
    state = {
        "x": x,
        "x_f16": x.half(),
        "x_bf16": x.bfloat16(),
        "x_f64": x.double().reshape(89, 1),
        "i64": torch.tensor([-(2**63), 2**53 + 1, -1, 0], dtype=torch.int64),
        "i32": torch.tensor([[-(2**31), 7], [2**31 - 1, 0]], dtype=torch.int32),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "mask": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
    }
    save_file(state, path)
    return {"tensors": describe(state)}


def main(argv: list[str]) -> int:
    modes = {"write": write, "check": check, "dtypes": dtypes}
    if len(argv) != 3 or argv[1] not in modes:
        print(f"usage: {argv[0]} {{{'|'.join(modes)}}} PATH", file=sys.stderr)
        return 2
    print(json.dumps(modes[argv[1]](argv[2]), allow_nan=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
