"""PyTorch parity for the Tensor methods named after PyTorch's: numel, view, contiguous,
masked_fill (and reshape and transpose, which they build on).

torch is an optional test dependency: skipped without it, unless TINYTORCH_REQUIRE_TORCH=1.
"""

import os

import numpy as np
import pytest

from tinytorch.core.tensor import Tensor

if os.environ.get("TINYTORCH_REQUIRE_TORCH"):
    import torch
else:
    torch = pytest.importorskip("torch")

pytestmark = pytest.mark.parity


def _pair(shape=(2, 3, 4), seed=0):
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return Tensor(data), torch.from_numpy(data.copy())


@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 4), (0, 3)])
def test_numel_matches_torch(shape):
    ours, theirs = _pair(shape)
    assert ours.numel() == theirs.numel() and type(ours.numel()) is type(theirs.numel())


@pytest.mark.parametrize("source, target", [((2, 3, 4), (6, 4)), ((2, 3, 4), (-1,)), ((2, 3, 4), (2, -1, 2)),
                                            ((24,), (4, 6)), ((1, 6), (6, 1))])
def test_view_matches_torch_on_contiguous_tensors(source, target):
    ours, theirs = _pair(source)
    assert np.array_equal(ours.view(*target).data, theirs.view(*target).numpy())


@pytest.mark.parametrize("swap, target", [
    ((0, 1), (6, 4)),      # needs a copy: both refuse
    ((1, 2), (2, 4, 3)),   # the transpose's own shape: both allow
    ((0, 1), (3, 8)),      # merges dimensions that are not adjacent in memory: both refuse
    ((1, 2), (8, 3)),      # merges the leading dimension into a swapped one: both refuse
    ((0, 1), (3, 2, 2, 2)),  # only splits the last dimension: both allow
])
def test_view_refuses_exactly_when_torch_does(swap, target):
    ours, theirs = _pair((2, 3, 4))
    ours, theirs = ours.transpose(*swap), theirs.transpose(*swap)
    try:
        expected = theirs.view(*target).numpy()
    except RuntimeError:
        with pytest.raises(ValueError):
            ours.view(*target)
    else:
        assert np.array_equal(ours.view(*target).data, expected)


def test_view_size_mismatch_is_an_error_in_both():
    ours, theirs = _pair((2, 3))
    with pytest.raises(RuntimeError):
        theirs.view(4)
    with pytest.raises(ValueError):
        ours.view(4)


@pytest.mark.parametrize("swap", [None, (0, 1), (1, 2), (0, 2)])
def test_contiguous_matches_torch(swap):
    ours, theirs = _pair((2, 3, 4))
    if swap:
        ours, theirs = ours.transpose(*swap), theirs.transpose(*swap)
    assert ours.data.flags.c_contiguous == theirs.is_contiguous()
    mine, yours = ours.contiguous(), theirs.contiguous()
    assert (mine is ours) == (yours is theirs)
    assert np.array_equal(mine.data, yours.numpy()) and mine.data.flags.c_contiguous


@pytest.mark.parametrize("mask_shape", [(2, 3, 4), (4,), (3, 1), (1, 3, 4), (2, 1, 1)])
@pytest.mark.parametrize("value", [-1e9, 0.0, 2.5])
def test_masked_fill_matches_torch(mask_shape, value):
    ours, theirs = _pair((2, 3, 4))
    mask = np.random.default_rng(1).random(mask_shape) > 0.5
    expected = theirs.masked_fill(torch.from_numpy(mask), value).numpy()
    got = ours.masked_fill(mask, value)
    assert got.shape == expected.shape and got.dtype == np.float32 and np.array_equal(got.data, expected)


def test_masked_fill_broadcasts_the_tensor_against_a_larger_mask_like_torch():
    ours, theirs = _pair((3,))
    mask = np.array([[True, False, True], [False, False, True]])
    expected = theirs.masked_fill(torch.from_numpy(mask), 1.0).numpy()
    assert np.array_equal(ours.masked_fill(mask, 1.0).data, expected)


def test_masked_fill_with_a_zero_dim_value_and_errors_like_torch():
    ours, theirs = _pair((2, 3))
    mask = np.array([True, False, True])
    assert np.array_equal(ours.masked_fill(mask, Tensor(5.0)).data,
                          theirs.masked_fill(torch.from_numpy(mask), torch.tensor(5.0)).numpy())
    with pytest.raises(RuntimeError):
        theirs.masked_fill(torch.tensor([1, 0, 1]), 0.0)
    with pytest.raises(TypeError):
        ours.masked_fill(np.array([1, 0, 1]), 0.0)
    with pytest.raises(RuntimeError):
        theirs.masked_fill(torch.from_numpy(mask), torch.tensor([5.0]))
    with pytest.raises(ValueError):
        ours.masked_fill(mask, Tensor([5.0]))
