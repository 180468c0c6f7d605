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
# # Module 02: Activations
#
# **What you will build:** five activation functions, `ReLU`, `Sigmoid`, `Tanh`, `GELU`
# and `Softmax`, as small classes with the same interface as the layers of Module 03.
#
# **Prerequisites:** Module 01 (your `Tensor`, imported from `tinytorch.core.tensor`).
#
# **How to check your work:** run each test cell (✅ means passed), then
# `tito module test 02_activations` in a terminal for the score your instructor will see,
# and `tito module complete 02_activations` to export your code into `tinytorch`.

# %%
#| default_exp core.activations
#| export
import math

import numpy as np

from tinytorch.core.tensor import Tensor


# %%
# Each test cell prints one line: ✅ when its checks pass, ❌ with the reason when not.
from tito.inline import short_failures

short_failures()

# %% [markdown]
# ## Why non-linearity?
#
# Two linear layers in a row, `(x @ W1) @ W2`, are one linear layer `x @ (W1 @ W2)`: no
# matter how many you stack, the network can only draw straight lines. An activation
# function between them bends the line. Each one here is applied to every number on its
# own, so its cost is one read and one write per number: these functions are limited by
# memory bandwidth, and on a CPU they take a small fraction of the time of the matrix
# products around them.
#
# Each activation is a class with `forward(x) -> Tensor`, `__call__` (so `relu(x)` works)
# and `parameters()` returning `[]`: it has nothing to learn. That shared interface is
# what lets Module 03's `Sequential` hold layers and activations side by side. The base
# class is given; you write the `forward` methods.
#
# Two rules for every `forward`: return a **new** float32 Tensor of the **same shape**,
# and never let an intermediate overflow.

# %%
#| export
class Activation:
    """Base class: an element-wise function with no parameters."""

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(x)")

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def parameters(self) -> list:
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _float32(x: Tensor) -> np.ndarray:
    """The float32 array of a Tensor input; a clear TypeError for anything else."""
    if not isinstance(x, Tensor):
        raise TypeError(f"activations take a Tensor, got {type(x).__name__}")
    data = x.data
    return data if data.dtype == np.float32 else data.astype(np.float32)


# %% [markdown]
# ## ReLU: `max(0, x)`
#
# The rectified linear unit keeps positive numbers and zeroes the rest. It is the default
# activation of hidden layers: cheap, and its gradient does not shrink for positive
# inputs.

# %% nbgrader={"grade": false, "grade_id": "relu", "locked": false, "schema_version": 3, "solution": true}
#| export
class ReLU(Activation):
    """Rectified linear unit: max(0, x), element by element."""

    def forward(self, x: Tensor) -> Tensor:
        """Return max(0, x) as a new float32 Tensor.

        TODO: zero the negative numbers, keep the rest.

        APPROACH:
        1. Get the float32 array with `_float32(x)`.
        2. Compute the element-wise maximum with 0.
        3. Return it wrapped in a Tensor.

        EXAMPLE:
        >>> ReLU()(Tensor([-2.0, 0.0, 3.0]))
        Tensor([0., 0., 3.], shape=(3,), dtype=float32)

        HINTS:
        - `np.maximum(array, 0)` keeps float32 (a Python 0 does not promote).
        """
        ### BEGIN SOLUTION
        return Tensor(np.maximum(_float32(x), 0))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-relu", "locked": true, "points": 20, "schema_version": 3, "solution": false}
def test_unit_relu():
    relu = ReLU()
    out = relu(Tensor([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]]))
    assert isinstance(out, Tensor) and out.shape == (2, 3) and out.dtype == np.float32
    assert np.array_equal(out.data, [[0, 0, 0], [0.5, 1, 3]])
    assert relu.parameters() == []
    data = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32)
    assert np.array_equal(relu.forward(Tensor(data)).data, np.where(data > 0, data, 0))
    ### BEGIN HIDDEN TESTS
    original = data.copy()
    relu(Tensor(data))
    assert np.array_equal(data, original), "ReLU must not change its input"
    ### END HIDDEN TESTS
    print("✅ ReLU: zeroes negatives, keeps shape and float32")


if __name__ == "__main__":
    test_unit_relu()


