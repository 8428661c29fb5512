"""The PyTorch peer of bench/models.ts: paper A's models as a PyTorch user writes them, trained step by step.

Usage: peer_models.py SPEC_JSON. The spec names the model and its resolved advdyn options (`name`,
`options`), the safetensors files of advdyn's initial state dict (`weights`) and of the batch
(`inputs`: x, y and advdyn's eval-mode logits), `threads`, `lr`, `momentum`, `weight_decay`, and
`check` (compare the logits with advdyn's), and `precision` ("fp32", or "bf16": the forward pass under
torch.autocast("cpu", torch.bfloat16), the loss in float32, as advdyn's --precision bf16). Parameter names and shapes are advdyn's, which are
those of the papers' PyTorch code, so the state dict loads strictly.

Protocol: one JSON line once the model is loaded ({"max_abs_diff", "max_abs_logit"} when checking,
else {}), then for every stdin line {"steps": n} the answer {"seconds": seconds per step} after n
training steps. Ends at the end of stdin. The two peer columns differ only in the environment.
"""
import json
import struct
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

# safetensors dtype names; the `safetensors` package is often absent next to Debian's torch.
DTYPES = {
    "F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32,
    "U8": torch.uint8, "BOOL": torch.bool, "C64": torch.complex64,
}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = bytearray(f.read())  # writable, so frombuffer does not warn
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, spec in header.items():
        begin, end = spec["data_offsets"]
        dtype = DTYPES[spec["dtype"]]
        count = (end - begin) // torch.empty((), dtype=dtype).element_size()
        t = torch.frombuffer(data, dtype=dtype, count=count, offset=8 + n + begin)
        out[name] = t.reshape(spec["shape"]).clone()
    return out


class HiddenStack(nn.Module):
    """Hidden layers, each followed by the activation, then a Linear readout of the flattened map."""

    def __init__(self, layers, features, o, flatten_input=False):
        super().__init__()
        self.hidden = nn.Sequential(*layers)
        self.linear = nn.Linear(features, o["classes"], bias=o["bias"])
        self.act = F.relu if o["activation"] == "relu" else (lambda h: h)
        self.flatten_input = flatten_input

    def forward(self, x):
        h = x.flatten(1) if self.flatten_input else x
        for layer in self.hidden:
            h = self.act(layer(h))
        return self.linear(h.flatten(1))


class CircularConv2d(nn.Conv2d):
    """Paper A's full-width convolution done the code's way, a direct conv over a circularly padded
    image. The code pads ⌈(H−1)/2⌉ on every side (an (H+1)×(H+1) map); padding H−1 on the right and
    bottom only gives advdyn's H×H torus convolution, same weights, same logits, same cost."""

    def forward(self, x):
        p = self.kernel_size[0] - 1
        return F.conv2d(F.pad(x, (0, p, 0, p), mode="circular"), self.weight, self.bias)


class LocallyConnected2d(nn.Module):
    """Unshared k×k filters, weight (positions, C·k·k, out channels): unfold, then one einsum."""

    def __init__(self, in_channels, out_channels, in_size, kernel, padding, bias):
        super().__init__()
        self.kernel, self.padding, self.out_channels = kernel, padding, out_channels
        self.out_size = in_size + 2 * padding - kernel + 1
        self.weight = nn.Parameter(torch.empty(self.out_size ** 2, in_channels * kernel * kernel, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels, self.out_size, self.out_size)) if bias else None

    def forward(self, x):
        cols = F.unfold(x, self.kernel, padding=self.padding)
        y = torch.einsum("ncl,lco->nol", cols, self.weight).reshape(x.shape[0], self.out_channels, self.out_size, self.out_size)
        return y if self.bias is None else y + self.bias


def fc(o):
    d = o["inputShape"][0] * o["inputShape"][1] * o["inputShape"][2]
    layers = [nn.Linear(d if i == 0 else o["width"], o["width"], bias=o["bias"]) for i in range(o["depth"])]
    return HiddenStack(layers, o["width"], o, flatten_input=True)


