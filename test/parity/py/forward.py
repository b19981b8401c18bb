"""Forward parity: run a Lethe built-in model's PyTorch twin with Lethe's exact weights.

usage: forward.py MODEL.onnx INPUT.npz OUT.npz
INPUT.npz holds `x`; OUT.npz gets `logits32` (float32 torch) and `logits64` (float64 torch).
Prints JSON {parameters, buffers}: the twin's named_parameters / named_buffers.
Architecture and options come from the model's metadata ('lethe.arch', 'lethe.config').
"""
import json
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from lethe_models import build, load_lethe_weights  # noqa: E402


def main():
    model_path, in_path, out_path = sys.argv[1:4]
    m = onnx.load(model_path)
    meta = {p.key: p.value for p in m.metadata_props}
    arch, cfg = meta["lethe.arch"], json.loads(meta["lethe.config"])
    arrays = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    x = np.load(in_path)["x"]
    out = {}
    torch.manual_seed(0)
    for dtype, key in ((torch.float32, "logits32"), (torch.float64, "logits64")):
        net = load_lethe_weights(build(arch, cfg), arrays, dtype).eval()
        with torch.no_grad():
            out[key] = net(torch.from_numpy(x).to(dtype)).numpy()
    net = build(arch, cfg)
    names = {"parameters": [k for k, _ in net.named_parameters()], "buffers": [k for k, _ in net.named_buffers() if not k.endswith("num_batches_tracked")]}
    np.savez(out_path, **out)
    print(json.dumps(names))


if __name__ == "__main__":
    main()
