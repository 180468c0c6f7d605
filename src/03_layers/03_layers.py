# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 03: Layers
#
# **What you will build:** the four pieces every network in this course is made of:
#
# | Part | Class | What it does |
# |------|-------|--------------|
# | 1 | `Layer` | the shared interface: `forward`, `__call__`, `parameters`, `train`/`eval` |
# | 2 | `Linear` | the learned transformation `y = xW + b` |
# | 3 | `Dropout` | random zeroing during training, for regularisation |
# | 4 | `Sequential` | a container that chains layers into a network |
#
# With them, `Sequential(Linear(784, 256), ReLU(), Dropout(0.5), Linear(256, 10))` is a
# working classifier for 28×28 images.
#
# **Prerequisites:** Module 01 (`Tensor`) and Module 02 (`ReLU`, `Sigmoid`, ...), exported
# into the `tinytorch` package (`tito module complete 01_tensor`, then `02_activations`).
#
# **How to check your work:**
# 1. Run every cell from the top. Each test cell prints one ✅ line when it passes.
# 2. In a terminal, `tito module test 03_layers` grades this notebook with the same engine
#    your instructor uses (including tests you cannot see) and prints a score table.
# 3. At full marks, `tito module complete 03_layers` exports your classes into
#    `tinytorch.core.layers` for the modules that follow.
#
# Where you write code, the cell says `raise NotImplementedError(...)`. The docstring just
# above says what to do (TODO), how (APPROACH), what it should give (EXAMPLE) and what to
# watch for (HINTS).

# %%
#| default_exp core.layers
#| export
import numbers

import numpy as np

from tinytorch.core.activations import ReLU, Sigmoid  # noqa: F401  (re-exported for convenience)
from tinytorch.core.tensor import Tensor


# %%
# Each test cell prints one line: ✅ when its checks pass, ❌ with the reason when not.
from tito.inline import short_failures

short_failures()

# %% [markdown]
# ## What is a layer?
#
# A layer is a function with weights. It takes a batch of inputs, a Tensor of shape
# `(batch, in_features)`, and returns a batch of outputs. The most important one, `Linear`,
# computes
#
# ```
#   y      =      x        @        W          +     b
# (B, out)     (B, in)         (in, out)           (out,)
# ```
#
# Each column of `W` is one output feature's recipe: how much of each input feature to
# take. The bias `b` shifts each output feature, and broadcasting adds it to every row of
# the batch. For a flattened 28×28 image (784 pixels) and 256 hidden features, `W` has
# shape `(784, 256)`.
#
# Every layer answers two questions the same way:
#
# - `forward(x)`: what is my output for this input?
# - `parameters()`: which tensors of mine should training change?
#
# That is the whole contract. An optimizer (a later module) only ever calls
# `model.parameters()`; it never needs to know whether it is looking at a `Linear`, a
# `Dropout` or a network of a hundred layers. PyTorch's `nn.Module` is built on the same
# contract.

# %% [markdown]
# ## Part 1: the `Layer` base class
#
# `Layer` fixes the interface. Subclasses override `forward`; the base class makes a layer
# callable (`layer(x)` instead of `layer.forward(x)`), gives a default of no parameters,
# and keeps a `training` flag that `train()` and `eval()` switch. `__call__` is one line
# today, but it is the seam where a framework later adds hooks, profiling or autograd
# bookkeeping without touching any `forward`.
#
# `train()`/`eval()` and `__repr__` are given; you write `forward`, `__call__` and
# `parameters`.

