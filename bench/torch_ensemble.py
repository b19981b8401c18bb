"""PyTorch CPU side of bench/ensemble.ts: training N copies of one architecture at once.

usage: torch_ensemble.py JSON_SPEC
spec: {"threads": 2, "n": 8, "batch": 128, "arch": "cnn", "configs": [cfg per member (Lethe's lethe.config)],
       "variant": "vmap" | "vmap-grad" | "loop", "warmup": 2, "seconds": 2.0, "lr": 0.01, "momentum": 0.9}
variants (every one: forward, mean cross-entropy per member, backward, SGD with momentum):
  vmap       torch.func.stack_module_state + vmap over functional_call for the forward; the N losses are
             summed and backpropagated through the vmapped graph by autograd; torch.optim.SGD (momentum)
             updates the stacked parameters (each [N, ...]).
  vmap-grad  vmap(torch.func.grad(loss)) gives the stacked gradients functionally; the SGD-momentum
             update of the stacked parameters is written with torch._foreach ops (no autograd graph).
  loop       N ordinary modules and N torch.optim.SGD optimizers, stepped one after another.
Prints one JSON object: {"torch", "threads", "variant", "modelStepsPerSecond"}.
"""
import copy
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, stack_module_state, vmap

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "parity", "py"))
from lethe_models import build  # noqa: E402
from torch_bench import timed  # noqa: E402  (this script's directory is on sys.path)


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    n, batch, lr, mom = spec["n"], spec["batch"], spec.get("lr", 0.01), spec.get("momentum", 0.9)
    cfgs = spec["configs"]
    assert len(cfgs) == n
    models = [build(spec["arch"], c) for c in cfgs]
    for m in models:
        m.train()
    shape = cfgs[0]["inputShape"]
    classes = cfgs[0]["classes"]
    # one batch per member (uniform inputs, labels i mod classes, like bench/lethe.ts's randomBatch)
    X = torch.rand([n, batch, *shape])
    Y = (torch.arange(batch) % classes).repeat(n, 1)
    variant = spec["variant"]

    if variant == "loop":
        opts = [torch.optim.SGD(m.parameters(), lr=lr, momentum=mom) for m in models]

        def step():
            for i, m in enumerate(models):
                opts[i].zero_grad(set_to_none=True)
                F.cross_entropy(m(X[i]), Y[i]).backward()
                opts[i].step()

    else:
        params, buffers = stack_module_state(models)
        base = copy.deepcopy(models[0]).to("meta")

        def member_loss(p, b, x, y):
            return F.cross_entropy(functional_call(base, (p, b), (x,)), y)

        if variant == "vmap":
            names = list(params.keys())
            opt = torch.optim.SGD([params[k] for k in names], lr=lr, momentum=mom)
            losses_fn = vmap(member_loss, randomness="different")

            def step():
                opt.zero_grad(set_to_none=True)
                losses_fn(params, buffers, X, Y).sum().backward()
                opt.step()

        elif variant == "vmap-grad":
            names = list(params.keys())
            ps = [params[k].detach() for k in names]
            bufs = [torch.zeros_like(p) for p in ps]
            grads_fn = vmap(grad(member_loss), randomness="different")

            def step():
                g = grads_fn(dict(zip(names, ps)), buffers, X, Y)
                gs = [g[k] for k in names]
                torch._foreach_mul_(bufs, mom)
                torch._foreach_add_(bufs, gs)
                torch._foreach_add_(ps, bufs, alpha=-lr)

        else:
            raise SystemExit(f"unknown variant {variant}")

    for _ in range(spec.get("warmup", 2)):
        step()
    rate = timed(step, n, 1, spec.get("seconds", 2.0))
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "variant": variant, "modelStepsPerSecond": rate}))


if __name__ == "__main__":
    main()
