"""PyTorch CPU side of `npm run bench`: the same three reference workloads, same thread count.

usage: torch_bench.py JSON_SPEC
spec: {"threads": 2, "warmup": 3, "passes": 5, "minPassSeconds": 0.5,
       "workloads": [{"name", "arch", "config", "batch"}], "rssOnly": null | "<workload name>",
       "trainOnly": false (skip the forward timing; "forward" is then null)}
Prints one JSON object: {"torch": version, "threads", "mkldnn", "results": {name: {"forward", "train"}}}
(samples/s, median over passes), or with rssOnly: {"peakRssMiB"} after 3 training steps of that workload.
"""
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "parity", "py"))
from lethe_models import build  # noqa: E402


def timed(fn, batch, passes, min_seconds):
    rates = []
    for _ in range(passes):
        n = 0
        t0 = time.perf_counter()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= min_seconds:
                break
        rates.append(n * batch / dt)
    return statistics.median(rates)


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "mkldnn": torch.backends.mkldnn.is_available(), "results": {}}
    for w in spec["workloads"]:
        if spec.get("rssOnly") and w["name"] != spec["rssOnly"]:
            continue
        net = build(w["arch"], w["config"])
        shape = [w["batch"], *w["config"]["inputShape"]]
        x = torch.rand(shape)
        y = torch.randint(0, w["config"]["classes"], (w["batch"],))
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

        def train_step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()

        if spec.get("rssOnly"):
            net.train()
            for _ in range(3):
                train_step()
            # ru_maxrss is KiB on Linux
            print(json.dumps({"peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
            return

        def forward():
            with torch.no_grad():
                net(x)

        fwd = None
        if not spec.get("trainOnly"):
            net.eval()
            for _ in range(spec["warmup"]):
                forward()
            fwd = timed(forward, w["batch"], spec["passes"], spec["minPassSeconds"])
        net.train()
        for _ in range(spec["warmup"]):
            train_step()
        trn = timed(train_step, w["batch"], spec["passes"], spec["minPassSeconds"])
        out["results"][w["name"]] = {"forward": fwd, "train": trn}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
