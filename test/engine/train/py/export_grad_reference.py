"""Reference for `lethe model grad`: build small PyTorch models, export them with torch.onnx.export,
and save one batch and PyTorch's loss + gradients of every parameter, keyed by the ONNX initializer
name each parameter became.

usage: export_grad_reference.py OUT_DIR [OPSET ...]
writes OUT_DIR/<name>_opset<k>.onnx, <name>_batch.npz (x float32, y int64) and
<name>_opset<k>_grads.npz ('loss' + one key per initializer), for each model and opset.
Gradients are computed in float64 (the float32 model's weights, upcast), cross-entropy with mean reduction, in eval mode
except 'bnnet' and 'tokens_train' (exported and differentiated in training mode: BatchNorm uses batch
statistics; Dropout is the identity, as in `lethe model grad --mode train`, so its p is set to 0 for the
reference); '__mode_train' in the grads npz says which.
'tokens' is test/parity/py/export_models.py's transformer-style model (patch-embedding conv, class token
via expand + cat, position embedding, Dropout, LayerNorm -- decomposed into primitive ops at opset 13 --,
nn.Linear on 3-D activations exported as Transpose + MatMul + Add, erf GELU, Linear head on the class
token), with every parameter randomised so no two initializers are equal (torch would de-duplicate them).
"""
import sys, os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'parity', 'py'))
from export_models import Tokens  # noqa: E402


class SepConvNet(nn.Module):
    """conv -> relu -> maxpool -> depthwise 3x3 -> pointwise 1x1 -> relu -> avgpool -> fc -> relu -> fc"""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pw = nn.Conv2d(8, 12, 1, bias=False)
        self.fc1 = nn.Linear(12 * 3 * 3, 16)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.pw(self.dw(x)))
        x = F.avg_pool2d(x, 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


class BnNet(nn.Module):
    """conv -> BN -> relu -> maxpool -> depthwise 3x3 -> pointwise 1x1 -> BN -> relu -> avgpool -> fc -> relu -> fc
    (exported in training mode so the BatchNorm parameters stay initializers; gradients use batch statistics)"""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pw = nn.Conv2d(8, 12, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(12)
        self.fc1 = nn.Linear(12 * 3 * 3, 16)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.bn2(self.pw(self.dw(x))))
        x = F.avg_pool2d(x, 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 32)
        self.fc2 = nn.Linear(32, 16)
        self.out = nn.Linear(16, 4)

    def forward(self, x):
        return self.out(torch.tanh(self.fc2(F.gelu(self.fc1(x)))))


def randomize_bn(m, g):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            with torch.no_grad():
                mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
                mod.weight.copy_(torch.rand(mod.num_features, generator=g) + 0.5)
                mod.bias.copy_(torch.randn(mod.num_features, generator=g) * 0.1)


def randomize_all(m, g):
    """Every parameter ~ U(-0.5, 0.5) (LayerNorm scales ~ U(0.5, 1.5)): distinct initializers, non-trivial LayerNorms."""
    with torch.no_grad():
        for name, p in m.named_parameters():
            r = torch.rand(p.shape, generator=g)
            p.copy_(r + 0.5 if name.startswith('norm') and name.endswith('weight') else r - 0.5)


def main():
    out = sys.argv[1]
    opsets = [int(a) for a in sys.argv[2:]] or [13, 17]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    only = os.environ.get('LETHE_GRADREF_MODELS')
    models = {
        'sepconv': (SepConvNet(), torch.randn(6, 1, 12, 12, generator=g), 5, 'eval'),
        'mlp': (Mlp(), torch.randn(7, 20, generator=g), 4, 'eval'),
        'bnnet': (BnNet(), torch.randn(6, 1, 12, 12, generator=g), 5, 'train'),
        'tokens': (Tokens(), torch.rand(6, 3, 16, 16, generator=g), 10, 'eval'),
        'tokens_train': (Tokens(), torch.rand(6, 3, 16, 16, generator=g), 10, 'train'),
    }
    for name, (model, x, classes, mode) in models.items():
        if only and name not in only.split(','):
            continue
        randomize_bn(model, g)
        if isinstance(model, Tokens):
            randomize_all(model, g)
        model.train(mode == 'train')
        y = torch.randint(0, classes, (x.shape[0],), generator=g)
        np.savez(os.path.join(out, f'{name}_batch.npz'), x=x.numpy().astype(np.float32), y=y.numpy().astype(np.int64))
        for opset in opsets:
            path = os.path.join(out, f'{name}_opset{opset}.onnx')
            torch.onnx.export(model, x, path, opset_version=opset, input_names=['input'], output_names=['logits'],
                              dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}},
                              do_constant_folding=False,
                              training=torch.onnx.TrainingMode.TRAINING if mode == 'train' else torch.onnx.TrainingMode.EVAL)
            onnx.checker.check_model(onnx.load(path))
            inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
            m64 = type(model)()
            m64.load_state_dict(model.state_dict())
            m64 = m64.double().train(mode == 'train')
            for mod in m64.modules():
                if isinstance(mod, nn.Dropout):
                    mod.p = 0.0
            logits = m64(x.double())
            loss = F.cross_entropy(logits, y)
            params = dict(m64.named_parameters())
            grads = torch.autograd.grad(loss, list(params.values()))
            result = {'loss': np.array(loss.item(), dtype=np.float64), '__mode_train': np.array(mode == 'train')}
            for (pname, p), gr in zip(params.items(), grads):
                if pname not in inits:
                    raise SystemExit(f'parameter {pname} is not an initializer of the export (initializers: {sorted(inits)})')
                if not np.array_equal(inits[pname], model.state_dict()[pname].numpy()):
                    raise SystemExit(f'initializer {pname} does not hold the parameter values')
                result[pname] = gr.numpy()
            np.savez(os.path.join(out, f'{name}_opset{opset}_grads.npz'), **result)
    print('ok')


if __name__ == '__main__':
    main()
