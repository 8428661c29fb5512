"""The PyTorch peers of bench/attacks.ts: PGD L-inf as a PyTorch user writes it, or Foolbox 3's LinfPGD.

Usage: peer_attacks.py SPEC_JSON. The spec names the model and its resolved advdyn options (`name`,
`options`), the safetensors files of advdyn's weights (`weights`) and of the batch (`inputs`: x, y),
`threads`, `epsilon`, `rel_stepsize`, and `impl`: "loop" (the hand-written loop below) or "foolbox"
(Foolbox 3 and EagerPy imported from the source trees in $FOOLBOX_SRC and $EAGERPY_SRC).

Protocol: one JSON line once the model is loaded ({} or {"foolbox": version}; {"error": why} and
exit when Foolbox cannot be imported), then for every stdin line {"images", "steps",
"random_start", "seed", "check"} the answer {"seconds", "success", "clean_correct"} for one attack
on the first `images` examples. When `check` names a safetensors file of advdyn's result on the
same examples (`adv`, `success`), the answer also has "max_abs_diff" (largest |advdyn − peer| over
all pixels), "examples_over_1e-4" and "success_mismatches". Ends at the end of stdin.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

# The model definitions (same parameter names as advdyn) and a safetensors reader that does not
# need the `safetensors` package.
from peer_models import MODELS, load_safetensors


def loop_attack(model, epsilon, rel_stepsize):
    """Foolbox's LinfPGD semantics in plain PyTorch: summed cross-entropy, sign step, clip to the
    ε-box and to [0, 1] after the start and every step, last iterate."""
    stepsize = rel_stepsize * epsilon

    def attack(x, y, steps, random_start):
        x_adv = (x + torch.empty_like(x).uniform_(-epsilon, epsilon)).clamp(0, 1) if random_start else x
        for _ in range(steps):
            x_adv = x_adv.detach().requires_grad_(True)
            loss = F.cross_entropy(model(x_adv), y, reduction="sum")
            (grad,) = torch.autograd.grad(loss, x_adv)
            x_adv = (x + (x_adv.detach() + stepsize * grad.sign() - x).clamp(-epsilon, epsilon)).clamp(0, 1)
        with torch.no_grad():
            success = model(x_adv).argmax(1) != y
            clean_correct = model(x).argmax(1) == y
        return x_adv.detach(), success, clean_correct

    return attack


def foolbox_attack(model, epsilon, rel_stepsize):
    for var in ("EAGERPY_SRC", "FOOLBOX_SRC"):
        sys.path.insert(0, os.environ[var])
    import foolbox as fb

    fmodel = fb.PyTorchModel(model, bounds=(0, 1), device="cpu")

    def attack(x, y, steps, random_start):
        pgd = fb.attacks.LinfPGD(rel_stepsize=rel_stepsize, steps=steps, random_start=random_start)
        _, clipped, success = pgd(fmodel, x, y, epsilons=epsilon)
        # advdyn's run() and the loop report clean correctness too: the same work in every column
        with torch.no_grad():
            clean_correct = model(x).argmax(1) == y
        return clipped, success, clean_correct

    return attack, fb.__version__


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    model = MODELS[spec["name"]](spec["options"])
    model.load_state_dict(load_safetensors(spec["weights"]))
    # What advdyn's AttackModel does during an attack: eval mode, no weight gradients.
    model.eval()
    model.requires_grad_(False)
    inputs = load_safetensors(spec["inputs"])
    x_all, y_all = inputs["x"], inputs["y"]

    hello = {}
    if spec["impl"] == "foolbox":
        try:
            attack, version = foolbox_attack(model, spec["epsilon"], spec["rel_stepsize"])
        except Exception as e:  # any import failure means no Foolbox column, with the reason
            print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)
            return
        hello = {"foolbox": version}
    else:
        attack = loop_attack(model, spec["epsilon"], spec["rel_stepsize"])
    print(json.dumps(hello), flush=True)

    for line in sys.stdin:
        req = json.loads(line)
        x, y = x_all[: req["images"]], y_all[: req["images"]]
        torch.manual_seed(req["seed"])
        t0 = time.perf_counter()
        adv, success, clean_correct = attack(x, y, req["steps"], req["random_start"])
        answer = {
            "seconds": time.perf_counter() - t0,
            "success": int(success.sum()),
            "clean_correct": int(clean_correct.sum()),
        }
        if req.get("check"):
            ours = load_safetensors(req["check"])
            diff = (adv - ours["adv"]).abs().flatten(1).amax(1)
            answer.update(
                max_abs_diff=diff.max().item(),
                **{"examples_over_1e-4": int((diff > 1e-4).sum())},
                success_mismatches=int((success != ours["success"]).sum()),
            )
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
