"""Training parity reference: loss, gradients, optimizer steps and BN running statistics in PyTorch.

usage: train_ref.py SPEC.json
spec: {"model": "file.onnx", "twin": "lethe" | "dwresnet", "batch": "batch.npz" (x float32, y int64,
       optional w float32 per-example loss weights), "lr": 0.05, "momentum": 0.9, "steps": 3,
       "out": "out.npz",
       optional "optimizer": {"kind": "sgd" | "adam" | "adamw", "momentum", "nesterov", "weightDecay",
                              "beta1", "beta2", "eps"} (torch.optim.SGD / Adam / AdamW; default
                              SGD with spec["momentum"]),
       optional "labelSmoothing": 0.1 (F.cross_entropy's label_smoothing)}
The loss is F.cross_entropy's mean, or with weights w: sum_i w_i l_i / sum_i w_i.
The PyTorch twin is loaded with the ONNX file's initializers (by name). For float64 and float32
(prefix f64 / f32) the output holds:
  <p>::loss             losses of the `steps` steps (before each update), shape [steps]
  <p>::grad::<name>     gradient of the first batch's mean cross-entropy (model in train mode)
  <p>::param::<name>    parameters after `steps` optimizer steps
  <p>::stat1::<name>    BatchNorm running statistics after the first step
  <p>::stat::<name>     BatchNorm running statistics after `steps` steps
and spread::<key> (see main): how far float64 results move when inputs and weights are perturbed at
float32 rounding scale, the conditioning of each compared quantity.
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


def make_optimizer(spec, params):
    o = spec.get("optimizer") or {"kind": "sgd", "momentum": spec["momentum"]}
    lr = spec["lr"]
    wd = o.get("weightDecay", 0.0)
    if o["kind"] == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=o.get("momentum", 0.0), nesterov=bool(o.get("nesterov", False)), weight_decay=wd)
    betas = (o.get("beta1", 0.9), o.get("beta2", 0.999))
    if o["kind"] == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=o.get("eps", 1e-8), weight_decay=wd)
    if o["kind"] == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=betas, eps=o.get("eps", 1e-8), weight_decay=o.get("weightDecay", 0.01))
    raise ValueError(f"unknown optimizer {o['kind']}")


def loss_fn(spec, logits, y, w):
    ls = float(spec.get("labelSmoothing", 0.0))
    if w is None:
        return F.cross_entropy(logits, y, label_smoothing=ls)
    return (w * F.cross_entropy(logits, y, reduction="none", label_smoothing=ls)).sum() / w.sum()


def simulate(spec, arrays, batch, dtype, perturb=None):
    """Run `steps` optimizer steps; return {kind::name: array}. `perturb` = (seed, sign, rel): every
    parameter and the input are multiplied by (1 + sign * rel * u), u ~ U(-1, 1) from `seed`."""
    net = make(spec, arrays, dtype).train()
    x = torch.from_numpy(batch["x"]).to(dtype)
    y = torch.from_numpy(batch["y"]).long()
    w = torch.from_numpy(batch["w"]).to(dtype) if "w" in batch.files else None
    if perturb is not None:
        seed, sign, rel = perturb
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for _, v in net.named_parameters():
                v.mul_(1 + sign * rel * (torch.rand(v.shape, generator=g, dtype=dtype) * 2 - 1))
            x = x * (1 + sign * rel * (torch.rand(x.shape, generator=g, dtype=dtype) * 2 - 1))
    out = {}
    start = {k: from_torch_layout(net, k, v.detach().numpy().copy()) for k, v in net.named_parameters()}
    opt = make_optimizer(spec, net.parameters())
    losses = []
    for step in range(spec["steps"]):
        opt.zero_grad()
        loss = loss_fn(spec, net(x), y, w)
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            for k, v in net.named_parameters():
                out[f"grad::{k}"] = from_torch_layout(net, k, v.grad.detach().numpy().copy())
        opt.step()
        if step == 0:
            for k, v in net.named_buffers():
                if not k.endswith("num_batches_tracked"):
                    out[f"stat1::{k}"] = v.detach().numpy().copy()
    out["loss"] = np.array(losses)
    for k, v in net.named_parameters():
        out[f"param::{k}"] = from_torch_layout(net, k, v.detach().numpy().copy())
    for k, v in net.named_buffers():
        if not k.endswith("num_batches_tracked"):
            out[f"stat::{k}"] = v.detach().numpy().copy()
    return out, start


def main():
    spec = json.load(open(sys.argv[1]))
    torch.set_num_threads(2)
    arrays = {t.name: numpy_helper.to_array(t) for t in onnx.load(spec["model"]).graph.initializer}
    batch = np.load(spec["batch"])
    out = {}
    base, start0 = simulate(spec, arrays, batch, torch.float64)
    out.update({f"f64::{k}": v for k, v in base.items()})
    out.update({f"f32::{k}": v for k, v in simulate(spec, arrays, batch, torch.float32)[0].items()})
    # Conditioning: float32 rounding moves pre-activations by ~1e-6, and a value that close to a ReLU
    # kink can flip its mask, which changes a gradient far more than rounding does. Antithetic pairs of
    # float64 runs with inputs and weights perturbed by PERTURB (relative) measure how far the results
    # move under such rounding-sized changes; the test's tolerance takes that spread into account.
    # spread::<key> = max over runs and elements of |run - base| (displacements from the start for
    # parameters and statistics); spreadL2::<key> = max over runs of the norm ||run - base||_2.
    pairs = int(spec.get("perturbPairs", 3))
    rel = float(spec.get("perturbRel", 1e-7))
    spread = {}
    spread_l2 = {}  # the same, as the Euclidean norm of the difference over the whole tensor
    for i in range(pairs):
        for sign in (1.0, -1.0):
            run, start = simulate(spec, arrays, batch, torch.float64, (1000 + i, sign, rel))
            for k, v in run.items():
                kind, _, name = k.partition("::")
                if kind == "param":
                    d = np.abs((v - start[name]) - (base[k] - start0[name]))
                else:
                    d = np.abs(v - base[k])
                if kind == "loss":
                    spread[k] = np.maximum(spread.get(k, 0 * d), d)
                else:
                    spread[k] = max(spread.get(k, 0.0), float(d.max()) if d.size else 0.0)
                    spread_l2[k] = max(spread_l2.get(k, 0.0), float(np.sqrt((d * d).sum())))
    out.update({f"spread::{k}": np.asarray(v, dtype=np.float64) for k, v in spread.items()})
    out.update({f"spreadL2::{k}": np.asarray(v, dtype=np.float64) for k, v in spread_l2.items()})
    np.savez(spec["out"], **{k: np.ascontiguousarray(v) for k, v in out.items()})


if __name__ == "__main__":
    main()
