"""Tests of the exported tinytorch.core.layers (Layer, Linear, Dropout, Sequential)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch.core.activations import ReLU, Softmax
from tinytorch.core.layers import Dropout, Layer, Linear, Sequential
from tinytorch.core.tensor import Tensor


def batch(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


# -- Layer ------------------------------------------------------------------------------
def test_layer_forward_names_subclass_and_call_delegates():
    class Nothing(Layer):
        pass

    class Echo(Layer):
        def forward(self, x, *args, **kwargs):
            return (x, args, kwargs)

    with pytest.raises(NotImplementedError, match="Nothing"):
        Nothing()(Tensor([1.0]))
    assert Echo()(1, 2, key=3) == (1, (2,), {"key": 3})
    assert Layer().parameters() == []


def test_layer_train_eval_modes():
    layer = Layer()
    assert layer.training is True
    assert layer.eval() is layer and layer.training is False
    assert layer.train() is layer and layer.training is True
    assert layer.train(False).training is False
    assert Layer().training is True, "modes are per instance"


# -- Linear ------------------------------------------------------------------------------
def test_linear_parameters_shapes_dtypes_and_init():
    layer = Linear(784, 256, rng=np.random.default_rng(0))
    assert layer.weight.shape == (784, 256) and layer.weight.dtype == np.float32
    assert layer.bias.shape == (256,) and layer.bias.dtype == np.float32 and not layer.bias.data.any()
    assert layer.weight.requires_grad and layer.bias.requires_grad
    assert layer.weight.data.std() == pytest.approx(np.sqrt(1 / 784), rel=0.01)
    assert abs(layer.weight.data.mean()) < 5e-4
    assert layer.parameters()[0] is layer.weight and layer.parameters()[1] is layer.bias
    assert sum(p.size for p in layer.parameters()) == 200_960
    no_bias = Linear(3, 2, bias=False)
    assert no_bias.bias is None and no_bias.parameters() == [no_bias.weight]


def test_linear_init_reproducible_from_global_seed_and_generator():
    np.random.seed(7)
    expected = (np.random.standard_normal((5, 3)) * np.sqrt(1 / 5)).astype(np.float32)
    np.random.seed(7)
    assert np.array_equal(Linear(5, 3).weight.data, expected)
    a = Linear(5, 3, rng=np.random.default_rng(1)).weight.data
    assert np.array_equal(a, Linear(5, 3, rng=np.random.default_rng(1)).weight.data)
    assert not np.array_equal(a, Linear(5, 3, rng=np.random.default_rng(2)).weight.data)


@pytest.mark.parametrize("args, error", [((0, 3), ValueError), ((3, -1), ValueError), ((2.0, 3), TypeError),
                                         ((True, 3), TypeError), ((3, False), TypeError), (("3", 3), TypeError),
                                         ((None, 3), TypeError)])
def test_linear_rejects_bad_sizes(args, error):
    with pytest.raises(error, match="features"):
        Linear(*args)


def test_linear_rejects_bad_rng():
    with pytest.raises(TypeError, match="Generator"):
        Linear(2, 2, rng=np.random.RandomState(0))


@pytest.mark.parametrize("shape", [(6,), (4, 6), (2, 5, 6), (2, 1, 3, 6)])
def test_linear_forward_values_for_any_leading_dimensions(shape):
    layer = Linear(6, 3, rng=np.random.default_rng(0))
    layer.bias.data[:] = [1.0, -2.0, 0.5]
    x = batch(*shape)
    y = layer(x)
    assert isinstance(y, Tensor) and y.shape == shape[:-1] + (3,) and y.dtype == np.float32
    assert np.allclose(y.data, x.data @ layer.weight.data + layer.bias.data, atol=1e-6)
    assert y is not x and not np.shares_memory(y.data, layer.bias.data)


def test_linear_forward_does_not_change_its_parameters_or_input():
    layer = Linear(4, 2, rng=np.random.default_rng(0))
    weight, bias, x = layer.weight.data.copy(), layer.bias.data.copy(), batch(3, 4)
    before = x.data.copy()
    layer(x), layer(x)
    assert np.array_equal(layer.weight.data, weight) and np.array_equal(layer.bias.data, bias)
    assert np.array_equal(x.data, before)


def test_linear_float64_input_gives_float32_output():
    assert Linear(3, 2)(Tensor(np.ones((2, 3)), dtype=np.float64)).dtype == np.float32


def test_linear_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError) as info:
        Linear(256, 10)(Tensor(np.zeros((32, 128), dtype=np.float32)))
    assert str(info.value) == ("Linear(in_features=256, out_features=10, bias=True) expected input "
                               "with last dimension 256, got shape (32, 128)")
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        Linear(1, 1)(Tensor(1.0))
    with pytest.raises(TypeError, match="Tensor"):
        Linear(3, 2)(np.ones((1, 3)))


def test_linear_repr():
    assert repr(Linear(784, 256)) == "Linear(in_features=784, out_features=256, bias=True)"
    assert repr(Linear(4, 2, bias=False)) == "Linear(in_features=4, out_features=2, bias=False)"


# -- Dropout -----------------------------------------------------------------------------
def test_dropout_inference_and_p_zero_return_input():
    x = batch(8, 8)
    assert Dropout(0.5)(x, training=False) is x
    assert Dropout(0.5).eval()(x) is x
    assert Dropout(0.0)(x, training=True) is x


def test_dropout_p_one_gives_float32_zeros_keeping_requires_grad():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    out = Dropout(1.0)(x, training=True)
    assert out.shape == (3, 4) and out.dtype == np.float32 and not out.data.any() and out.requires_grad


@pytest.mark.parametrize("p", [0.1, 0.25, 0.5, 0.75, 0.9])
def test_dropout_scales_survivors_exactly_and_keeps_mean(p):
    x = Tensor(np.random.default_rng(0).uniform(1, 2, 400_000).astype(np.float32))
    out = Dropout(p, rng=np.random.default_rng(1))(x, training=True)
    kept = out.data != 0
    assert np.array_equal(out.data[kept], x.data[kept] * np.float32(1 / (1 - p)))
    assert kept.mean() == pytest.approx(1 - p, abs=0.004)
    assert out.data.mean() == pytest.approx(x.data.mean(), rel=0.01)
    assert out.dtype == np.float32 and not np.shares_memory(out.data, x.data)


def test_dropout_training_argument_overrides_mode_and_none_follows_it():
    x = batch(50, 50)
    layer = Dropout(0.5, rng=np.random.default_rng(0))
    assert layer(x) is not x  # training by default
    layer.eval()
    assert layer(x) is x
    assert layer(x, training=True) is not x
    layer.train()
    assert layer(x, training=False) is x


def test_dropout_masks_reproducible_with_global_seed_and_generator():
    x = batch(64, 64)
    np.random.seed(3)
    first = Dropout(0.4)(x, training=True).data
    np.random.seed(3)
    assert np.array_equal(first, Dropout(0.4)(x, training=True).data)
    a = Dropout(0.4, rng=np.random.default_rng(5))(x, training=True).data
    b = Dropout(0.4, rng=np.random.default_rng(5))(x, training=True).data
    assert np.array_equal(a, b) and not np.array_equal(a, first)


@pytest.mark.parametrize("p, error", [(-0.01, ValueError), (1.01, ValueError), (float("nan"), ValueError),
                                      (None, TypeError), ("0.5", TypeError), (True, TypeError),
                                      ([0.5], TypeError)])
def test_dropout_rejects_bad_probabilities(p, error):
    with pytest.raises(error, match="p must"):
        Dropout(p)


def test_dropout_rejects_non_tensor_and_reports():
    with pytest.raises(TypeError, match="Tensor"):
        Dropout(0.5)(np.ones(3), training=True)
    assert repr(Dropout(0.5)) == "Dropout(p=0.5)" and Dropout(0.3).parameters() == []
    assert Dropout(np.float32(0.25)).p == 0.25 and Dropout(1).p == 1.0


@settings(max_examples=40, deadline=None)
@given(st.floats(0.01, 0.99), st.integers(0, 2**32 - 1))
def test_property_dropout_output_is_zero_or_scaled_input(p, seed):
    x = Tensor(np.linspace(1, 2, 257, dtype=np.float32))
    out = Dropout(p, rng=np.random.default_rng(seed))(x, training=True).data
    scaled = x.data * np.float32(1 / (1 - p))
    assert np.all((out == 0) | (out == scaled))


# -- Sequential --------------------------------------------------------------------------
def _mlp(seed=0):
    rng = np.random.default_rng(seed)
    return Sequential(Linear(784, 256, rng=rng), ReLU(), Dropout(0.5, rng=rng), Linear(256, 10, rng=rng))


def test_sequential_chains_in_order_and_accepts_list_or_tuple():
    first, second = Linear(4, 3, rng=np.random.default_rng(0)), Linear(3, 2, rng=np.random.default_rng(1))
    x = batch(5, 4)
    expected = np.maximum(x.data @ first.weight.data, 0) @ second.weight.data
    for model in [Sequential(first, ReLU(), second), Sequential([first, ReLU(), second]),
                  Sequential((first, ReLU(), second))]:
        assert np.allclose(model(x).data, expected, atol=1e-6)
    assert Sequential()(x) is x


def test_sequential_parameters_in_order_each_once():
    model = _mlp()
    names = [(id(p)) for p in model.parameters()]
    assert names == [id(model[0].weight), id(model[0].bias), id(model[3].weight), id(model[3].bias)]
    shared = Linear(4, 4)
    twice = Sequential(shared, ReLU(), shared, Sequential(shared))
    assert len(twice.parameters()) == 2
    assert Sequential(lambda t: t, object.__new__(type("Plain", (), {"__call__": lambda s, t: t}))).parameters() == []


def test_sequential_container_protocol():
    model = _mlp()
    assert len(model) == 4 and model[-1] is model.layers[3] and list(model) == model.layers
    head = model[1:3]
    assert isinstance(head, Sequential) and len(head) == 2 and head[0] is model[1]
    model.append(Softmax())
    assert len(model) == 5 and isinstance(model[4], Softmax)
    with pytest.raises(TypeError, match="item 1"):
        Sequential(Linear(2, 2), 42)
    with pytest.raises(TypeError):
        model.append("relu")
    with pytest.raises(IndexError):
        model[10]


def test_sequential_eval_reaches_nested_children_and_is_deterministic():
    inner = Sequential(Linear(8, 8), Dropout(0.5))
    model = Sequential(inner, ReLU(), Dropout(0.5))
    x = batch(16, 8)
    model.eval()
    assert not inner.training and not inner[1].training and not model[2].training
    assert np.array_equal(model(x).data, model(x).data)
    model.train()
    assert inner[1].training and model[2].training
    assert not np.array_equal(model(x).data, model(x).data)


def test_sequential_repr_lists_children_like_pytorch():
    text = repr(Sequential(Linear(784, 256), ReLU(), Sequential(Dropout(0.5))))
    assert text == ("Sequential(\n  (0): Linear(in_features=784, out_features=256, bias=True)\n"
                    "  (1): ReLU()\n  (2): Sequential(\n    (0): Dropout(p=0.5)\n  )\n)")


def test_readme_example_runs():
    model = Sequential(Linear(784, 256), ReLU(), Dropout(0.5), Linear(256, 10))
    logits = model(Tensor(np.random.default_rng(0).standard_normal((32, 784)).astype(np.float32)))
    assert logits.shape == (32, 10) and len(model.parameters()) == 4
    assert sum(p.size for p in model.parameters()) == 784 * 256 + 256 + 256 * 10 + 10


def test_mlp_parameter_counts_from_the_module_text():
    model = Sequential(Linear(784, 256), ReLU(), Linear(256, 128), ReLU(), Linear(128, 10))
    assert sum(p.size for p in model.parameters()) == 235_146
    assert sum(p.data.nbytes for p in model.parameters()) == 940_584
