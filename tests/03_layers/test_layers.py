"""Tests of the exported tinytorch.core.layers (Layer, Linear, Dropout, Sequential).

One standard with the notebook: `tito module complete` runs these tests against a
student's build after the notebook gave full marks, so they accept everything the graded
notebook accepts. Where float32 allows several correct roundings (`x / (1 - p)` or
`x * (1 / (1 - p))`, scaling before or after the float32 conversion) they compare with a
tolerance; error messages are checked only for what the notebook tells students to put in
them. The reference build's exact wording is checked separately, and skipped for a
student's build.
"""

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


class _Holder(Layer):
    """A user's own layer that keeps other layers in attributes and containers."""

    def __init__(self, **parts):
        self.__dict__.update(parts)


def test_train_eval_reach_layers_in_attributes_lists_tuples_sets_and_dicts():
    leaves = [Dropout(0.5) for _ in range(5)]
    inner = _Holder(deep={"a": [leaves[0], (leaves[1],)]})
    outer = _Holder(child=leaves[2], many=[inner, {leaves[3]}], table={"k": leaves[4]}, number=3, text="x")
    outer.eval()
    assert [leaf.training for leaf in leaves] == [False] * 5 and not inner.training and not outer.training
    outer.train()
    assert [leaf.training for leaf in leaves] == [True] * 5 and inner.training


def test_train_eval_visit_shared_layers_once_and_survive_cycles():
    calls = []

    class Counting(Layer):
        def __setattr__(self, name, value):
            if name == "training":
                calls.append(self)
            super().__setattr__(name, value)

    shared = Counting()
    root = _Holder(first=shared, second=[shared, shared], nested=_Holder(again=shared))
    root.loop = root
    root.nested.parent = root
    root.eval()
    assert calls == [shared] and not shared.training


def test_eval_reaches_a_dropout_inside_a_users_layer_subclass():
    class Classifier(Layer):
        def __init__(self):
            self.blocks = [Linear(8, 8, rng=np.random.default_rng(0)), ReLU(), Dropout(0.5)]
            self.head = Linear(8, 2, rng=np.random.default_rng(1))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return self.head(x)

    model = Classifier().eval()
    x = batch(16, 8)
    assert not model.blocks[2].training
    assert np.array_equal(model(x).data, model(x).data)
    model.train()
    assert model.blocks[2].training and not np.array_equal(model(x).data, model(x).data)


# -- Linear ------------------------------------------------------------------------------
def test_linear_parameters_shapes_dtypes_and_init():
    layer = Linear(784, 256, rng=np.random.default_rng(0))
    assert layer.weight.shape == (784, 256) and layer.weight.dtype == np.float32
    assert layer.bias.shape == (256,) and layer.bias.dtype == np.float32 and not layer.bias.data.any()
    assert layer.weight.requires_grad and layer.bias.requires_grad
    assert layer.weight.data.std() == pytest.approx(np.sqrt(1 / 784), rel=0.02)
    assert abs(layer.weight.data.mean()) < 1e-3
    np.random.seed(0)
    global_draw = Linear(784, 256).weight.data
    assert global_draw.std() == pytest.approx(np.sqrt(1 / 784), rel=0.02) and abs(global_draw.mean()) < 1e-3
    assert layer.parameters()[0] is layer.weight and layer.parameters()[1] is layer.bias
    assert sum(p.size for p in layer.parameters()) == 200_960
    no_bias = Linear(3, 2, bias=False)
    assert no_bias.bias is None and no_bias.parameters() == [no_bias.weight]


def test_linear_init_reproducible_from_global_seed_and_generator():
    np.random.seed(11)
    expected = np.random.standard_normal((6, 3)) * np.sqrt(1 / 6)
    np.random.seed(11)
    drawn = Linear(6, 3).weight.data
    # the same draw, to float32 rounding: casting before or after scaling are both right
    assert drawn.dtype == np.float32 and np.allclose(drawn, expected, rtol=2e-6, atol=1e-12)
    a = Linear(5, 3, rng=np.random.default_rng(1)).weight.data
    assert np.array_equal(a, Linear(5, 3, rng=np.random.default_rng(1)).weight.data)
    assert not np.array_equal(a, Linear(5, 3, rng=np.random.default_rng(2)).weight.data)