def lc(o):
    c, side, k = o["inputShape"][0], o["inputShape"][1], o["kernel"]
    channels = o.get("channels") or (32 * (side - 2) ** 2) // (side - k + 1) ** 2
    layer = LocallyConnected2d(c, channels, side, k, (k - 1) // 2 if o["padding"] == "zeros" else 0, o["bias"])
    return HiddenStack([layer], channels * layer.out_size ** 2, o)


def conv_stack(o, kernel, padding):
    c, side = o["inputShape"][0], o["inputShape"][1]
    layers, size = [], side
    for i in range(o["depth"]):
        in_c = c if i == 0 else o["channels"]
        if kernel == side:
            layers.append(CircularConv2d(in_c, o["channels"], side, bias=o["bias"]))
        elif padding == "valid":
            layers.append(nn.Conv2d(in_c, o["channels"], kernel, bias=o["bias"]))
            size -= kernel - 1
        else:
            layers.append(nn.Conv2d(in_c, o["channels"], kernel, padding=(kernel - 1) // 2, padding_mode="circular", bias=o["bias"]))
    return HiddenStack(layers, o["channels"] * size * size, o)


def fwconv(o):
    if o["codeFaithful"]:
        raise NotImplementedError("fwconv codeFaithful")
    return conv_stack(o, o["inputShape"][1], "circular")


class ShallowResNet(nn.Module):
    def __init__(self, o):
        super().__init__()
        c, h, w = o["inputShape"]
        ch = o["channels"]
        self.conv1 = nn.Conv2d(c, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)
        self.linear = nn.Linear(ch * h * w, o["classes"])

    def forward(self, x):
        h1 = self.conv1(x)
        return self.linear((h1 + F.relu(self.conv2(h1))).flatten(1))


CONFIG_E = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


class VGG(nn.Module):
    """The code's vgg19_bn (torchvision's layout, in-place ReLUs)."""

    def __init__(self, o):
        super().__init__()
        layers, c = [], o["inputShape"][0]
        for v in CONFIG_E:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            out = v // 64 * o["width"]
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            c = out
        self.features = nn.Sequential(*layers)
        side = (o["inputShape"][1] // 32) * (o["inputShape"][2] // 32)
        hidden = 8 * o["width"]
        self.classifier = nn.Sequential(
            nn.Dropout(o["dropout"]), nn.Linear(c * side, hidden), nn.ReLU(inplace=True),
            nn.Dropout(o["dropout"]), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, o["classes"]),
        )

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class BasicBlock(nn.Module):
    """kuangliu/pytorch-cifar's block."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


def pooled_side(s):
    """After the three stride-2 3×3 convs (padding 1), then the 4×4 average pool."""
    for _ in range(3):
        s = (s - 1) // 2 + 1
    return s // 4


class ResNet18(nn.Module):
    def __init__(self, o):
        super().__init__()
        w = o["width"]
        self.conv1 = nn.Conv2d(o["inputShape"][0], w, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        in_planes = w
        for i, m in enumerate([1, 2, 4, 8]):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(in_planes, m * w, stride), BasicBlock(m * w, m * w, 1)))
            in_planes = m * w
        h, w = (pooled_side(s) for s in o["inputShape"][1:])
        self.linear = nn.Linear(in_planes * h * w, o["classes"])

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(F.avg_pool2d(out, 4).flatten(1))


MODELS = {
    "fc": fc,
    "lc": lc,
    "fwconv": fwconv,
    "bwconv": lambda o: conv_stack(o, o["kernel"], o["padding"]),
    "shallow-resnet": ShallowResNet,
    "vgg19": VGG,
    "resnet18": ResNet18,
}


def setup(spec):
    """The spec's thread count, its model with advdyn's weights, and the inputs file's tensors."""
    torch.set_num_threads(spec["threads"])
    model = MODELS[spec["name"]](spec["options"])
    model.load_state_dict(load_safetensors(spec["weights"]))
    return model, load_safetensors(spec["inputs"])


def main():
    spec = json.loads(sys.argv[1])
    model, inputs = setup(spec)
    x, y = inputs["x"], inputs["y"]

    hello = {}
    if spec["check"]:
        # eval mode: dropout would make training-mode logits differ by construction
        model.eval()
        with torch.no_grad():
            diff = (model(x) - inputs["logits"]).abs().max().item()
        model.train()
        hello = {"max_abs_diff": diff, "max_abs_logit": inputs["logits"].abs().max().item()}
    print(json.dumps(hello), flush=True)

    opt = torch.optim.SGD(model.parameters(), lr=spec["lr"], momentum=spec["momentum"], weight_decay=spec["weight_decay"])

    bf16 = spec.get("precision", "fp32") == "bf16"

    def step():
        # set_to_none: advdyn's zeroGrad drops the gradients too (1.13's default zero-fills them)
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        F.cross_entropy(logits.float(), y).backward()
        opt.step()

    for line in sys.stdin:
        n = json.loads(line)["steps"]
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        print(json.dumps({"seconds": (time.perf_counter() - t0) / n}), flush=True)


if __name__ == "__main__":
    main()
