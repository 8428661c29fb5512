"""The PyTorch peer of bench/at.ts: Madry et al.'s adversarial-training step as a PyTorch user writes it.

Usage: peer_at.py SPEC_JSON. The spec names the model and its resolved advdyn options (`name`,
`options`), the safetensors files of advdyn's weights (`weights`) and of the batch (`inputs`: x, y),
`threads`, the optimizer (`lr`, `momentum`, `weight_decay`) and the attack (`epsilon`, `steps`,
`rel_stepsize`). Protocol: one JSON line ({}) once loaded, then for every stdin line {"steps": n,
"adversarial": bool} the answer {"seconds": per step} for n training steps (standard or
adversarial). Ends at the end of stdin.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

from peer_models import setup


def main():
    spec = json.loads(sys.argv[1])
    model, inputs = setup(spec)
    x, y = inputs["x"], inputs["y"]
    opt = torch.optim.SGD(model.parameters(), lr=spec["lr"], momentum=spec["momentum"], weight_decay=spec["weight_decay"])
    eps, steps = spec["epsilon"], spec["steps"]
    alpha = spec["rel_stepsize"] * eps
    print(json.dumps({}), flush=True)

    def pgd():
        # Madry's inner maximisation: eval mode, random start in the ε-box, signed steps, projection.
        model.eval()
        x_adv = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)
        for _ in range(steps):
            x_adv.requires_grad_(True)
            loss = F.cross_entropy(model(x_adv), y)
            (grad,) = torch.autograd.grad(loss, x_adv)
            x_adv = (x + (x_adv.detach() + alpha * grad.sign() - x).clamp(-eps, eps)).clamp(0, 1)
        model.train()
        return x_adv.detach()

    def step(adversarial):
        inputs = pgd() if adversarial else x
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(inputs), y).backward()
        opt.step()

    for line in sys.stdin:
        req = json.loads(line)
        t0 = time.perf_counter()
        for _ in range(req["steps"]):
            step(req["adversarial"])
        print(json.dumps({"seconds": (time.perf_counter() - t0) / req["steps"]}), flush=True)


if __name__ == "__main__":
    main()