@pytest.mark.parametrize("args, error", [((0, 3), ValueError), ((3, -1), ValueError), ((2.0, 3), TypeError),
                                         ((True, 3), TypeError), ((3, False), TypeError), (("3", 3), TypeError),
                                         ((None, 3), TypeError)])
def test_linear_rejects_bad_sizes(args, error):
    with pytest.raises(error, match="features"):
        Linear(*args)


@pytest.mark.parametrize("rng", [np.random.RandomState(0), 42])
def test_linear_rejects_bad_rng(rng):
    with pytest.raises(TypeError):
        Linear(2, 2, rng=rng)


@pytest.mark.parametrize("size", [np.int64(3), np.int32(3), np.uint16(3)])
def test_linear_accepts_numpy_integer_sizes(size):
    layer = Linear(size, size + 1)
    assert (layer.in_features, layer.out_features) == (3, 4) and layer.weight.shape == (3, 4)


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
    """What the notebook asks a message to contain: the layer, both shapes, both dimensions."""
    with pytest.raises(ValueError) as info:
        Linear(256, 10)(Tensor(np.zeros((32, 128), dtype=np.float32)))
    for part in ["Linear(in_features=256, out_features=10", "(32, 128)", "(256, 10)", "128", "256"]:
        assert part in str(info.value)
    with pytest.raises(ValueError):
        Linear(1, 1)(Tensor(1.0))
    with pytest.raises(TypeError, match="ndarray"):
        Linear(3, 2)(np.ones((1, 3)))


@pytest.mark.reference  # a student's build words its own messages: not part of `tito module complete`
def test_reference_linear_shape_error_reads_like_the_common_errors_section():
    """The reference build's wording, as the module's Common Errors section quotes it."""
    with pytest.raises(ValueError) as info:
        Linear(256, 10)(Tensor(np.zeros((32, 128), dtype=np.float32)))
    assert str(info.value) == ("Linear(in_features=256, out_features=10, bias=True): cannot multiply "
                               "(32, 128) @ (256, 10): the input's last dimension 128 ≠ in_features 256")


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
    assert np.allclose(out.data[kept], x.data[kept] / (1 - p), rtol=1e-6, atol=0)  # either rounding
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


@pytest.mark.parametrize("rng", [None, np.random.default_rng(0)])
def test_dropout_draws_a_fresh_mask_on_every_call(rng):
    x = batch(40, 40)
    layer = Dropout(0.5, rng=rng)
    masks = [layer(x, training=True).data != 0 for _ in range(3)]
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])
    other = batch(10, 10, seed=1)
    first = layer(other, training=True).data != 0
    layer(x, training=True)
    assert not np.array_equal(first, layer(other, training=True).data != 0)


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
    with pytest.raises(error):
        Dropout(p)


def test_dropout_rejects_non_tensor_and_reports():
    with pytest.raises(TypeError, match="ndarray"):
        Dropout(0.5)(np.ones(3), training=True)
    assert repr(Dropout(0.5)) == "Dropout(p=0.5)" and Dropout(0.3).parameters() == []
    assert Dropout(np.float32(0.25)).p == 0.25 and Dropout(1).p == 1.0


@settings(max_examples=40, deadline=None)
@given(st.floats(0.01, 0.99), st.integers(0, 2**32 - 1))
def test_property_dropout_output_is_zero_or_scaled_input(p, seed):
    x = Tensor(np.linspace(1, 2, 257, dtype=np.float32))
    out = Dropout(p, rng=np.random.default_rng(seed))(x, training=True).data
    scaled = x.data / (1 - p)
    assert np.all((out == 0) | np.isclose(out, scaled, rtol=1e-6, atol=0))


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
    with pytest.raises(TypeError):
        Sequential(Linear(2, 2), 42)
    with pytest.raises(TypeError):
        model.append("relu")
    with pytest.raises(IndexError):
        model[10]


def test_sequential_slice_shares_children_and_keeps_their_modes():
    model = _mlp()
    model[2].eval()
    head = model[:3]
    assert head[2] is model[2] and not head[2].training and head[0].training


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