# %% [markdown]
# ## Sigmoid: `1 / (1 + e^-x)`
#
# Sigmoid squashes any number into (0, 1), which reads as a probability. Written naively
# it overflows: for `x = -1000`, `e^-x = e^1000` is far beyond float32's largest number
# (about 3.4e38), and NumPy warns. The stable form never exponentiates a positive number:
# with `z = e^-|x|`, which is always in (0, 1],
#
# - for `x ≥ 0`: `sigmoid(x) = 1 / (1 + z)`
# - for `x < 0`: `sigmoid(x) = z / (1 + z)`

# %% nbgrader={"grade": false, "grade_id": "sigmoid", "locked": false, "schema_version": 3, "solution": true}
#| export
class Sigmoid(Activation):
    """Logistic function 1 / (1 + exp(-x)), computed without overflow."""

    def forward(self, x: Tensor) -> Tensor:
        """Return sigmoid(x) as a new float32 Tensor, stable for any input.

        TODO: compute the sigmoid with the stable two-branch formula above.

        APPROACH:
        1. `data = _float32(x)`; `z = np.exp(-np.abs(data))`.
        2. Where `data >= 0`, the result is `1 / (1 + z)`; elsewhere `z / (1 + z)`.
        3. Return the result in a Tensor.

        EXAMPLE:
        >>> Sigmoid()(Tensor([-1000.0, 0.0, 1000.0]))
        Tensor([0. , 0.5, 1. ], shape=(3,), dtype=float32)

        HINTS:
        - `np.where(condition, a, b)` picks element by element.
        - Use float32 constants (`np.float32(1)`) so nothing is promoted.
        """
        ### BEGIN SOLUTION
        data = _float32(x)
        z = np.exp(-np.abs(data))
        one = np.float32(1)
        return Tensor(np.where(data >= 0, one / (one + z), z / (one + z)))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-sigmoid", "locked": true, "points": 20, "schema_version": 3, "solution": false}
def test_unit_sigmoid():
    import warnings

    sigmoid = Sigmoid()
    values = np.array([-3.0, -1.0, 0.0, 1.0, 3.0], dtype=np.float32)
    out = sigmoid(Tensor(values))
    assert out.shape == (5,) and out.dtype == np.float32
    assert np.allclose(out.data, 1 / (1 + np.exp(-values.astype(np.float64))), atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        extreme = sigmoid(Tensor([-1000.0, 1000.0])).data
    assert extreme[0] == 0.0 and extreme[1] == 1.0, extreme
    assert sigmoid.parameters() == []
    print("✅ Sigmoid: correct values, no overflow at ±1000")


if __name__ == "__main__":
    test_unit_sigmoid()


# %% [markdown]
# ## Tanh
#
# `tanh(x)` squashes into (-1, 1) and is centred on zero. NumPy's `np.tanh` is already
# stable for large inputs.

# %% nbgrader={"grade": false, "grade_id": "tanh", "locked": false, "schema_version": 3, "solution": true}
#| export
class Tanh(Activation):
    """Hyperbolic tangent, element by element."""

    def forward(self, x: Tensor) -> Tensor:
        """Return tanh(x) as a new float32 Tensor.

        TODO: apply the hyperbolic tangent.

        APPROACH:
        1. `data = _float32(x)`.
        2. Return `Tensor(np.tanh(data))`.

        EXAMPLE:
        >>> Tanh()(Tensor([0.0, 100.0]))
        Tensor([0., 1.], shape=(2,), dtype=float32)

        HINTS:
        - Check the extremes: tanh(±100) must be exactly ±1, not NaN.
        """
        ### BEGIN SOLUTION
        return Tensor(np.tanh(_float32(x)))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-tanh", "locked": true, "points": 15, "schema_version": 3, "solution": false}
def test_unit_tanh():
    values = np.linspace(-4, 4, 9, dtype=np.float32)
    out = Tanh()(Tensor(values))
    assert out.shape == (9,) and out.dtype == np.float32
    assert np.allclose(out.data, np.tanh(values), atol=1e-6)
    assert np.array_equal(Tanh()(Tensor([-100.0, 100.0])).data, [-1.0, 1.0])
    assert np.allclose(out.data, -Tanh()(Tensor(-values)).data), "tanh is odd: tanh(-x) = -tanh(x)"
    print("✅ Tanh: correct values, saturates at ±1")


if __name__ == "__main__":
    test_unit_tanh()


# %% [markdown]
# ## GELU
#
# The Gaussian error linear unit, used by BERT and GPT, weights each input by the
# probability that a standard normal variable is below it:
# `GELU(x) = x · Φ(x) = 0.5 · x · (1 + erf(x / √2))`. It is a smooth ReLU: negative inputs
# are mostly, not completely, suppressed. `GELU(1) = Φ(1) ≈ 0.8413`.
#
# NumPy has no `erf`, so the helper `_erf` below (given) uses the rational approximation
# 7.1.26 of Abramowitz and Stegun, accurate to about 1.5e-7, which is below float32's
# resolution near 1.

# %% nbgrader={"grade": false, "grade_id": "gelu", "locked": false, "schema_version": 3, "solution": true}
#| export
_ERF_P = np.float32(0.3275911)
_ERF_A = [np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)]


