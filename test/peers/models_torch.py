"""PyTorch side of the reference-model parity test (test/integration/models-torch.test.ts).

Usage:
    .venv-peers/bin/python test/peers/models_torch.py MODEL SHAPE_JSON WEIGHTS DATA OUT

MODEL is one of lstm, gru, lstm_attention, cnn_lstm, transformer, built as in the engine benchmark
(../shared/anchors/README.md) with the sizes in SHAPE_JSON ({"features", "window", "hidden",
"convChannels", "heads", "feedForward", "layers"}). WEIGHTS is a safetensors file written by cryptoml;
it must load with load_state_dict(strict=True). DATA holds `x` [B, T, F] and `y` [B, 1] for one
gradient step, and `xs` [S, B, T, F], `ys` [S, B, 1] for an S-step Adam run (lr 1e-3).
OUT receives, as safetensors: `output`, `loss`, `grad.<param>` for every parameter (one MSE step from
WEIGHTS), and `losses` [S] (the loss before each Adam step), all float32. OUT with `.torch-init` appended
receives the state_dict of a freshly initialised PyTorch model (seed 0), for the reverse direction: cryptoml
must load PyTorch's own weights.
"""

from __future__ import annotations

import json
import sys

import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file


class LstmNet(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.rnn = nn.LSTM(s["features"], s["hidden"], batch_first=True)
        self.out = nn.Linear(s["hidden"], 1)

    def forward(self, x):
        _, (h, _) = self.rnn(x)
        return self.out(h[-1])


class GruNet(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.rnn = nn.GRU(s["features"], s["hidden"], batch_first=True)
        self.out = nn.Linear(s["hidden"], 1)

    def forward(self, x):
        _, h = self.rnn(x)
        return self.out(h[-1])


class LstmAttentionNet(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.rnn = nn.LSTM(s["features"], s["hidden"], batch_first=True)
        self.score = nn.Linear(s["hidden"], 1)
        self.out = nn.Linear(s["hidden"], 1)

    def forward(self, x):
        seq, _ = self.rnn(x)
        weights = torch.softmax(self.score(torch.tanh(seq)), dim=1)
        return self.out((weights * seq).sum(dim=1))


class CnnLstmNet(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.conv = nn.Conv1d(s["features"], s["convChannels"], kernel_size=3, padding=1)
        self.rnn = nn.LSTM(s["convChannels"], s["hidden"], batch_first=True)
        self.out = nn.Linear(s["hidden"], 1)

    def forward(self, x):
        z = torch.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)
        _, (h, _) = self.rnn(z)
        return self.out(h[-1])


class TransformerNet(nn.Module):
    def __init__(self, s):
        super().__init__()
        d = s["hidden"]
        self.inp = nn.Linear(s["features"], d)
        self.pos = nn.Parameter(torch.zeros(1, s["window"], d))
        layer = nn.TransformerEncoderLayer(d, s["heads"], s["feedForward"], dropout=0.0, batch_first=True)
        # The fast path (nested tensors, fused kernels) applies only in eval mode without grad; keep the
        # plain math path in both modes so the comparison is of the same computation.
        self.enc = nn.TransformerEncoder(layer, s["layers"], enable_nested_tensor=False)
        self.out = nn.Linear(d, 1)

    def forward(self, x):
        return self.out(self.enc(self.inp(x) + self.pos).mean(dim=1))


MODELS = {
    "lstm": LstmNet,
    "gru": GruNet,
    "lstm_attention": LstmAttentionNet,
    "cnn_lstm": CnnLstmNet,
    "transformer": TransformerNet,
}


def main(argv: list[str]) -> None:
    if len(argv) != 6:
        raise SystemExit(__doc__)
    name, shape_json, weights_path, data_path, out_path = argv[1:]
    torch.set_num_threads(1)
    torch.manual_seed(0)
    fresh = MODELS[name](json.loads(shape_json))
    save_file({k: v.contiguous() for k, v in fresh.state_dict().items()}, out_path + ".torch-init")
    model = MODELS[name](json.loads(shape_json))
    model.load_state_dict(load_file(weights_path), strict=True)
    data = load_file(data_path)
    out = {}

    output = model(data["x"])
    loss = nn.functional.mse_loss(output, data["y"])
    loss.backward()
    out["output"] = output.detach().contiguous()
    out["loss"] = loss.detach().reshape(1)
    for key, param in model.named_parameters():
        out[f"grad.{key}"] = param.grad.detach().contiguous()

    model.zero_grad()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for x, y in zip(data["xs"], data["ys"]):
        optimizer.zero_grad()
        step_loss = nn.functional.mse_loss(model(x), y)
        step_loss.backward()
        optimizer.step()
        losses.append(step_loss.item())
    out["losses"] = torch.tensor(losses, dtype=torch.float32)
    save_file(out, out_path)


if __name__ == "__main__":
    main(sys.argv)
