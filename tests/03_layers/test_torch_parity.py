"""PyTorch parity: same weights, same numbers; same dropout semantics; same parameter order.

torch is an optional test dependency. On a student's machine without it these tests are
skipped; CI sets TINYTORCH_REQUIRE_TORCH=1 so that a missing torch fails instead.
"""

import os

import numpy as np
import pytest

from tinytorch.core.activations import ReLU
from tinytorch.core.layers import Dropout, Linear, Sequential
from tinytorch.core.tensor import Tensor

if os.environ.get("TINYTORCH_REQUIRE_TORCH"):
    import torch
else:
    torch = pytest.importorskip("torch")

pytestmark = pytest.mark.parity


def _torch_linear(layer: Linear) -> "torch.nn.Linear":
    twin = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None)
    with torch.no_grad():
        twin.weight.copy_(torch.from_numpy(layer.weight.data.T.copy()))
        if layer.bias is not None:
            twin.bias.copy_(torch.from_numpy(layer.bias.data))
    return twin


@pytest.mark.parametrize("shape", [(784,), (1, 784), (32, 784), (4, 7, 784)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    layer = Linear(784, 256, bias=bias, rng=np.random.default_rng(0))
    if bias:
        layer.bias.data[:] = np.random.default_rng(1).standard_normal(256).astype(np.float32)
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        expected = _torch_linear(layer)(torch.from_numpy(x)).numpy()
    assert np.allclose(layer(Tensor(x)).data, expected, atol=1e-5)


def test_dropout_semantics_match_torch():
    x = np.random.default_rng(0).uniform(1, 2, (200, 300)).astype(np.float32)
    for p in (0.2, 0.5, 0.8):
        ours = Dropout(p, rng=np.random.default_rng(1))(Tensor(x), training=True).data
        torch.manual_seed(0)
        theirs = torch.nn.functional.dropout(torch.from_numpy(x), p=p, training=True).numpy()
        for out in (ours, theirs):  # survivors are x / (1 - p); the rest are zero
            kept = out != 0
            assert np.allclose(out[kept], x[kept] / (1 - p), rtol=1e-6)
            assert kept.mean() == pytest.approx(1 - p, abs=0.01)
    module = torch.nn.Dropout(0.5).eval()
    assert torch.equal(module(torch.from_numpy(x)), torch.from_numpy(x))
    assert Dropout(0.5).eval()(Tensor(x)).data is x


def test_sequential_parameter_order_matches_torch():
    ours = Sequential(Linear(784, 256), ReLU(), Dropout(0.5), Linear(256, 128), ReLU(), Linear(128, 10))
    theirs = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                                 torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    our_shapes = [p.shape for p in ours.parameters()]
    # PyTorch stores weights as (out, in); ours are (in, out).
    their_shapes = [tuple(reversed(p.shape)) for p in theirs.parameters()]
    assert our_shapes == their_shapes
    assert sum(p.size for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())


def test_whole_mlp_matches_torch_in_eval_mode():
    rng = np.random.default_rng(3)
    ours = Sequential(Linear(20, 16, rng=rng), ReLU(), Dropout(0.5), Linear(16, 4, rng=rng)).eval()
    theirs = torch.nn.Sequential(_torch_linear(ours[0]), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                                 _torch_linear(ours[3])).eval()
    x = rng.standard_normal((8, 20)).astype(np.float32)
    with torch.no_grad():
        assert np.allclose(ours(Tensor(x)).data, theirs(torch.from_numpy(x)).numpy(), atol=1e-5)
