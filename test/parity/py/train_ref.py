"""Training parity reference: loss, gradients, SGD-momentum steps and BN running statistics in PyTorch.

usage: train_ref.py SPEC.json
spec: {"model": "file.onnx", "twin": "lethe" | "dwresnet", "batch": "batch.npz" (x float32, y int64),
       "lr": 0.05, "momentum": 0.9, "steps": 3, "out": "out.npz"}
The PyTorch twin is loaded with the ONNX file's initializers (by name). For float64 and float32
(prefix f64 / f32) the output holds:
  <p>::loss             losses of the `steps` steps (before each update), shape [steps]
  <p>::grad::<name>     gradient of the first batch's mean cross-entropy (model in train mode)
  <p>::param::<name>    parameters after `steps` SGD steps
  <p>::stat1::<name>    BatchNorm running statistics after the first step
  <p>::stat::<name>     BatchNorm running statistics after `steps` steps
Lethe stores the ViT's in-block linear weights [in, out]; gradients and parameters are returned in
Lethe's layout.
"""
import json
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from lethe_models import build, from_torch_layout, load_lethe_weights  # noqa: E402
from export_models import DwResNet  # noqa: E402


def make(spec, arrays, dtype):
    if spec["twin"] == "lethe":
        m = onnx.load(spec["model"])
        meta = {p.key: p.value for p in m.metadata_props}
        net = build(meta["lethe.arch"], json.loads(meta["lethe.config"]))
        return load_lethe_weights(net, arrays, dtype)
    net = DwResNet()
    state = {k: (torch.from_numpy(arrays[k].copy()) if k in arrays else v) for k, v in net.state_dict().items()}
    net.load_state_dict(state)
    return net.to(dtype)


def main():
    spec = json.load(open(sys.argv[1]))
    torch.set_num_threads(2)
    arrays = {t.name: numpy_helper.to_array(t) for t in onnx.load(spec["model"]).graph.initializer}
    batch = np.load(spec["batch"])
    out = {}
    for dtype, p in ((torch.float64, "f64"), (torch.float32, "f32")):
        net = make(spec, arrays, dtype).train()
        x = torch.from_numpy(batch["x"]).to(dtype)
        y = torch.from_numpy(batch["y"]).long()
        opt = torch.optim.SGD(net.parameters(), lr=spec["lr"], momentum=spec["momentum"])
        losses = []
        for step in range(spec["steps"]):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            losses.append(loss.item())
            if step == 0:
                for k, v in net.named_parameters():
                    out[f"{p}::grad::{k}"] = from_torch_layout(net, k, v.grad.detach().numpy().copy())
            opt.step()
            if step == 0:
                for k, v in net.named_buffers():
                    if not k.endswith("num_batches_tracked"):
                        out[f"{p}::stat1::{k}"] = v.detach().numpy().copy()
        out[f"{p}::loss"] = np.array(losses)
        for k, v in net.named_parameters():
            out[f"{p}::param::{k}"] = from_torch_layout(net, k, v.detach().numpy().copy())
        for k, v in net.named_buffers():
            if not k.endswith("num_batches_tracked"):
                out[f"{p}::stat::{k}"] = v.detach().numpy().copy()
    np.savez(spec["out"], **{k: np.ascontiguousarray(v) for k, v in out.items()})


if __name__ == "__main__":
    main()
