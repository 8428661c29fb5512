"""The PyTorch peer of bench/run.ts: one case, written as a PyTorch user writes it.

Usage: peer_torch.py SPEC_JSON, where the spec names the case, iters, warmup, threads,
ops_per_step, batch, lr and optionally weights (a safetensors file of initial parameters, named as
the model's state_dict). Prints {"seconds": seconds per step} as JSON.
The two peer columns differ only in the environment run.ts gives this process.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

MODELS = {
    "mlp": lambda: nn.Sequential(nn.Flatten(), nn.Linear(3072, 2700), nn.ReLU(), nn.Linear(2700, 10)),
    "conv": lambda: nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(32 * 32 * 32, 10)
    ),
}


def tiny(op, spec):
    a, b = torch.randn(8, 8), torch.randn(8, 8)
    n = spec["ops_per_step"]

    def step():
        for _ in range(n):
            op(a, b)

    return step


def train(spec):
    model = MODELS[spec["case"]]()
    if spec.get("weights"):
        from safetensors.torch import load_file  # run.ts passes weights only where it is installed

        model.load_state_dict(load_file(spec["weights"]))
    batch = spec["batch"]
    x, y = torch.randn(batch, 3, 32, 32), torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=spec["lr"], momentum=0.9)

    def step():
        # set_to_none matches advdyn's zeroGrad (1.13 defaults to zero-filling instead)
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def fft2(spec):
    x = torch.randn(*spec["shape"])
    return lambda: torch.fft.fft2(x)


def gemm(spec):
    n = spec["n"]
    a, b = torch.randn(n, n), torch.randn(n, n)
    return lambda: torch.matmul(a, b)


CASES = {
    "add": lambda spec: tiny(torch.add, spec),
    "matmul": lambda spec: tiny(torch.matmul, spec),
    "mlp": train,
    "conv": train,
    "fft2": fft2,
    "gemm": gemm,
}


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    step = CASES[spec["case"]](spec)
    for _ in range(spec["warmup"]):
        step()
    t0 = time.perf_counter()
    for _ in range(spec["iters"]):
        step()
    seconds = (time.perf_counter() - t0) / spec["iters"]
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
