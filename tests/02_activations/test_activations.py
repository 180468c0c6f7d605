"""Tests of the exported tinytorch.core.activations.

One standard with the notebook: these tests accept everything the graded notebook accepts
(GELU within 1e-5 of the exact erf form, the others within 2e-6; error messages checked
only for the type received, as the notebook asks)."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from tinytorch.core.activations import GELU, ReLU, Sigmoid, Softmax, Tanh
from tinytorch.core.tensor import Tensor

ALL = [ReLU(), Sigmoid(), Tanh(), GELU(), Softmax()]
TOLERANCE = {"GELU": 1e-5}  # the notebook's: any correct erf, not only the reference's
reasonable = st.floats(-50, 50, allow_nan=False, width=32)
anything = st.floats(allow_nan=False, allow_infinity=False, width=32)


def _reference(name, x):
    x = x.astype(np.float64)
    if name == "ReLU":
        return np.maximum(x, 0)
    if name == "Sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "Tanh":
        return np.tanh(x)
    if name == "GELU":
        return np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.ravel()]).reshape(x.shape)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("activation", ALL, ids=lambda a: type(a).__name__)
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_values_shape_dtype_and_new_tensor(activation, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32) * 3
    out = activation(Tensor(x))
    assert isinstance(out, Tensor) and out.shape == shape and out.dtype == np.float32
    name = type(activation).__name__
    assert np.allclose(out.data, _reference(name, x), atol=TOLERANCE.get(name, 2e-6))
    assert not np.shares_memory(out.data, x)
    assert activation.forward(Tensor(x)).shape == shape
    assert activation.parameters() == []


def test_gelu_of_one():
    assert float(GELU()(Tensor([1.0])).data[0]) == pytest.approx(0.8413, abs=1e-4)


def test_sigmoid_extremes_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Sigmoid()(Tensor([-1000.0, -100.0, 0.0, 100.0, 1000.0])).data
    assert out[0] == 0.0 and out[-1] == 1.0 and out[2] == pytest.approx(0.5, abs=1e-6)


def test_softmax_is_stable_and_follows_dim():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Softmax()(Tensor([[1000.0, 1000.0], [-1000.0, 1000.0]])).data
    assert np.allclose(out, [[0.5, 0.5], [0.0, 1.0]])
    x = np.random.default_rng(2).standard_normal((3, 4, 5)).astype(np.float32)
    for dim in (0, 1, 2, -1):
        assert np.allclose(Softmax(dim=dim)(Tensor(x)).data.sum(axis=dim), 1.0, atol=1e-6)
    assert repr(Softmax(dim=0)) == "Softmax(dim=0)" and repr(ReLU()) == "ReLU()"


@pytest.mark.parametrize("activation", ALL, ids=lambda a: type(a).__name__)
def test_non_tensor_input_is_a_type_error_naming_the_type(activation):
    with pytest.raises(TypeError, match="ndarray"):
        activation(np.ones(3))


@pytest.mark.parametrize("activation", ALL, ids=lambda a: type(a).__name__)
def test_float64_tensor_input_gives_float32_output(activation):
    assert activation(Tensor([1.0, 2.0], dtype=np.float64)).dtype == np.float32


@settings(max_examples=80, deadline=None)
@given(arrays(np.float32, array_shapes(min_dims=1, max_dims=3, max_side=6), elements=reasonable))
def test_property_softmax_slices_sum_to_one(x):
    out = Softmax()(Tensor(x)).data
    assert np.all(out >= 0) and np.allclose(out.sum(axis=-1), 1.0, atol=1e-5)


@settings(max_examples=80, deadline=None)
@given(arrays(np.float32, array_shapes(max_dims=3, max_side=6), elements=anything))
def test_property_relu_is_idempotent_and_bounded_functions_stay_in_range(x):
    relu = ReLU()
    once = relu(Tensor(x))
    assert np.array_equal(relu(once).data, once.data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = Sigmoid()(Tensor(x)).data
        t = Tanh()(Tensor(x)).data
        g = GELU()(Tensor(x)).data
    assert np.all((s >= 0) & (s <= 1)) and np.all((t >= -1) & (t <= 1))
    assert np.all(np.isfinite(g))