def _erf(data: np.ndarray) -> np.ndarray:
    """Error function of a float32 array (Abramowitz & Stegun 7.1.26)."""
    sign = np.sign(data)
    a = np.minimum(np.abs(data), np.float32(10))  # erf(10) is 1 in float32; avoids a*a overflow
    t = np.float32(1) / (np.float32(1) + _ERF_P * a)
    poly = t * (_ERF_A[0] + t * (_ERF_A[1] + t * (_ERF_A[2] + t * (_ERF_A[3] + t * _ERF_A[4]))))
    return sign * (np.float32(1) - poly * np.exp(-a * a))


class GELU(Activation):
    """Gaussian error linear unit: x * Phi(x), with the exact (erf) form."""

    def forward(self, x: Tensor) -> Tensor:
        """Return 0.5 * x * (1 + erf(x / sqrt(2))) as a new float32 Tensor.

        TODO: implement GELU with the `_erf` helper.

        APPROACH:
        1. `data = _float32(x)`.
        2. Compute `erf(data / sqrt(2))` with `_erf`.
        3. Return `0.5 * data * (1 + that)` in a Tensor.

        EXAMPLE:
        >>> GELU()(Tensor([1.0]))
        Tensor([0.8413], shape=(1,), dtype=float32)

        HINTS:
        - `np.float32(1 / math.sqrt(2))` keeps the division in float32.
        """
        ### BEGIN SOLUTION
        data = _float32(x)
        half = np.float32(0.5)
        return Tensor(half * data * (np.float32(1) + _erf(data * np.float32(1 / math.sqrt(2)))))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-gelu", "locked": true, "points": 15, "schema_version": 3, "solution": false}
def test_unit_gelu():
    gelu = GELU()
    assert abs(float(gelu(Tensor([1.0])).data[0]) - 0.8413) < 1e-4
    values = np.linspace(-5, 5, 41, dtype=np.float32)
    out = gelu(Tensor(values))
    assert out.shape == values.shape and out.dtype == np.float32
    reference = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in values.tolist()])
    assert np.allclose(out.data, reference, atol=1e-5)
    ### BEGIN HIDDEN TESTS
    assert float(gelu(Tensor([0.0])).data[0]) == 0.0
    assert np.allclose(gelu(Tensor([-10.0, 10.0])).data, [0.0, 10.0], atol=1e-5)
    ### END HIDDEN TESTS
    print("✅ GELU: matches x·Φ(x); GELU(1) ≈ 0.8413")


if __name__ == "__main__":
    test_unit_gelu()


# %% [markdown]
# ## Softmax
#
# Softmax turns a row of scores into probabilities: `exp(x_i) / Σ_j exp(x_j)`. The naive
# form overflows for scores of 1000, because `e^1000` is infinite and `inf / inf` is NaN.
# Subtracting the row's maximum first changes nothing mathematically (the factor
# `e^-max` cancels) but makes the largest exponent `e^0 = 1`. `Softmax(dim=-1)` works
# along the last dimension by default.

