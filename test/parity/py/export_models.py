"""Real torch.onnx.export models for the import tests.

usage: export_models.py OUT_DIR
Writes, for each (model, opset, mode) case, OUT_DIR/<case>.onnx, and OUT_DIR/manifest.json with, per
case, torch's named_parameters and named_buffers (without num_batches_tracked, which ONNX drops), the
export settings, and the float64 reference logits of the eval-mode model on a fixed input (x.npy).

Models:
  dwresnet  ResNet-style: conv-BN-ReLU stem, a residual BasicBlock with a 1x1 strided downsample, a
            depthwise-separable block (3x3 depthwise conv, groups=C, + pointwise 1x1, each with BN),
            global average pool, Linear head.
  tokens    Transformer-style: patch-embedding conv, class token (expand + cat), position embedding,
            LayerNorm, Dropout, nn.Linear on 3-D activations (exports as Transpose + MatMul + Add), Linear head.
            Its two LayerNorms start equal, so torch de-duplicates them in eval exports (Identity nodes).
Modes:
  eval      model.eval(), training=TrainingMode.PRESERVE, no constant folding: BN stays (inference form)
  train     model.train(), training=TrainingMode.TRAINING, no constant folding: BN in training form
  evalfold  model.eval(), torch's defaults (TrainingMode.EVAL + constant folding): BN folded into Conv
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F


class DwResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.stem_bn = nn.BatchNorm2d(16)
        self.b1_conv1 = nn.Conv2d(16, 32, 3, 2, 1, bias=False)
        self.b1_bn1 = nn.BatchNorm2d(32)
        self.b1_conv2 = nn.Conv2d(32, 32, 3, 1, 1, bias=False)
        self.b1_bn2 = nn.BatchNorm2d(32)
        self.b1_down = nn.Conv2d(16, 32, 1, 2, bias=False)
        self.b1_down_bn = nn.BatchNorm2d(32)
        self.dw = nn.Conv2d(32, 32, 3, 1, 1, groups=32, bias=False)
        self.dw_bn = nn.BatchNorm2d(32)
        self.pw = nn.Conv2d(32, 48, 1, bias=False)
        self.pw_bn = nn.BatchNorm2d(48)
        self.fc = nn.Linear(48, classes)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        y = F.relu(self.b1_bn1(self.b1_conv1(x)))
        y = self.b1_bn2(self.b1_conv2(y))
        x = F.relu(y + self.b1_down_bn(self.b1_down(x)))
        x = F.relu(self.dw_bn(self.dw(x)))
        x = F.relu(self.pw_bn(self.pw(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Tokens(nn.Module):
    def __init__(self, dim=24, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 4, 4)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, 17, dim) * 0.02)
        self.drop = nn.Dropout(0.1)
        self.norm1 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = self.drop(torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed)
        x = x + self.fc2(F.gelu(self.fc1(self.norm1(x))))
        return self.head(self.norm(x)[:, 0])


def randomize_bn(m, gen):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            with torch.no_grad():
                mod.running_mean.copy_(torch.rand(mod.running_mean.shape, generator=gen) - 0.5)
                mod.running_var.copy_(torch.rand(mod.running_var.shape, generator=gen) + 0.5)
                mod.weight.copy_(torch.rand(mod.weight.shape, generator=gen) + 0.5)
                mod.bias.copy_(torch.rand(mod.bias.shape, generator=gen) - 0.5)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(2, 3, 16, 16, generator=gen)
    np.save(os.path.join(out, "x.npy"), x.numpy())
    manifest = {"torch": torch.__version__, "cases": {}}
    models = {"dwresnet": DwResNet(), "tokens": Tokens()}
    randomize_bn(models["dwresnet"], gen)
    cases = [
        ("dwresnet", 13, "eval"), ("dwresnet", 13, "train"), ("dwresnet", 15, "train"),
        ("dwresnet", 17, "eval"), ("dwresnet", 17, "train"), ("dwresnet", 17, "evalfold"),
        ("tokens", 13, "eval"), ("tokens", 17, "eval"), ("tokens", 17, "train"),
    ]
    for name, opset, mode in cases:
        model = models[name]
        case = f"{name}_op{opset}_{mode}"
        path = os.path.join(out, case + ".onnx")
        if mode == "train":
            model.train()
            kw = dict(training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False)
        elif mode == "eval":
            model.eval()
            kw = dict(training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
        else:
            model.eval()
            kw = {}
        state_before = {k: v.clone() for k, v in model.state_dict().items()}
        torch.onnx.export(model, (x,), path, opset_version=opset, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, **kw)
        # a training-mode trace runs forward passes that update BN running statistics: the reference
        # uses exactly the statistics written to the file
        exported = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
        state = {k: (torch.from_numpy(exported[k].copy()) if k in exported else v) for k, v in model.state_dict().items()}
        model.load_state_dict(state)
        model.eval()
        with torch.no_grad():
            ref = model.double()(x.double()).numpy()
        model.float()
        model.load_state_dict(state_before)
        np.save(os.path.join(out, case + ".logits.npy"), ref)
        manifest["cases"][case] = {
            "file": case + ".onnx",
            "model": name,
            "opset": opset,
            "mode": mode,
            "parameters": [k for k, _ in model.named_parameters()],
            "buffers": [k for k, _ in model.named_buffers() if not k.endswith("num_batches_tracked")],
        }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
