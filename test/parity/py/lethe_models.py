"""PyTorch twins of Lethe's built-in architectures (main/engine/models/*.ts).

Parameter names match Lethe's initializer names, so weights move between the two by name:
`load_lethe_weights(module, arrays)` copies Lethe's initializers (numpy arrays keyed by name) into the
module. The ViT's in-block linear layers are stored by Lethe as [in, out] (MatMul layout) and are
transposed here.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Mlp(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        width = int(np.prod(cfg["inputShape"]))
        self.layers = []
        for i, w in enumerate(cfg["hidden"]):
            setattr(self, f"fc{i + 1}", nn.Linear(width, w))
            width = w
        self.n_hidden = len(cfg["hidden"])
        setattr(self, f"fc{self.n_hidden + 1}", nn.Linear(width, cfg["classes"]))
        self.p = cfg["dropout"]

    def forward(self, x):
        h = torch.flatten(x, 1)
        for i in range(self.n_hidden):
            h = F.dropout(F.relu(getattr(self, f"fc{i + 1}")(h)), self.p, self.training)
        return getattr(self, f"fc{self.n_hidden + 1}")(h)


class SmallCnn(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c, h, w = cfg["inputShape"]
        self.n = len(cfg["channels"])
        for i, oc in enumerate(cfg["channels"]):
            setattr(self, f"conv{i + 1}", nn.Conv2d(c, oc, 3, padding=1))
            c, h, w = oc, h // 2, w // 2
        self.fc1 = nn.Linear(c * h * w, cfg["hidden"])
        self.fc2 = nn.Linear(cfg["hidden"], cfg["classes"])
        self.p = cfg["dropout"]

    def forward(self, x):
        for i in range(self.n):
            x = F.max_pool2d(F.relu(getattr(self, f"conv{i + 1}")(x)), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(F.dropout(x, self.p, self.training))


class BasicBlock(nn.Module):
    def __init__(self, inc, outc, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inc, outc, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(outc)
        self.conv2 = nn.Conv2d(outc, outc, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(outc)
        self.downsample = None
        if stride != 1 or inc != outc:
            self.downsample = nn.Sequential(nn.Conv2d(inc, outc, 1, stride, bias=False), nn.BatchNorm2d(outc))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class Resnet18Cifar(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        width = cfg["width"]
        self.conv1 = nn.Conv2d(cfg["inputShape"][0], width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        c = width
        self.stages = []
        for s, n in enumerate(cfg["blocks"]):
            outc = width * 2**s
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(c, outc, 2 if s > 0 and b == 0 else 1))
                c = outc
            setattr(self, f"layer{s + 1}", nn.Sequential(*blocks))
            self.stages.append(f"layer{s + 1}")
        self.fc = nn.Linear(c, cfg["classes"])

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for s in self.stages:
            x = getattr(self, s)(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, t, d = x.shape
        hd = d // self.heads

        def split(y):
            return y.reshape(n, t, self.heads, hd).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        a = torch.softmax((q @ k.transpose(-2, -1)) / math.sqrt(hd), dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(n, t, d))


class Mlp2(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, hidden, p):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp2(dim, hidden)
        self.p = p

    def forward(self, x):
        x = x + F.dropout(self.attn(self.norm1(x)), self.p, self.training)
        return x + F.dropout(self.mlp(self.norm2(x)), self.p, self.training)


class VitTiny(nn.Module):
    # names of the Linear layers that Lethe stores [in, out]
    MATMUL_LINEARS = ("attn.q", "attn.k", "attn.v", "attn.proj", "mlp.fc1", "mlp.fc2")

    def __init__(self, cfg):
        super().__init__()
        c, h, w = cfg["inputShape"]
        p, d = cfg["patch"], cfg["dim"]
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(c, d, p, p)
        tokens = (h // p) * (w // p) + 1
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, d))
        self.blocks = nn.ModuleList([Block(d, cfg["heads"], d * cfg["mlpRatio"], cfg["dropout"]) for _ in range(cfg["depth"])])
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.head = nn.Linear(d, cfg["classes"])
        self.p = cfg["dropout"]

    def forward(self, x):
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = F.dropout(x, self.p, self.training)
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x)[:, 0])


ARCHS = {"mlp": Mlp, "cnn": SmallCnn, "resnet18": Resnet18Cifar, "vit": VitTiny}


def build(arch, cfg):
    if arch not in ARCHS:
        raise SystemExit(f"unknown arch {arch}")
    return ARCHS[arch](cfg)


def to_torch_layout(module, name, arr):
    if isinstance(module, VitTiny) and name.endswith(".weight") and any(name.startswith("blocks.") and f".{l}." in name + "." for l in VitTiny.MATMUL_LINEARS):
        return arr.T
    return arr


def from_torch_layout(module, name, arr):
    return to_torch_layout(module, name, arr)


def load_lethe_weights(module, arrays, dtype=torch.float32):
    """Copy Lethe initializers (numpy, keyed by name) into `module`; every parameter and buffer must be given."""
    state = module.state_dict()
    missing = [k for k in state if k not in arrays and not k.endswith("num_batches_tracked")]
    if missing:
        raise SystemExit(f"Lethe model lacks tensors {missing[:5]}")
    new_state = {}
    for k, v in state.items():
        if k.endswith("num_batches_tracked"):
            new_state[k] = v
            continue
        a = np.ascontiguousarray(to_torch_layout(module, k, arrays[k]))
        if tuple(a.shape) != tuple(v.shape):
            raise SystemExit(f"shape mismatch for {k}: Lethe {a.shape}, torch {tuple(v.shape)}")
        new_state[k] = torch.from_numpy(a.astype(np.float64 if dtype == torch.float64 else np.float32))
    module.load_state_dict(new_state)
    return module.to(dtype)