# %% nbgrader={"grade": false, "grade_id": "softmax", "locked": false, "schema_version": 3, "solution": true}
#| export
class Softmax(Activation):
    """Softmax along one dimension, with the maximum subtracted for stability."""

    def __init__(self, dim: int = -1):
        self.dim = dim

    def __repr__(self) -> str:
        return f"Softmax(dim={self.dim})"

    def forward(self, x: Tensor) -> Tensor:
        """Return softmax(x) along `self.dim` as a new float32 Tensor.

        TODO: subtract the max, exponentiate, divide by the sum, all along `self.dim`.

        APPROACH:
        1. `data = _float32(x)`.
        2. `shifted = data - data.max(axis=self.dim, keepdims=True)`.
        3. `exps = np.exp(shifted)`.
        4. Return `exps / exps.sum(axis=self.dim, keepdims=True)` in a Tensor.

        EXAMPLE:
        >>> Softmax()(Tensor([[1000.0, 1000.0]]))
        Tensor([[0.5, 0.5]], shape=(1, 2), dtype=float32)

        HINTS:
        - `keepdims=True` keeps the reduced dimension so the shapes broadcast.
        """
        ### BEGIN SOLUTION
        data = _float32(x)
        exps = np.exp(data - data.max(axis=self.dim, keepdims=True))
        exps /= exps.sum(axis=self.dim, keepdims=True)
        return Tensor(exps)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-softmax", "locked": true, "points": 20, "schema_version": 3, "solution": false}
def test_unit_softmax():
    import warnings

    scores = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Softmax()(Tensor(scores))
    assert out.shape == (2, 3) and out.dtype == np.float32
    assert np.allclose(out.data.sum(axis=-1), 1.0, atol=1e-6)
    expected = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    assert np.allclose(out.data[0], expected, atol=1e-6)
    assert np.allclose(out.data[1], 1 / 3, atol=1e-6)
    columns = Softmax(dim=0)(Tensor(scores[:1].T))
    assert np.allclose(columns.data[:, 0], expected, atol=1e-6)
    ### BEGIN HIDDEN TESTS
    cube = np.random.default_rng(3).standard_normal((2, 3, 4)).astype(np.float32) * 50
    assert np.allclose(Softmax(dim=1)(Tensor(cube)).data.sum(axis=1), 1.0, atol=1e-5)
    ### END HIDDEN TESTS
    print("✅ Softmax: rows sum to 1, stable at 1000, any dim")


if __name__ == "__main__":
    test_unit_softmax()


# %% [markdown]
# ## Putting it together
#
# A classifier ends with `Softmax` over a hidden layer's activations. The cell below runs
# a tiny hand-built network with your Tensor and activations: it checks that they compose,
# not each one again.

# %% nbgrader={"grade": true, "grade_id": "test-integration", "locked": true, "points": 10, "schema_version": 3, "solution": false}
def test_integration_activations():
    rng = np.random.default_rng(7)
    x = Tensor(rng.standard_normal((16, 8)).astype(np.float32))
    w1 = Tensor(rng.standard_normal((8, 6)).astype(np.float32))
    w2 = Tensor(rng.standard_normal((6, 3)).astype(np.float32))
    chain = [ReLU(), Tanh(), Sigmoid(), GELU()]
    hidden = x @ w1
    for activation in chain:
        hidden = activation(hidden)
        assert hidden.shape == (16, 6) and hidden.dtype == np.float32
    probabilities = Softmax()(hidden @ w2)
    assert probabilities.shape == (16, 3)
    assert np.allclose(probabilities.data.sum(axis=1), 1.0, atol=1e-5)
    assert all(activation.parameters() == [] for activation in chain)
    print("✅ integration: activations compose into a classifier head")


if __name__ == "__main__":
    test_integration_activations()


# %% [markdown]
# ## What it costs, and what comes next
#
# Each activation reads its input once and writes a new output of the same size: for a
# `(32, 256)` float32 batch that is 32 KiB read and 32 KiB written, and a handful of
# arithmetic operations per number. Sigmoid, GELU and Softmax call `exp`, which is a few
# times dearer than ReLU's comparison, but all of them are dwarfed by the matrix product
# of the layer before: `(32, 784) @ (784, 256)` does 784 multiply-adds per output number.
#
# **Next, Module 03 (Layers)** builds `Linear`, `Dropout` and `Sequential`, and stacks
# them with these activations into a real network. Run
# `tito module complete 02_activations` to export your activations for it.
