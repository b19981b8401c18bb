"""Reference for the unlearning engine pieces (test/parity/terms.test.ts), in PyTorch float64 and float32.

usage: terms_ref.py SPEC.json
spec: {"model": "file.onnx" (a Lethe built-in, rebuilt from its metadata), "batch": "batch.npz", "out": "out.npz",
       "T": temperature, "beta": NPO beta, "labelSmoothing": CE label smoothing, "perExample": k}
batch.npz: x float32 [N, ...], y int64 [N], wce, wkl, wnpo float32 [N], teacher float32 [N, C],
           ref float32 [N], l1 float32 [1]
The loss (model in eval mode, so the twin has no batch-statistics ambiguity; the built-ins used have no BN):
  sum_i wce_i * F.cross_entropy(z, y, reduction='none', label_smoothing)_i
  + sum_i wkl_i * (F.kl_div(log_softmax(z/T), softmax(t/T), reduction='none').sum(1) * T**2)_i   (SCRUB's DistillKL per row)
  + sum_i wnpo_i * (2/beta) * F.softplus(beta * (log_softmax(z)[i, y_i] - ref_i))
  + l1 * sum_p |p|.sum()
Output, for p in f64/f32: <p>::loss, <p>::ce, <p>::kl, <p>::npo (per example), <p>::grad::<name>;
<p>::xgrad (d sum_i CE_i / dx, no smoothing), <p>::logits; <p>::pex::<name> [k, size] (the first
`perExample` examples' gradients of their own CE, flattened, Lethe layout); <p>::fisher::<name>
(Golatkar's Fisher-forgetting diagonal over those examples: mean_i sum_y p(y|x_i) g_{i,y}^2).
"""
import json
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from lethe_models import build, from_torch_layout, load_lethe_weights  # noqa: E402


def run(spec, arrays, batch, dtype):
    m = onnx.load(spec["model"])
    meta = {p.key: p.value for p in m.metadata_props}
    net = load_lethe_weights(build(meta["lethe.arch"], json.loads(meta["lethe.config"])), arrays, dtype).eval()
    t = lambda k: torch.from_numpy(batch[k]).to(dtype)  # noqa: E731
    x, y = t("x"), torch.from_numpy(batch["y"]).long()
    T, beta = float(spec["T"]), float(spec["beta"])
    z = net(x)
    ce = F.cross_entropy(z, y, reduction="none", label_smoothing=float(spec.get("labelSmoothing", 0.0)))
    kl = F.kl_div(F.log_softmax(z / T, dim=1), F.softmax(t("teacher") / T, dim=1), reduction="none").sum(1) * T**2
    logpy = F.log_softmax(z, dim=1).gather(1, y[:, None])[:, 0]
    npo = (2.0 / beta) * F.softplus(beta * (logpy - t("ref")))
    l1 = sum(p.abs().sum() for p in net.parameters())
    loss = (t("wce") * ce).sum() + (t("wkl") * kl).sum() + (t("wnpo") * npo).sum() + t("l1")[0] * l1
    net.zero_grad()
    loss.backward()
    out = {"loss": np.array([loss.item()]), "ce": ce.detach().numpy(), "kl": kl.detach().numpy(), "npo": npo.detach().numpy()}
    for k, v in net.named_parameters():
        out[f"grad::{k}"] = from_torch_layout(net, k, v.grad.detach().numpy().copy())
    # input gradients of the summed per-example cross-entropy (eval mode)
    xr = x.clone().requires_grad_(True)
    zx = net(xr)
    F.cross_entropy(zx, y, reduction="sum").backward()
    out["xgrad"] = xr.grad.detach().numpy()
    out["logits"] = zx.detach().numpy()
    # per-example gradients
    rows = {k: [] for k, _ in net.named_parameters()}
    for i in range(int(spec["perExample"])):
        net.zero_grad()
        F.cross_entropy(net(x[i : i + 1]), y[i : i + 1], reduction="sum").backward()
        for k, v in net.named_parameters():
            rows[k].append(from_torch_layout(net, k, v.grad.detach().numpy().copy()).reshape(-1))
    for k, r in rows.items():
        out[f"pex::{k}"] = np.stack(r)
    # Golatkar's `hessian` (Fisher forgetting) over the same first examples, batch size 1
    acc = {k: torch.zeros_like(v) for k, v in net.named_parameters()}
    for i in range(int(spec["perExample"])):
        zi = net(x[i : i + 1])
        prob = F.softmax(zi, dim=-1).detach()
        for c in range(zi.shape[1]):
            net.zero_grad()
            F.cross_entropy(zi, torch.tensor([c]), reduction="sum").backward(retain_graph=True)
            for k, v in net.named_parameters():
                acc[k] += prob[0, c] * v.grad.detach() ** 2
    for k, v in acc.items():
        out[f"fisher::{k}"] = from_torch_layout(net, k, (v / int(spec["perExample"])).numpy().copy())
    return out


def main():
    spec = json.load(open(sys.argv[1]))
    torch.set_num_threads(2)
    from onnx import numpy_helper

    arrays = {t.name: numpy_helper.to_array(t) for t in onnx.load(spec["model"]).graph.initializer}
    batch = np.load(spec["batch"])
    out = {}
    for p, dt in (("f64", torch.float64), ("f32", torch.float32)):
        for k, v in run(spec, arrays, batch, dt).items():
            out[f"{p}::{k}"] = v
    np.savez(spec["out"], **{k: np.ascontiguousarray(v) for k, v in out.items()})


if __name__ == "__main__":
    main()