# %% nbgrader={"grade": false, "grade_id": "layer-base", "locked": false, "schema_version": 3, "solution": true}
#| export
class Layer:
    """Base class of every layer: `forward`, `__call__`, `parameters`, train/eval mode."""

    training = True  # the mode of a new layer; train() and eval() change it per instance

    def forward(self, x, *args, **kwargs):
        """Compute the layer's output. Every subclass must override this.

        TODO: raise NotImplementedError with a message that names the subclass.

        APPROACH:
        1. Get the name of the actual class with `type(self).__name__`.
        2. Raise `NotImplementedError(f"{name} must implement forward(x)")`.

        EXAMPLE:
        >>> class Broken(Layer): pass
        >>> Broken().forward(None)
        NotImplementedError: Broken must implement forward(x)

        HINTS:
        - Naming the subclass tells the user which class is missing its forward.
        """
        ### BEGIN SOLUTION
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")
        ### END SOLUTION

    def __call__(self, x, *args, **kwargs):
        """Make `layer(x)` mean `layer.forward(x)`.

        TODO: delegate to `self.forward`, passing every argument through.

        APPROACH:
        1. Return `self.forward(x, *args, **kwargs)`.

        EXAMPLE:
        >>> dropout(x, training=False)   # the same as dropout.forward(x, training=False)

        HINTS:
        - Pass `*args` and `**kwargs` on, so `Dropout`'s `training=` argument still works.
        """
        ### BEGIN SOLUTION
        return self.forward(x, *args, **kwargs)
        ### END SOLUTION

    def parameters(self) -> list:
        """The trainable tensors of this layer (none, unless a subclass says otherwise).

        TODO: return an empty list.

        APPROACH:
        1. Return `[]`: a new list each call, so callers may extend it safely.

        EXAMPLE:
        >>> Layer().parameters()
        []

        HINTS:
        - `Linear` overrides this with its weight and bias.
        """
        ### BEGIN SOLUTION
        return []
        ### END SOLUTION

    def train(self, mode: bool = True) -> "Layer":
        """Switch training mode on (or off with `mode=False`); returns the layer."""
        self.training = bool(mode)
        return self

    def eval(self) -> "Layer":
        """Switch to inference mode; returns the layer."""
        return self.train(False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# %% [markdown]
# ### Test: the layer base
#
# This test defines a tiny layer of its own to check the contract.

# %% nbgrader={"grade": true, "grade_id": "test-layer-base", "locked": true, "points": 10, "schema_version": 3, "solution": false}
def test_unit_layer_base():
    class Doubler(Layer):
        def forward(self, x, scale=2):
            return x * scale

    class Unfinished(Layer):
        pass

    doubler = Doubler()
    assert doubler(Tensor([1.0, 2.0])).data.tolist() == [2.0, 4.0], "layer(x) should call forward"
    assert doubler(Tensor([1.0]), scale=3).data.tolist() == [3.0], "__call__ must pass kwargs on"
    assert doubler(Tensor([1.0]), 5).data.tolist() == [5.0], "__call__ must pass args on"
    assert doubler.parameters() == [] and Layer().parameters() == []
    try:
        Unfinished()(Tensor([1.0]))
    except NotImplementedError as error:
        assert "Unfinished" in str(error), f"the error should name the subclass: {error}"
    else:
        raise AssertionError("a layer without forward should raise NotImplementedError")
    assert doubler.training is True
    assert doubler.eval() is doubler and doubler.training is False
    assert doubler.train() is doubler and doubler.training is True
    print("✅ Layer: __call__ delegates, parameters() is [], train/eval switch modes")


if __name__ == "__main__":
    test_unit_layer_base()


# %% [markdown]
# ## Part 2: `Linear`, and how to start its weights
#
# ### Initialisation
#
# Training nudges weights from where they start, so the start matters.
#
# - **All zeros, or any constant:** every output feature computes the same number from the
#   same input, receives the same gradient and takes the same step. They stay identical
#   for ever: the layer has one feature, copied `out_features` times. Random starts break
#   this symmetry.
# - **Random, but how large?** An output is a sum of `in_features` products. If each weight
#   has variance `v` and the inputs have variance 1, the output has variance
#   `in_features · v`. With `v = 1` a 784-input layer multiplies the spread of its input by
#   28 (√784), and a few such layers overflow; with a tiny `v` the signal fades to nothing.
# - **LeCun initialisation** picks `v = 1 / in_features`: weights drawn from N(0, 1) and
#   scaled by `sqrt(1 / in_features)`, so the output keeps the input's variance. This is
#   what we use.
# - **Xavier (Glorot)** uses `sqrt(2 / (in_features + out_features))`, balancing the
#   forward pass against the backward pass. **He (Kaiming)** uses `sqrt(2 / in_features)`,
#   doubling the variance to make up for ReLU zeroing half of its inputs.
#
# The next cell computes the three scales for the layers of this module; run it.

# %%
def init_scales(in_features: int, out_features: int) -> dict:
    """Standard deviation of the initial weights under three schemes."""
    return {
        "LeCun": float(np.sqrt(1.0 / in_features)),
        "Xavier": float(np.sqrt(2.0 / (in_features + out_features))),
        "He": float(np.sqrt(2.0 / in_features)),
    }


for fan_in, fan_out in [(784, 256), (256, 128), (1000, 10), (10, 1000)]:
    scales = init_scales(fan_in, fan_out)
    print(f"Linear({fan_in}, {fan_out}): " + ", ".join(f"{k} {v:.4f}" for k, v in scales.items()))

# The narrative's claims, checked: a 784-input layer with unit weights scales the spread
# by 28, and LeCun's scale for 1000 inputs is about 0.032, for 10 inputs about 0.316.
assert np.sqrt(784) == 28
assert round(init_scales(1000, 10)["LeCun"], 3) == 0.032
assert round(init_scales(10, 1000)["LeCun"], 3) == 0.316

# %% [markdown]
# ### The Linear layer
#
# `Linear(in_features, out_features, bias=True, *, rng=None)`:
#
# - `weight`: float32, shape `(in_features, out_features)`, LeCun-initialised;
# - `bias`: float32 zeros of shape `(out_features,)`, or `None` when `bias=False`;
# - both with `requires_grad=True`, so that autograd (a later module) tracks them;
# - `rng`: with `None` the weights come from NumPy's global generator, so
#   `np.random.seed(0)` makes them reproducible; a `np.random.Generator` is used instead
#   when given.
#
# `forward` accepts any number of leading batch dimensions: `(in_features,)`,
# `(batch, in_features)` or `(batch, tokens, in_features)`; matrix multiplication treats
# the last dimension as the features. The argument checks are given as helpers, so that
# bad input fails early with a message that names the layer.

# %% nbgrader={"grade": false, "grade_id": "linear", "locked": false, "schema_version": 3, "solution": true}
#| export
def _check_feature_count(name: str, value) -> int:
    """A layer size must be a positive int (bool is not accepted)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")
    return int(value)


def _check_rng(rng):
    """`rng` must be None (NumPy's global generator) or a np.random.Generator."""
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be None or a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


class Linear(Layer):
    """Fully connected layer: y = x @ W + b."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, rng=None):
        """Create the weight (LeCun-initialised) and the bias (zeros, or None).

        TODO: store the sizes, draw the weight, create the bias.

        APPROACH:
        1. Check and store both sizes with `_check_feature_count("in_features", ...)` and
           `_check_feature_count("out_features", ...)`; check `rng` with `_check_rng(rng)`.
        2. Draw a `(in_features, out_features)` matrix from N(0, 1): from
           `np.random.standard_normal(shape)` when `rng` is None, otherwise from
           `rng.standard_normal(shape, dtype=np.float32)`.
        3. Multiply by `sqrt(1 / in_features)` and make it float32. Store it as
           `self.weight = Tensor(..., requires_grad=True)`.
        4. If `bias` is true, `self.bias` is a float32 zero Tensor of shape
           `(out_features,)` with `requires_grad=True`; otherwise `self.bias = None`.

        EXAMPLE:
        >>> layer = Linear(784, 256)
        >>> layer.weight.shape, layer.bias.shape
        ((784, 256), (256,))
        >>> round(float(layer.weight.data.std()), 3)
        0.036

        HINTS:
        - `np.random.standard_normal` only draws float64: cast once with
          `.astype(np.float32)`.
        - `np.zeros(n, dtype=np.float32)` for the bias.
        """
        ### BEGIN SOLUTION
        self.in_features = _check_feature_count("in_features", in_features)
        self.out_features = _check_feature_count("out_features", out_features)
        _check_rng(rng)
        shape = (self.in_features, self.out_features)
        scale = np.sqrt(1.0 / self.in_features)
        if rng is None:
            weight = (np.random.standard_normal(shape) * scale).astype(np.float32)
        else:
            weight = rng.standard_normal(shape, dtype=np.float32)
            weight *= np.float32(scale)
        self.weight = Tensor(weight, requires_grad=True)
        if bias:
            self.bias = Tensor(np.zeros(self.out_features, dtype=np.float32), requires_grad=True)
        else:
            self.bias = None
        ### END SOLUTION

    def _check_input(self, x) -> None:
        """Fail early, naming this layer, when `x` cannot go through it."""
        if type(x) is Tensor and x.data.shape[-1:] == (self.in_features,):
            return  # the common case, checked with as little Python as possible
        if not isinstance(x, Tensor):
            raise TypeError(f"{self!r} takes a Tensor, got {type(x).__name__}")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r} expected input with last dimension {self.in_features}, "
                f"got shape {x.shape}"
            )

    def forward(self, x: Tensor) -> Tensor:
        """Return x @ W + b for input of shape (..., in_features).

        TODO: check the input, multiply by the weight, add the bias if there is one.

        APPROACH:
        1. `self._check_input(x)` (given) raises a clear error for bad input.
        2. `output = x.data @ self.weight.data`: a new float32 array of shape
           `(..., out_features)`.
        3. If there is a bias, add it *in place*: `output += self.bias.data`.
        4. Return `Tensor(output, requires_grad=...)`: True if the input or the weight
           requires grad. (Tensor makes any other dtype float32.)

        EXAMPLE:
        >>> layer = Linear(3, 2)
        >>> layer.forward(Tensor([[1.0, 2.0, 3.0]])).shape
        (1, 2)

        HINTS:
        - `x.matmul(self.weight) + self.bias` gives the same numbers, but allocates the
          output twice; adding in place into the fresh product saves a pass over memory.
        - Broadcasting adds the `(out_features,)` bias to every row.
        """
        ### BEGIN SOLUTION
        self._check_input(x)
        output = x.data @ self.weight.data
        bias = self.bias
        if bias is not None:
            output += bias.data
        return Tensor(output, x.requires_grad or self.weight.requires_grad)
        ### END SOLUTION

    def parameters(self) -> list:
        """The trainable tensors: `[weight, bias]`, or `[weight]` without a bias.

        TODO: return the weight and, if present, the bias (the objects, not copies).

        APPROACH:
        1. Start with `[self.weight]`.
        2. Append `self.bias` unless it is None.

        EXAMPLE:
        >>> layer = Linear(4, 2)
        >>> layer.parameters()[0] is layer.weight
        True

        HINTS:
        - An optimizer updates these objects in place: copies would never learn.
        """
        ### BEGIN SOLUTION
        params = [self.weight]
        if self.bias is not None:
            params.append(self.bias)
        return params
        ### END SOLUTION

    def __repr__(self) -> str:
        return (
            f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None})"
        )


# %% [markdown]
# ### Test: creating a Linear layer
#
# Shapes, dtypes, the initial statistics (with a fixed seed, so this never flakes),
# reproducibility, and the argument checks.

# %% nbgrader={"grade": true, "grade_id": "test-linear-creation", "locked": true, "points": 15, "schema_version": 3, "solution": false}
def test_unit_linear_creation():
    np.random.seed(0)
    layer = Linear(784, 256)
    assert layer.in_features == 784 and layer.out_features == 256
    assert layer.weight.shape == (784, 256) and layer.weight.dtype == np.float32
    assert layer.bias.shape == (256,) and layer.bias.dtype == np.float32
    assert layer.weight.requires_grad and layer.bias.requires_grad
    assert np.all(layer.bias.data == 0), "the bias starts at zero"
    expected_std = np.sqrt(1 / 784)
    assert abs(layer.weight.data.std() - expected_std) < 0.02 * expected_std, "LeCun scale"
    assert abs(layer.weight.data.mean()) < 0.001, "weights should be centred on zero"
    params = layer.parameters()
    assert len(params) == 2 and params[0] is layer.weight and params[1] is layer.bias

    no_bias = Linear(10, 5, bias=False)
    assert no_bias.bias is None and len(no_bias.parameters()) == 1

    np.random.seed(42)
    first = Linear(8, 4).weight.data.copy()
    np.random.seed(42)
    assert np.array_equal(first, Linear(8, 4).weight.data), "np.random.seed must reproduce"
    a = Linear(8, 4, rng=np.random.default_rng(5)).weight.data
    b = Linear(8, 4, rng=np.random.default_rng(5)).weight.data
    assert np.array_equal(a, b) and a.dtype == np.float32, "a seeded Generator must reproduce"
    assert repr(layer) == "Linear(in_features=784, out_features=256, bias=True)"

    for args, error in [((0, 5), ValueError), ((-3, 5), ValueError), ((2.5, 5), TypeError),
                        ((True, 5), TypeError), ((5, "10"), TypeError)]:
        try:
            Linear(*args)
        except error:
            pass
        else:
            raise AssertionError(f"Linear{args} should raise {error.__name__}")
    ### BEGIN HIDDEN TESTS
    assert Linear(np.int64(3), 2).in_features == 3, "NumPy integers are ints too"
    try:
        Linear(3, 2, rng=42)
    except TypeError:
        pass
    else:
        raise AssertionError("rng=42 should raise TypeError")
    ### END HIDDEN TESTS
    print("✅ Linear creation: shapes, float32, LeCun scale, zero bias, clear errors")


if __name__ == "__main__":
    test_unit_linear_creation()


# %% [markdown]
# ### Test: the Linear forward pass
#
# Values against NumPy, 1-D and 3-D inputs, and the errors for wrong input.

# %% nbgrader={"grade": true, "grade_id": "test-linear-forward", "locked": true, "points": 15, "schema_version": 3, "solution": false}
def test_unit_linear_forward():
    rng = np.random.default_rng(0)
    layer = Linear(6, 3, rng=rng)
    layer.bias.data[:] = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    y = layer.forward(Tensor(x))
    assert isinstance(y, Tensor) and y.shape == (4, 3) and y.dtype == np.float32
    assert np.allclose(y.data, x @ layer.weight.data + layer.bias.data, atol=1e-6)
    assert not np.shares_memory(y.data, x), "forward must return a new tensor"

    single = layer.forward(Tensor(x[0]))
    assert single.shape == (3,) and np.allclose(single.data, y.data[0], atol=1e-6)
    tokens = rng.standard_normal((2, 5, 6)).astype(np.float32)
    assert layer.forward(Tensor(tokens)).shape == (2, 5, 3)

    plain = Linear(6, 3, bias=False, rng=np.random.default_rng(1))
    assert np.allclose(plain.forward(Tensor(x)).data, x @ plain.weight.data, atol=1e-6)

    try:
        Linear(256, 10).forward(Tensor(np.zeros((32, 128), dtype=np.float32)))
    except ValueError as error:
        message = str(error)
        assert "Linear(in_features=256, out_features=10" in message, message
        assert "256" in message and "(32, 128)" in message, message
    else:
        raise AssertionError("a wrong last dimension should raise ValueError")
    try:
        layer.forward(x)
    except TypeError:
        pass
    else:
        raise AssertionError("a NumPy array (not a Tensor) should raise TypeError")
    print("✅ Linear forward: x @ W + b for 1-D, 2-D and 3-D input, clear errors")


if __name__ == "__main__":
    test_unit_linear_forward()


# %% [markdown]
# ### Counting parameters and memory
#
# `Linear(in, out)` holds `in × out` weights and `out` biases. At 4 bytes each (float32):
#
# | Layer | Weights | Bias | Parameters | Memory |
# |-------|---------|------|------------|--------|
# | Linear(784, 256) | 200,704 | 256 | 200,960 | 803,840 B ≈ 785 KiB |
# | Linear(256, 128) | 32,768 | 128 | 32,896 | 131,584 B ≈ 128.5 KiB |
# | Linear(128, 10) | 1,280 | 10 | 1,290 | 5,160 B ≈ 5 KiB |
# | **784→256→128→10** | | | **235,146** | **940,584 B ≈ 918.5 KiB** |
#
# The first layer holds 85% of the network: the widest input dominates. Doubling
# `out_features` of the first layer to 512 doubles it to 401,920 parameters.
#
# Activations cost memory too, and they grow with the batch: at batch 32 the tensors
# flowing through that network (32×784, 32×256, 32×128, 32×10 numbers) take 150,784 bytes,
# about 147 KiB, on top of the weights. The next cell computes every number above from
# real layers.

# %%
def count_parameters(layers) -> int:
    """Total number of trainable numbers in a list of layers."""
    return sum(p.size for layer in layers for p in layer.parameters())


mlp_layers = [Linear(784, 256), Linear(256, 128), Linear(128, 10)]
assert count_parameters(mlp_layers[:1]) == 200_960
assert count_parameters(mlp_layers[1:2]) == 32_896
assert count_parameters(mlp_layers[2:]) == 1_290
assert count_parameters(mlp_layers) == 235_146
assert count_parameters(mlp_layers) * 4 == 940_584
assert count_parameters([Linear(784, 512)]) == 401_920
assert round(100 * 200_960 / 235_146) == 85
assert 4 * 32 * (784 + 256 + 128 + 10) == 150_784 and round(150_784 / 1024) == 147
assert (200_960 * 4, 32_896 * 4, 1_290 * 4) == (803_840, 131_584, 5_160)
assert (803_840 / 1024, 131_584 / 1024, round(5_160 / 1024), round(940_584 / 1024, 1)) == (785, 128.5, 5, 918.5)
assert round(784 * 256 * 4 / 1000) == 803  # "the 803 KB weight matrix" of the timing section
print(f"784→256→128→10: {count_parameters(mlp_layers):,} parameters, "
      f"{count_parameters(mlp_layers) * 4:,} bytes")

# %% [markdown]
# ## Part 3: `Dropout`
#
# A network with enough parameters can memorise its training set. Dropout fights this:
# during training it sets each activation to zero with probability `p`, so no feature can
# count on any particular other feature being there. At inference every feature is used.
#
# **Inverted scaling.** If half the activations are dropped, the next layer receives, on
# average, half the signal it will see at inference. Dividing the survivors by `1 - p`
# (multiplying by `1/(1-p)`) fixes the expectation during training: each element is
# `x / (1-p)` with probability `1-p` and `0` otherwise, so its expected value is
# `(1-p) · x / (1-p) = x`. Inference then needs no change at all: dropout returns its input.
# Without the scaling, a model trained with `p = 0.5` would see activations twice as large
# at test time as those it learned from.
#
# ```
# training, p = 0.5:   [1, 2, 3, 4]  ->  mask [1, 0, 1, 1]  ->  [2, 0, 6, 8]
# inference:           [1, 2, 3, 4]  ->  [1, 2, 3, 4]
# ```
#
# **Modes.** `forward(x, training=None)` follows the layer's mode (`train()`/`eval()`)
# when `training` is None; an explicit `training=True` or `False` overrides it for one
# call. `p = 0` returns the input; `p = 1` returns zeros.
#
# **Random numbers.** Masks come from NumPy's global generator unless a
# `np.random.Generator` is passed as `rng`, so `np.random.seed(s)` reproduces them. The
# given helper `_keep_mask` draws 32-bit random integers and compares them with a
# threshold: the legacy global functions would otherwise only give float64 random numbers,
# twice the memory of the float32 data being masked.

# %% nbgrader={"grade": false, "grade_id": "dropout", "locked": false, "schema_version": 3, "solution": true}
#| export
def _check_probability(p) -> float:
    """A dropout probability must be a real number in [0, 1] (bool is not accepted)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"p must be a number between 0 and 1, got {type(p).__name__} {p!r}")
    if not 0.0 <= p <= 1.0:  # also rejects NaN
        raise ValueError(f"p must be between 0 and 1, got {p}")
    return float(p)


_UINT32_LIMIT = 2**32


def _keep_mask(shape: tuple, keep_prob: float, rng) -> np.ndarray:
    """Boolean mask that is True with probability `keep_prob`, element by element."""
    threshold = np.uint32(min(round(keep_prob * _UINT32_LIMIT), _UINT32_LIMIT - 1))
    if rng is None:
        bits = np.random.randint(0, _UINT32_LIMIT, size=shape, dtype=np.uint32)
    else:
        bits = rng.integers(0, _UINT32_LIMIT, size=shape, dtype=np.uint32)
    return bits < threshold


class Dropout(Layer):
    """Zero each element with probability p during training; identity at inference."""

    def __init__(self, p: float = 0.5, *, rng=None):
        """Store the drop probability and the random generator.

        TODO: check and store `p` and `rng`.

        APPROACH:
        1. `self.p = _check_probability(p)`: a TypeError or ValueError for bad values.
        2. `self.rng = _check_rng(rng)`.

        EXAMPLE:
        >>> Dropout(0.3).p
        0.3
        >>> Dropout(1.5)
        ValueError: p must be between 0 and 1, got 1.5

        HINTS:
        - The helpers are in this cell, above the class.
        """
        ### BEGIN SOLUTION
        self.p = _check_probability(p)
        self.rng = _check_rng(rng)
        ### END SOLUTION

    def forward(self, x: Tensor, training=None) -> Tensor:
        """Apply dropout in training mode; return `x` unchanged at inference.

        TODO: handle the modes and the two extreme probabilities, then mask and scale.

        APPROACH:
        1. Reject a non-Tensor `x` with a TypeError.
        2. If `training` is None, use `self.training`.
        3. Not training, or `p == 0`: return `x` itself.
        4. `p == 1`: return float32 zeros of `x`'s shape, keeping `x.requires_grad`.
        5. Otherwise: `keep = 1 - p`; `mask = _keep_mask(x.shape, keep, self.rng)`;
           the output is `x.data * np.float32(1 / keep)`, zeroed where the mask is False.
        6. Return it as a new Tensor with `x.requires_grad`.

        EXAMPLE:
        >>> np.random.seed(0)
        >>> Dropout(0.5)(Tensor([1.0, 2.0, 3.0, 4.0]), training=True)
        Tensor([2., 0., 6., 8.], shape=(4,), dtype=float32)     (which ones survive varies)

        HINTS:
        - `output = x.data * scale` makes a new array; `output *= mask` zeroes it in
          place without another allocation.
        - Survivors must be exactly `x * np.float32(1 / (1 - p))`.
        """
        ### BEGIN SOLUTION
        if not isinstance(x, Tensor):
            raise TypeError(f"{self!r} takes a Tensor, got {type(x).__name__}")
        if training is None:
            training = self.training
        if not training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return Tensor(np.zeros(x.shape, dtype=np.float32), requires_grad=x.requires_grad)
        keep = 1.0 - self.p
        mask = _keep_mask(x.shape, keep, self.rng)
        output = x.data * np.float32(1.0 / keep)
        output *= mask
        return Tensor(output, requires_grad=x.requires_grad)
        ### END SOLUTION

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


# %% [markdown]
# ### Test: Dropout
#
# Modes, exact scaling, the share of survivors (over a million elements with a fixed seed,
# so the check is tight and never flakes), reproducibility and errors.

# %% nbgrader={"grade": true, "grade_id": "test-dropout", "locked": true, "points": 20, "schema_version": 3, "solution": false}
def test_unit_dropout():
    x = Tensor(np.arange(1, 1001, dtype=np.float32).reshape(10, 100))
    dropout = Dropout(0.5)
    assert dropout.p == 0.5 and dropout.parameters() == [] and repr(dropout) == "Dropout(p=0.5)"
    assert dropout.forward(x, training=False) is x, "inference returns the input unchanged"
    assert Dropout(0.0).forward(x, training=True) is x, "p = 0 returns the input unchanged"
    zeros = Dropout(1.0).forward(Tensor(x.data, requires_grad=True), training=True)
    assert zeros.shape == x.shape and zeros.dtype == np.float32 and np.all(zeros.data == 0)
    assert zeros.requires_grad, "p = 1 keeps requires_grad"

    for p in [0.2, 0.5, 0.9]:
        np.random.seed(1)
        out = Dropout(p).forward(x, training=True)
        assert out.shape == x.shape and out.dtype == np.float32
        kept = out.data != 0
        assert np.array_equal(out.data[kept], x.data[kept] * np.float32(1 / (1 - p))), \
            f"survivors must be scaled by exactly 1/(1-p) for p={p}"

    np.random.seed(2)
    big = Dropout(0.3).forward(Tensor(np.ones(1_000_000, dtype=np.float32)), training=True)
    survival = np.count_nonzero(big.data) / big.size
    assert abs(survival - 0.7) < 0.002, f"about 70% should survive p=0.3, got {survival:.4f}"
    assert abs(big.data.mean() - 1.0) < 0.005, "inverted scaling keeps the mean"

    np.random.seed(3)
    first = Dropout(0.5).forward(x, training=True).data
    np.random.seed(3)
    assert np.array_equal(first, Dropout(0.5).forward(x, training=True).data), \
        "np.random.seed must reproduce the mask"
    a = Dropout(0.5, rng=np.random.default_rng(9)).forward(x, training=True).data
    b = Dropout(0.5, rng=np.random.default_rng(9)).forward(x, training=True).data
    assert np.array_equal(a, b), "a seeded Generator must reproduce the mask"

    for bad, error in [(1.5, ValueError), (-0.1, ValueError), ("0.5", TypeError),
                       (None, TypeError), (True, TypeError)]:
        try:
            Dropout(bad)
        except error:
            pass
        else:
            raise AssertionError(f"Dropout({bad!r}) should raise {error.__name__}")
    ### BEGIN HIDDEN TESTS
    layer = Dropout(0.5)
    layer.training = False
    assert layer.forward(x) is x, "training=None must follow the layer's mode"
    layer.training = True
    assert layer.forward(x, training=False) is x, "an explicit training=False wins"
    assert not np.array_equal(layer.forward(x).data, x.data), "training mode must drop"
    try:
        Dropout(float("nan"))
    except ValueError:
        pass
    else:
        raise AssertionError("Dropout(nan) should raise ValueError")
    ### END HIDDEN TESTS
    print("✅ Dropout: modes, exact 1/(1-p) scaling, survival rate, reproducible, clear errors")


if __name__ == "__main__":
    test_unit_dropout()


# %% [markdown]
# ## Part 4: `Sequential`
#
# Most networks are a chain: the output of one layer is the input of the next.
# `Sequential` holds the chain and is itself a `Layer`, so a `Sequential` can sit inside
# another one.
#
# - `forward(x)` calls each child in order: `x = layer(x)`.
# - `parameters()` concatenates the children's lists in order. A layer that appears twice
#   (the same object, shared weights) contributes its tensors once; a child without a
#   `parameters()` method (any plain callable) contributes none.
# - `train()`/`eval()` reach every child, nested ones too: after `model.eval()`, every
#   `Dropout` inside is off. (The given `train` below does this.)
#
# Indexing, iteration, `len`, `append` and the printout are given; you write `__init__`,
# `forward` and `parameters`.

# %% nbgrader={"grade": false, "grade_id": "sequential", "locked": false, "schema_version": 3, "solution": true}
#| export
def _check_callable_layers(layers) -> list:
    """Every child must be callable; returns them as a new list."""
    layers = list(layers)
    for index, layer in enumerate(layers):
        if not callable(layer):
            raise TypeError(
                f"Sequential children must be layers (callables); "
                f"item {index} is {type(layer).__name__} {layer!r}"
            )
    return layers


class Sequential(Layer):
    """A chain of layers applied in order; itself a Layer."""

    def __init__(self, *layers):
        """Store the children in order.

        TODO: accept `Sequential(a, b, c)` and `Sequential([a, b, c])`.

        APPROACH:
        1. If exactly one argument was given and it is a list or tuple, use its items.
        2. Store `self.layers = _check_callable_layers(items)` (a TypeError for a child
           that cannot be called).

        EXAMPLE:
        >>> len(Sequential(Linear(4, 3), ReLU()))
        2
        >>> len(Sequential([Linear(4, 3), ReLU()]))
        2

        HINTS:
        - `len(layers) == 1 and isinstance(layers[0], (list, tuple))`.
        """
        ### BEGIN SOLUTION
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = layers[0]
        self.layers = _check_callable_layers(layers)
        ### END SOLUTION

    def forward(self, x):
        """Pass `x` through every child in order and return the result.

        TODO: chain the children.

        APPROACH:
        1. For each layer in `self.layers`: `x = layer(x)`.
        2. Return `x`.

        EXAMPLE:
        >>> Sequential(Linear(4, 3), ReLU())(Tensor(np.ones((2, 4)))).shape
        (2, 3)

        HINTS:
        - Call `layer(x)`, not `layer.forward(x)`: activations and plain functions are
          callables too.
        """
        ### BEGIN SOLUTION
        for layer in self.layers:
            x = layer(x)
        return x
        ### END SOLUTION

    def parameters(self) -> list:
        """All children's parameters, in order, each tensor once.

        TODO: collect the parameters of every child.

        APPROACH:
        1. Walk the children in order; skip a child without a `parameters` method.
        2. Add each tensor it returns unless the same object was already added (compare
           with `id(tensor)`: tensors are not compared by value).

        EXAMPLE:
        >>> len(Sequential(Linear(4, 3), ReLU(), Linear(3, 2)).parameters())
        4

        HINTS:
        - `getattr(layer, "parameters", None)` is None for a child without parameters.
        """
        ### BEGIN SOLUTION
        params, seen = [], set()
        for layer in self.layers:
            get_parameters = getattr(layer, "parameters", None)
            if get_parameters is None:
                continue
            for tensor in get_parameters():
                if id(tensor) not in seen:
                    seen.add(id(tensor))
                    params.append(tensor)
        return params
        ### END SOLUTION

    def train(self, mode: bool = True) -> "Sequential":
        """Set the mode of this container and of every child that has one."""
        self.training = bool(mode)
        for layer in self.layers:
            if callable(getattr(layer, "train", None)):
                layer.train(mode)
        return self

    def append(self, layer) -> "Sequential":
        """Add a layer at the end; returns the container."""
        self.layers.extend(_check_callable_layers([layer]))
        return self

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(self.layers[index]).train(self.training)
        return self.layers[index]

    def __repr__(self) -> str:
        lines = [f"  ({i}): " + repr(layer).replace("\n", "\n  ") for i, layer in enumerate(self)]
        return "Sequential(\n" + "\n".join(lines) + "\n)" if lines else "Sequential()"


# %% [markdown]
# ### Test: Sequential
#
# Chaining, parameter order and de-duplication, indexing, and eval mode reaching nested
# children.

# %% nbgrader={"grade": true, "grade_id": "test-sequential", "locked": true, "points": 20, "schema_version": 3, "solution": false}
def test_unit_sequential():
    rng = np.random.default_rng(0)
    first, second = Linear(4, 3, rng=rng), Linear(3, 2, rng=rng)
    model = Sequential(first, ReLU(), second)
    x = Tensor(rng.standard_normal((5, 4)).astype(np.float32))
    expected = np.maximum(x.data @ first.weight.data + first.bias.data, 0)
    expected = expected @ second.weight.data + second.bias.data
    out = model.forward(x)
    assert out.shape == (5, 2) and np.allclose(out.data, expected, atol=1e-6)
    assert np.allclose(model(x).data, expected, atol=1e-6), "model(x) should run forward"

    params = model.parameters()
    assert len(params) == 4, f"two Linear layers have 4 parameter tensors, got {len(params)}"
    assert [p is q for p, q in zip(params, [first.weight, first.bias, second.weight, second.bias])] == [True] * 4
    shared_twice = Sequential(first, ReLU(), Linear(3, 4, rng=rng), ReLU(), first)
    assert len(shared_twice.parameters()) == 4, "a layer used twice counts its tensors once"
    assert Sequential([first, second]).parameters()[2] is second.weight, "a list works too"
    assert Sequential(lambda t: t * 2).parameters() == [], "plain callables have no parameters"

    assert len(model) == 3 and model[0] is first and model[-1] is second
    assert list(model) == model.layers
    head = model[:2]
    assert isinstance(head, Sequential) and len(head) == 2 and head[0] is first
    model.append(ReLU())
    assert len(model) == 4
    try:
        Sequential(first, 5)
    except TypeError:
        pass
    else:
        raise AssertionError("a non-callable child should raise TypeError")

    inner = Sequential(Linear(4, 4, rng=rng), Dropout(0.5))
    outer = Sequential(inner, Dropout(0.5))
    assert outer.eval() is outer
    assert not outer.training and not inner.training and not inner[1].training
    x4 = Tensor(np.ones((3, 4), dtype=np.float32))
    assert np.array_equal(outer(x4).data, outer(x4).data), "eval mode must be deterministic"
    outer.train()
    assert inner[1].training and outer[1].training
    ### BEGIN HIDDEN TESTS
    text = repr(Sequential(Linear(2, 3), ReLU()))
    assert "(0): Linear(in_features=2, out_features=3, bias=True)" in text
    assert "(1): ReLU()" in text
    try:
        Sequential([first, "relu"])
    except TypeError:
        pass
    else:
        raise AssertionError("a string child should raise TypeError")
    ### END HIDDEN TESTS
    print("✅ Sequential: chains layers, collects parameters once each, indexes, eval reaches all")


if __name__ == "__main__":
    test_unit_sequential()


# %% [markdown]
# ## Putting it together: a classifier for 28×28 images
#
# A three-layer perceptron, 784 → 128 → 64 → 10, with ReLU between layers and dropout
# after each hidden layer. This cell checks that the parts work together; it does not
# call the unit tests above again.

# %% nbgrader={"grade": true, "grade_id": "test-integration", "locked": true, "points": 20, "schema_version": 3, "solution": false}
def test_integration_mlp():
    np.random.seed(0)
    model = Sequential(
        Linear(784, 128), ReLU(), Dropout(0.2),
        Linear(128, 64), ReLU(), Dropout(0.2),
        Linear(64, 10),
    )
    batch = Tensor(np.random.default_rng(1).standard_normal((32, 784)).astype(np.float32))
    logits = model(batch)
    assert logits.shape == (32, 10) and logits.dtype == np.float32
    params = model.parameters()
    assert len(params) == 6, f"3 Linear layers have 6 parameter tensors, got {len(params)}"
    assert sum(p.size for p in params) == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    model.eval()
    first, second = model(batch).data, model(batch).data
    assert np.array_equal(first, second), "eval mode output must be deterministic"
    model.train()
    assert not np.array_equal(model(batch).data, first), "training mode applies dropout"
    ### BEGIN HIDDEN TESTS
    model.eval()
    hidden = batch
    for layer in model:
        hidden = layer(hidden)
    assert np.allclose(hidden.data, first, atol=1e-6), "Sequential equals the manual chain"
    ### END HIDDEN TESTS
    print("✅ integration: 784→128→64→10 MLP, 6 parameter tensors, deterministic in eval")


if __name__ == "__main__":
    test_integration_mlp()


# %% [markdown]
# ## Systems analysis: memory
#
# Parameter memory is fixed by the architecture; the function below prints it for a few
# layer sizes and for stacks of layers. Notice that it grows with the *product* of the two
# sizes: doubling both sides of a layer quadruples it.

# %%
def analyze_layer_memory(configurations=((784, 256), (256, 128), (128, 10), (1024, 1024), (2048, 2048))):
    """Print and return the parameter memory of several Linear layers and stacks."""
    print(f"{'layer':>22} {'weights':>12} {'bias':>10} {'total':>12}")
    rows = []
    for fan_in, fan_out in configurations:
        layer = Linear(fan_in, fan_out)
        weight_bytes, bias_bytes = layer.weight.data.nbytes, layer.bias.data.nbytes
        rows.append((fan_in, fan_out, weight_bytes, bias_bytes))
        print(f"{repr((fan_in, fan_out)):>22} {weight_bytes / 1024:>9.1f} KiB "
              f"{bias_bytes / 1024:>6.1f} KiB {(weight_bytes + bias_bytes) / 1024:>9.1f} KiB")
    print("\nStacks of layers (float32):")
    for sizes in [(784, 256, 10), (784, 256, 128, 10), (784, 1024, 1024, 10)]:
        stack = [Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        count = sum(p.size for layer in stack for p in layer.parameters())
        print(f"{'→'.join(map(str, sizes)):>22} {count:>12,} parameters {count * 4 / 1024:>9.1f} KiB")
        rows.append((sizes, count))
    return rows


memory_rows = analyze_layer_memory()

# %% [markdown]
# ## Systems analysis: where the time goes
#
# `Linear(784, 256)` on a batch of `B` does `B × 784 × 256` multiply-adds, that is
# `2 × B × 784 × 256` floating-point operations (FLOPs), while it reads the 803 KB weight
# matrix and the input and writes the output. The ratio of arithmetic to bytes moved, the
# **arithmetic intensity**, decides which limit a computation hits:
#
# - **GEMM (the matrix product) is compute-bound** once the batch is more than a handful
#   of rows: each weight fetched is used `B` times. BLAS libraries cut the matrices into
#   tiles that fit the caches, so almost all reads come from cache, and the processor's
#   vector units set the speed.
# - **Bias-add, ReLU and dropout are memory-bound**: one or two operations per number
#   read and written. Their speed is the memory bandwidth, and no cleverness in the
#   arithmetic helps; what helps is not making extra passes (hence the in-place bias add).
#
# Batching matters because a call has a fixed cost (Python, dispatch, thread wake-up) and,
# at batch 1, the product is matrix-*vector*: every weight is read for only 2 FLOPs. The
# seeds of this course quote 800 samples/s at batch 1 and 10,000 at batch 32 for this
# layer. The cell below measures your layer on this machine, with the same timing code as
# the course's benchmarks (`tinytorch.profiling`), and prints how it compares.

# %%
import os

from tinytorch.profiling import measure_interleaved

QUOTED_SAMPLES_PER_SECOND = {1: 800, 32: 10_000}


def analyze_layer_performance(batch_sizes=(1, 32, 128, 512), repeats=5, plot=True):
    """Print FLOPs and measured forward throughput of Linear(784, 256); plot if possible."""
    layer = Linear(784, 256, rng=np.random.default_rng(0))
    inputs = {b: Tensor(np.random.default_rng(b).standard_normal((b, 784)).astype(np.float32))
              for b in batch_sizes}
    seconds = measure_interleaved({b: (lambda x=inputs[b]: layer(x)) for b in batch_sizes},
                                  repeats=repeats, target_seconds=0.002)
    results = {}
    print(f"{'batch':>6} {'MFLOP':>8} {'time/call':>11} {'samples/s':>12} {'GFLOP/s':>8}")
    for b in batch_sizes:
        flops = 2 * b * 784 * 256
        rate = b / seconds[b]
        results[b] = {"seconds": seconds[b], "samples_per_second": rate, "flops": flops}
        print(f"{b:>6} {flops / 1e6:>8.1f} {seconds[b] * 1e6:>9.1f} µs {rate:>12,.0f} "
              f"{flops / seconds[b] / 1e9:>8.1f}")
    for b, quoted in QUOTED_SAMPLES_PER_SECOND.items():
        if b in results:
            print(f"batch {b}: {results[b]['samples_per_second']:,.0f} samples/s here, "
                  f"{results[b]['samples_per_second'] / quoted:.0f}× the {quoted:,} quoted")
    if plot:
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            print("(matplotlib is not installed: no plot)")
        else:
            figure, axis = plt.subplots(figsize=(5, 3))
            axis.plot(list(results), [r["samples_per_second"] for r in results.values()], "o-")
            axis.set(xscale="log", yscale="log", xlabel="batch size", ylabel="samples / s",
                     title="Linear(784, 256) forward throughput")
            figure.tight_layout()
            plt.show()
    return results


# The autograder (nbgrader sets NBGRADER_EXECUTION) skips the plot: nobody would see it.
performance = analyze_layer_performance(plot="NBGRADER_EXECUTION" not in os.environ)

# %% [markdown]
# Read the table: throughput climbs steeply from batch 1 to batch 32, because the fixed
# cost of a call is shared by more samples and the product becomes a true matrix-matrix
# multiplication, then flattens out as the processor's arithmetic becomes the limit
# (GFLOP/s stops growing). Per sample, a large batch is far cheaper; but each sample
# waits for the whole batch, which is the latency price of throughput.

# %% [markdown]
# ## Common errors
#
# - **Shapes that do not chain.** `Sequential(Linear(784, 128), Linear(256, 10))` fails on
#   the second layer: `Linear(in_features=256, out_features=10) expected input with last
#   dimension 256, got shape (32, 128)`. The output size of each layer must equal the
#   input size of the next.
# - **Dropout left on at inference.** Test accuracy far below training accuracy can mean
#   dropout is still dropping. Call `model.eval()` before evaluating (or pass
#   `training=False`), and `model.train()` before training again.
# - **Missing parameters.** A layer whose `parameters()` forgets a tensor will never have
#   it trained. Count them: `len(model.parameters())` should be twice the number of Linear
#   layers with bias.
# - **Initial scale.** Weights from plain `np.random.randn` (scale 1) make activations
#   grow by `sqrt(in_features)` per layer; NaNs soon follow. Scale by
#   `sqrt(1 / in_features)`.
#
# ## Your layers and PyTorch
#
# | | TinyTorch | PyTorch |
# |---|---|---|
# | Linear weight | `(in, out)`, `y = x @ W + b` | `(out, in)`, `y = x @ W.T + b` |
# | Initialisation | LeCun normal | Kaiming uniform (`init.kaiming_uniform_`) |
# | Parameters | `parameters()` returns a list | `parameters()` yields from registered modules |
# | Modes | `train()`/`eval()`, or `training=` per Dropout call | `train()`/`eval()` |
# | Backend | NumPy and BLAS, CPU | C++, CPU and GPUs |
#
# The numbers agree: copy a TinyTorch weight, transposed, into `torch.nn.Linear` and the
# outputs match to float32 precision (the package's tests check this). The storage layout
# differs only in which side is transposed.
#
# ## What comes next
#
# Your layers can make predictions but cannot yet say how wrong they are. **Module 04
# (Losses)** turns predictions and targets into one number; **autograd** then computes how
# every tensor in `model.parameters()` should change, and an **optimizer** applies those
# changes. Run `tito module complete 03_layers` to export your layers for them.
