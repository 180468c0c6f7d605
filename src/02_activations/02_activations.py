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
# **How to check your work:** run each test cell (✅ means its visible checks passed; ❌
# says what was expected and what your code gave), then `tito module test 02_activations`
# in a terminal for the score your instructor will see (it adds *hidden checks*: the same
# requirements, stated in the text, on other inputs), and
# `tito module complete 02_activations` to export your code into `tinytorch`. Each graded
# cell checks one activation, so one mistake costs points in one cell.
#
# **Points (100 in all).** What an activation computes carries most of its points; its
# `TypeError` for an input that is not a Tensor has its own, smaller test cell:
#
# | Activation | What it computes | Refusing a non-Tensor |
# |------------|------------------|-----------------------|
# | `ReLU` | 17 (`test-relu`) | 3 (`test-relu-errors`) |
# | `Sigmoid` | 17 (`test-sigmoid`) | 3 (`test-sigmoid-errors`) |
# | `Tanh` | 13 (`test-tanh`) | 2 (`test-tanh-errors`) |
# | `GELU` | 13 (`test-gelu`) | 2 (`test-gelu-errors`) |
# | `Softmax` | 17 (`test-softmax`) | 3 (`test-softmax-errors`) |
# | all together | 10 (`test-integration`) | |

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
# ## The checks every activation must pass
#
# The test cells below check the same basic rules, stated once here:
#
# - `forward(x)` (and `activation(x)`) returns a **new** float32 Tensor of the **same
#   shape**: it never shares memory with the input and never changes it;
# - a float64 Tensor as input still gives a float32 output;
# - no intermediate may overflow: for every finite float32 input, as large as ±3.4e38,
#   `Sigmoid`, `Tanh` and `GELU` give finite results without any NumPy warning
#   (these three, with each activation's values: its behaviour cell, `test-relu` etc.);
# - a non-Tensor input (a NumPy array, a list) is a `TypeError` whose message names the
#   type received; the given helper `_float32(x)` raises it and gives you the float32
#   array of a Tensor (each activation's `-errors` cell, `test-relu-errors` etc.).

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

        TODO:
        Zero the negative numbers, keep the rest.

        APPROACH:
        1. Get the float32 array of the input with the given helper.
        2. Take the element-wise maximum of the array and zero: a new array.
        3. Return it as a Tensor.

        EXAMPLE:
        >>> ReLU()(Tensor([-2.0, 0.0, 3.0]))
        Tensor([0., 0., 3.], shape=(3,), dtype=float32)

        HINTS:
        - NumPy has an element-wise maximum of two arrays (or an array and a number); a
          Python 0 does not change the float32 dtype.
        - Do not write into the input's array.
        """
        ### BEGIN SOLUTION
        return Tensor(np.maximum(_float32(x), 0))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-relu", "locked": true, "points": 17, "schema_version": 3, "solution": false}
def test_unit_relu():
    def check_basics(activation, name):
        data = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32)
        before = data.copy()
        out = activation(Tensor(data))
        assert isinstance(out, Tensor) and out.shape == (5, 7) and out.dtype == np.float32, \
            f"{name} of a (5, 7) float32 Tensor should be a float32 Tensor of shape (5, 7), got {out!r:.80}"
        assert not np.shares_memory(out.data, data) and np.array_equal(data, before), \
            f"{name} should return a new array and leave its input unchanged, got {'shared memory' if np.shares_memory(out.data, data) else 'the input changed'}"
        wide = activation(Tensor(data, dtype=np.float64))
        assert wide.dtype == np.float32, f"{name} of a float64 Tensor should be float32, got {wide.dtype}"
        return data, out

    relu = ReLU()
    data, out = check_basics(relu, "ReLU")
    assert np.array_equal(out.data, np.where(data > 0, data, 0)), f"ReLU should zero the negatives of a random (5, 7) batch, got {out.data[0].tolist()} for row 0"
    small = relu(Tensor([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]]))
    assert small.data.tolist() == [[0, 0, 0], [0.5, 1, 3]], f"ReLU([[-2, -0.5, 0], [0.5, 1, 3]]) should be [[0, 0, 0], [0.5, 1, 3]], got {small.data.tolist()}"
    assert relu.parameters() == [], f"ReLU has no parameters, got {relu.parameters()!r}"
    ### BEGIN HIDDEN TESTS
    cube = np.random.default_rng(5).standard_normal((2, 3, 4)).astype(np.float32)
    got = relu.forward(Tensor(cube))
    assert got.shape == (2, 3, 4) and np.array_equal(got.data, np.maximum(cube, 0)), \
        f"hidden check: ReLU.forward of a (2, 3, 4) batch should be max(0, x), got shape {got.shape}"
    ### END HIDDEN TESTS
    print("✅ ReLU: visible checks passed (zeroes negatives, new float32 Tensor). "
          "tito module test adds hidden checks.")


test_unit_relu()


# %% nbgrader={"grade": true, "grade_id": "test-relu-errors", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def test_unit_relu_errors():
    from tito.inline import expect_error  # the refused call's error, or what it did instead

    for bad, what in [(np.ones((2, 3), dtype=np.float32), "a NumPy array"), ([1.0, -1.0], "a list")]:
        kind = type(bad).__name__
        error = expect_error(TypeError, f"ReLU of {what}", lambda bad=bad: ReLU()(bad))
        assert kind in str(error), f"ReLU's TypeError should name the type received ({kind}), got {str(error)!r}"
    print("✅ ReLU errors: every check passed (a TypeError naming the type received, for an ndarray and a list)")


test_unit_relu_errors()


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
#
# The requirements: values within 1e-6 of the exact sigmoid, `sigmoid(0) = 0.5`, exactly 0
# and 1 at -1000 and 1000, and no warning for any finite input.

# %% nbgrader={"grade": false, "grade_id": "sigmoid", "locked": false, "schema_version": 3, "solution": true}
#| export
class Sigmoid(Activation):
    """Logistic function 1 / (1 + exp(-x)), computed without overflow."""

    def forward(self, x: Tensor) -> Tensor:
        """Return sigmoid(x) as a new float32 Tensor, stable for any input.

        TODO:
        Compute the sigmoid with the stable two-branch formula above.

        APPROACH:
        1. Get the float32 array of the input with the given helper.
        2. Compute `z = e^-|x|` once for all elements: it never overflows.
        3. Build both branches from `z` and pick, element by element, the branch that
           matches the sign of the input.
        4. Return the result as a Tensor.

        EXAMPLE:
        >>> Sigmoid()(Tensor([-1000.0, 0.0, 1000.0]))
        Tensor([0. , 0.5, 1. ], shape=(3,), dtype=float32)

        HINTS:
        - NumPy has a function that chooses between two arrays with a condition.
        - Use float32 constants (`np.float32(1)`) so nothing is promoted to float64.
        """
        ### BEGIN SOLUTION
        data = _float32(x)
        z = np.exp(-np.abs(data))
        one = np.float32(1)
        return Tensor(np.where(data >= 0, one / (one + z), z / (one + z)))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-sigmoid", "locked": true, "points": 17, "schema_version": 3, "solution": false}
def test_unit_sigmoid():
    import warnings

    def check_basics(activation, name):
        data = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32) * 3
        before = data.copy()
        out = activation(Tensor(data))
        assert isinstance(out, Tensor) and out.shape == (5, 7) and out.dtype == np.float32, \
            f"{name} of a (5, 7) float32 Tensor should be a float32 Tensor of shape (5, 7), got {out!r:.80}"
        assert not np.shares_memory(out.data, data) and np.array_equal(data, before), \
            f"{name} should return a new array and leave its input unchanged, got {'shared memory' if np.shares_memory(out.data, data) else 'the input changed'}"
        wide = activation(Tensor(data, dtype=np.float64))
        assert wide.dtype == np.float32, f"{name} of a float64 Tensor should be float32, got {wide.dtype}"
        return data, out

    sigmoid = Sigmoid()
    data, out = check_basics(sigmoid, "Sigmoid")
    exact = 1 / (1 + np.exp(-data.astype(np.float64)))
    assert np.allclose(out.data, exact, atol=1e-6), f"Sigmoid should match 1 / (1 + e^-x) within 1e-6, got max difference {np.max(np.abs(out.data - exact)):.3g}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            extreme = sigmoid(Tensor([-1000.0, 0.0, 1000.0])).data
            huge = sigmoid(Tensor(np.array([-3.4e38, -1e20, 1e20, 3.4e38], dtype=np.float32))).data
        except Warning as warning:
            raise AssertionError(f"Sigmoid of large inputs should not warn, got {type(warning).__name__}: {warning}") from None
    assert extreme.tolist() == [0.0, 0.5, 1.0] or (extreme[0] == 0 and extreme[2] == 1 and abs(extreme[1] - 0.5) < 1e-6), \
        f"Sigmoid at -1000, 0, 1000 should be exactly 0, 0.5, 1, got {extreme.tolist()}"
    assert huge.tolist() == [0.0, 0.0, 1.0, 1.0], f"Sigmoid at ±1e20 and ±3.4e38 should be 0 or 1, got {huge.tolist()}"
    ### BEGIN HIDDEN TESTS
    values = np.linspace(-20, 20, 81, dtype=np.float32)
    got = sigmoid.forward(Tensor(values)).data
    assert np.allclose(got, 1 / (1 + np.exp(-values.astype(np.float64))), atol=1e-6), \
        f"hidden check: Sigmoid on [-20, 20] should match the exact values within 1e-6, got max difference {np.max(np.abs(got - 1 / (1 + np.exp(-values.astype(np.float64))))):.3g}"
    ### END HIDDEN TESTS
    print("✅ Sigmoid: visible checks passed (correct values, no overflow at ±1000 or ±3.4e38). "
          "tito module test adds hidden checks.")


test_unit_sigmoid()


# %% nbgrader={"grade": true, "grade_id": "test-sigmoid-errors", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def test_unit_sigmoid_errors():
    from tito.inline import expect_error  # the refused call's error, or what it did instead

    for bad, what in [(np.ones((2, 3), dtype=np.float32), "a NumPy array"), ([1.0, -1.0], "a list")]:
        kind = type(bad).__name__
        error = expect_error(TypeError, f"Sigmoid of {what}", lambda bad=bad: Sigmoid()(bad))
        assert kind in str(error), f"Sigmoid's TypeError should name the type received ({kind}), got {str(error)!r}"
    print("✅ Sigmoid errors: every check passed (a TypeError naming the type received, for an ndarray and a list)")


test_unit_sigmoid_errors()


# %% [markdown]
# ## Tanh
#
# `tanh(x)` squashes into (-1, 1) and is centred on zero. NumPy's `np.tanh` is already
# stable for large inputs. The requirements: values within 1e-6 of the exact tanh, and
# exactly ±1 at ±100.

# %% nbgrader={"grade": false, "grade_id": "tanh", "locked": false, "schema_version": 3, "solution": true}
#| export
class Tanh(Activation):
    """Hyperbolic tangent, element by element."""

    def forward(self, x: Tensor) -> Tensor:
        """Return tanh(x) as a new float32 Tensor.

        TODO:
        Apply the hyperbolic tangent.

        APPROACH:
        1. Get the float32 array of the input with the given helper.
        2. Apply NumPy's hyperbolic tangent, which is stable for any input.
        3. Return the result as a Tensor.

        EXAMPLE:
        >>> Tanh()(Tensor([0.0, 100.0]))
        Tensor([0., 1.], shape=(2,), dtype=float32)

        HINTS:
        - Writing it out with `exp` overflows for large inputs: let NumPy do it.
        """
        ### BEGIN SOLUTION
        return Tensor(np.tanh(_float32(x)))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-tanh", "locked": true, "points": 13, "schema_version": 3, "solution": false}
def test_unit_tanh():
    import warnings

    def check_basics(activation, name):
        data = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32) * 3
        before = data.copy()
        out = activation(Tensor(data))
        assert isinstance(out, Tensor) and out.shape == (5, 7) and out.dtype == np.float32, \
            f"{name} of a (5, 7) float32 Tensor should be a float32 Tensor of shape (5, 7), got {out!r:.80}"
        assert not np.shares_memory(out.data, data) and np.array_equal(data, before), \
            f"{name} should return a new array and leave its input unchanged, got {'shared memory' if np.shares_memory(out.data, data) else 'the input changed'}"
        wide = activation(Tensor(data, dtype=np.float64))
        assert wide.dtype == np.float32, f"{name} of a float64 Tensor should be float32, got {wide.dtype}"
        return data, out

    tanh = Tanh()
    data, out = check_basics(tanh, "Tanh")
    assert np.allclose(out.data, np.tanh(data.astype(np.float64)), atol=1e-6), \
        f"Tanh should match np.tanh within 1e-6, got max difference {np.max(np.abs(out.data - np.tanh(data.astype(np.float64)))):.3g}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            edges = tanh(Tensor([-100.0, 100.0])).data
            huge = tanh(Tensor(np.array([-3.4e38, 3.4e38], dtype=np.float32))).data
        except Warning as warning:
            raise AssertionError(f"Tanh of large inputs should not warn, got {type(warning).__name__}: {warning}") from None
    assert edges.tolist() == [-1.0, 1.0] and huge.tolist() == [-1.0, 1.0], \
        f"Tanh at ±100 and ±3.4e38 should be exactly ±1, got {edges.tolist()} and {huge.tolist()}"
    mirrored = tanh(Tensor(-data)).data
    assert np.allclose(out.data, -mirrored), "tanh is odd: tanh(-x) should be -tanh(x), got other values"
    print("✅ Tanh: every check passed (correct values, saturates at ±1, new float32 Tensor)")


test_unit_tanh()


# %% nbgrader={"grade": true, "grade_id": "test-tanh-errors", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def test_unit_tanh_errors():
    from tito.inline import expect_error  # the refused call's error, or what it did instead

    for bad, what in [(np.ones((2, 3), dtype=np.float32), "a NumPy array"), ([1.0, -1.0], "a list")]:
        kind = type(bad).__name__
        error = expect_error(TypeError, f"Tanh of {what}", lambda bad=bad: Tanh()(bad))
        assert kind in str(error), f"Tanh's TypeError should name the type received ({kind}), got {str(error)!r}"
    print("✅ Tanh errors: every check passed (a TypeError naming the type received, for an ndarray and a list)")


test_unit_tanh_errors()


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
# resolution near 1. The requirements: within 1e-5 of the exact (erf) GELU, `GELU(0) = 0`,
# and finite, warning-free results for every finite input. (The popular `tanh`
# approximation is off by up to about 5e-4: it does not pass.)

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

        TODO:
        Implement GELU with the given `_erf` helper.

        APPROACH:
        1. Get the float32 array of the input with the given helper.
        2. Divide it by √2 and take the error function of that with `_erf`.
        3. Combine as in the formula above: one half, times the input, times one plus the
           error function.
        4. Return the result as a Tensor.

        EXAMPLE:
        >>> GELU()(Tensor([1.0]))
        Tensor([0.8413], shape=(1,), dtype=float32)

        HINTS:
        - Keep every constant float32 (`np.float32(...)`), or NumPy may promote to float64.
        - Order matters near 3.4e38: multiply by one half before anything that could
          double the input.
        """
        ### BEGIN SOLUTION
        data = _float32(x)
        half = np.float32(0.5)
        return Tensor(half * data * (np.float32(1) + _erf(data * np.float32(1 / math.sqrt(2)))))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-gelu", "locked": true, "points": 13, "schema_version": 3, "solution": false}
def test_unit_gelu():
    import warnings

    def check_basics(activation, name):
        data = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32) * 3
        before = data.copy()
        out = activation(Tensor(data))
        assert isinstance(out, Tensor) and out.shape == (5, 7) and out.dtype == np.float32, \
            f"{name} of a (5, 7) float32 Tensor should be a float32 Tensor of shape (5, 7), got {out!r:.80}"
        assert not np.shares_memory(out.data, data) and np.array_equal(data, before), \
            f"{name} should return a new array and leave its input unchanged, got {'shared memory' if np.shares_memory(out.data, data) else 'the input changed'}"
        wide = activation(Tensor(data, dtype=np.float64))
        assert wide.dtype == np.float32, f"{name} of a float64 Tensor should be float32, got {wide.dtype}"
        return data, out

    def exact(values):
        return np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in values.ravel().tolist()]).reshape(values.shape)

    gelu = GELU()
    data, out = check_basics(gelu, "GELU")
    assert np.allclose(out.data, exact(data), atol=1e-5), \
        f"GELU should be x·Φ(x) within 1e-5, got max difference {np.max(np.abs(out.data - exact(data))):.3g}"
    one = float(gelu(Tensor([1.0])).data[0])
    assert abs(one - 0.8413) < 1e-4, f"GELU(1) should be about 0.8413, got {one:.5f}"
    values = np.linspace(-5, 5, 41, dtype=np.float32)
    got = gelu(Tensor(values)).data
    assert np.allclose(got, exact(values), atol=1e-5), f"GELU on [-5, 5] should match x·Φ(x) within 1e-5, got max difference {np.max(np.abs(got - exact(values))):.3g}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            huge = gelu(Tensor(np.array([-3.4e38, -1e20, 1e20, 3.4e38], dtype=np.float32))).data
        except Warning as warning:
            raise AssertionError(f"GELU of large inputs should not warn, got {type(warning).__name__}: {warning}") from None
    assert np.all(np.isfinite(huge)) and huge[3] > 1e38 and abs(huge[0]) < 1e-30, \
        f"GELU at ±1e20 and ±3.4e38 should be finite (≈0 for negatives, ≈x for positives), got {huge.tolist()}"
    ### BEGIN HIDDEN TESTS
    zero = float(gelu(Tensor([0.0])).data[0])
    assert zero == 0.0, f"hidden check: GELU(0) should be 0.0, got {zero}"
    edges = gelu(Tensor([-10.0, 10.0])).data
    assert np.allclose(edges, [0.0, 10.0], atol=1e-5), f"hidden check: GELU(-10), GELU(10) should be 0 and 10, got {edges.tolist()}"
    ### END HIDDEN TESTS
    print("✅ GELU: visible checks passed (matches x·Φ(x), GELU(1) ≈ 0.8413, finite for huge inputs). "
          "tito module test adds hidden checks.")


test_unit_gelu()


# %% nbgrader={"grade": true, "grade_id": "test-gelu-errors", "locked": true, "points": 2, "schema_version": 3, "solution": false}
def test_unit_gelu_errors():
    from tito.inline import expect_error  # the refused call's error, or what it did instead

    for bad, what in [(np.ones((2, 3), dtype=np.float32), "a NumPy array"), ([1.0, -1.0], "a list")]:
        kind = type(bad).__name__
        error = expect_error(TypeError, f"GELU of {what}", lambda bad=bad: GELU()(bad))
        assert kind in str(error), f"GELU's TypeError should name the type received ({kind}), got {str(error)!r}"
    print("✅ GELU errors: every check passed (a TypeError naming the type received, for an ndarray and a list)")


test_unit_gelu_errors()


# %% [markdown]
# ## Softmax
#
# Softmax turns a row of scores into probabilities: `exp(x_i) / Σ_j exp(x_j)`. The naive
# form overflows for scores of 1000, because `e^1000` is infinite and `inf / inf` is NaN.
# Subtracting the row's maximum first changes nothing mathematically (the factor
# `e^-max` cancels) but makes the largest exponent `e^0 = 1`. `Softmax(dim=-1)` works
# along the last dimension by default; any dimension, negative ones included, must work.
# The requirements: values within 1e-6 of the exact softmax, and no warning for scores as
# large as ±1000.

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

        TODO:
        Subtract the maximum, exponentiate, divide by the sum, all along `self.dim`.

        APPROACH:
        1. Get the float32 array of the input with the given helper.
        2. Find the maximum along `self.dim`, keeping that dimension (size 1) so that it
           broadcasts, and subtract it: now every exponent is at most 0.
        3. Exponentiate.
        4. Divide by the sum along the same dimension (kept again) and return a Tensor.

        EXAMPLE:
        >>> Softmax()(Tensor([[1000.0, 1000.0]]))
        Tensor([[0.5, 0.5]], shape=(1, 2), dtype=float32)
        >>> Softmax(dim=0)(Tensor([[1.0], [1.0]])).data.ravel()
        array([0.5, 0.5], dtype=float32)

        HINTS:
        - Reductions take `axis=` and `keepdims=`.
        - The exponentials are a fresh array: dividing into it in place saves memory.
        """
        ### BEGIN SOLUTION
        data = _float32(x)
        exps = np.exp(data - data.max(axis=self.dim, keepdims=True))
        exps /= exps.sum(axis=self.dim, keepdims=True)
        return Tensor(exps)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test-softmax", "locked": true, "points": 17, "schema_version": 3, "solution": false}
def test_unit_softmax():
    import warnings

    def check_basics(activation, name):
        data = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32) * 3
        before = data.copy()
        out = activation(Tensor(data))
        assert isinstance(out, Tensor) and out.shape == (5, 7) and out.dtype == np.float32, \
            f"{name} of a (5, 7) float32 Tensor should be a float32 Tensor of shape (5, 7), got {out!r:.80}"
        assert not np.shares_memory(out.data, data) and np.array_equal(data, before), \
            f"{name} should return a new array and leave its input unchanged, got {'shared memory' if np.shares_memory(out.data, data) else 'the input changed'}"
        wide = activation(Tensor(data, dtype=np.float64))
        assert wide.dtype == np.float32, f"{name} of a float64 Tensor should be float32, got {wide.dtype}"
        return data, out

    def exact(values, axis=-1):
        e = np.exp(values.astype(np.float64) - values.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    data, out = check_basics(Softmax(), "Softmax")
    assert np.allclose(out.data, exact(data), atol=1e-6), f"Softmax should match the exact values within 1e-6, got max difference {np.max(np.abs(out.data - exact(data))):.3g}"
    scores = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0], [-1000.0, 1000.0, 0.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            got = Softmax()(Tensor(scores)).data
        except Warning as warning:
            raise AssertionError(f"Softmax of scores of ±1000 should not warn, got {type(warning).__name__}: {warning}") from None
    assert np.allclose(got, exact(scores), atol=1e-6), f"Softmax of [[1, 2, 3], [1000]*3, [-1000, 1000, 0]] should be stable, got {np.round(got, 4).tolist()}"
    columns = Softmax(dim=0)(Tensor(scores[:1].T)).data
    assert np.allclose(columns, exact(scores[:1].T, axis=0), atol=1e-6), f"Softmax(dim=0) should normalise columns, got {columns.ravel().tolist()}"
    ### BEGIN HIDDEN TESTS
    cube = np.random.default_rng(3).standard_normal((2, 3, 4)).astype(np.float32) * 50
    for dim in (1, -3):
        got = Softmax(dim=dim)(Tensor(cube)).data
        assert np.allclose(got, exact(cube, axis=dim), atol=1e-6), \
            f"hidden check: Softmax(dim={dim}) of a (2, 3, 4) tensor should match the exact values, got sums {np.round(got.sum(axis=dim), 4).ravel().tolist()[:4]}"
    ### END HIDDEN TESTS
    print("✅ Softmax: visible checks passed (rows sum to 1, stable at ±1000, any dim). "
          "tito module test adds hidden checks.")


test_unit_softmax()


# %% nbgrader={"grade": true, "grade_id": "test-softmax-errors", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def test_unit_softmax_errors():
    from tito.inline import expect_error  # the refused call's error, or what it did instead

    for bad, what in [(np.ones((2, 3), dtype=np.float32), "a NumPy array"), ([1.0, -1.0], "a list")]:
        kind = type(bad).__name__
        error = expect_error(TypeError, f"Softmax of {what}", lambda bad=bad: Softmax()(bad))
        assert kind in str(error), f"Softmax's TypeError should name the type received ({kind}), got {str(error)!r}"
    print("✅ Softmax errors: every check passed (a TypeError naming the type received, for an ndarray and a list)")


test_unit_softmax_errors()


# %% [markdown]
# ## Putting it together
#
# A classifier ends with `Softmax` over a hidden layer's activations. The cell below runs
# a tiny hand-built network with your Tensor and activations: it checks that they compose,
# not each one again. It first checks, activation by activation, only what the head needs
# (a float32 Tensor of the input's shape, values in the right range). If exactly one falls
# short, it says which and passes without checking, so one mistake costs points in one
# cell only; with two or more, it fails too.

# %% nbgrader={"grade": true, "grade_id": "test-integration", "locked": true, "points": 10, "schema_version": 3, "solution": false}
def test_integration_activations():
    probe = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    ranges = {"ReLU": (0, 3), "Tanh": (-1, 1), "Sigmoid": (0, 1), "GELU": (-0.2, 3), "Softmax": (0, 1)}

    def part_works(activation):
        def check():
            out = activation.forward(Tensor(probe))
            assert isinstance(out, Tensor) and out.shape == (3, 4) and out.dtype == np.float32, \
                f"a float32 Tensor of shape (3, 4), got {type(out).__name__} {getattr(out, 'shape', '')}"
            low, high = ranges[type(activation).__name__]
            assert np.all((out.data >= low - 1e-6) & (out.data <= high + 1e-6)), \
                f"values in [{low}, {high}], got {out.data.min():.3g} to {out.data.max():.3g}"
        return check

    short = {}
    for name, make in [("ReLU", lambda: ReLU()), ("Tanh", lambda: Tanh()), ("Sigmoid", lambda: Sigmoid()),
                       ("GELU", lambda: GELU()), ("Softmax", lambda: Softmax())]:
        try:
            part_works(make())()
        except NotImplementedError:  # a stub, a deleted or a wrong part: each costs its own cell only
            short[name] = "is not implemented yet"
        except Exception as error:
            short[name] = "falls short: " + (str(error) or type(error).__name__).splitlines()[0][:120]
    listed = "; ".join(f"{part} {why}" for part, why in short.items())
    assert len(short) <= 1, \
        f"the integration check needs the parts to work: expected at most 1 activation falling short, got {len(short)}: {listed}"
    if short:
        (part, why), = short.items()
        print(f"⏭ integration not checked: {part} {why}. Fix it first; only its own cell costs points.")
        return

    rng = np.random.default_rng(7)
    x = Tensor(rng.standard_normal((16, 8)).astype(np.float32))
    w1 = Tensor(rng.standard_normal((8, 6)).astype(np.float32))
    w2 = Tensor(rng.standard_normal((6, 3)).astype(np.float32))
    chain = [ReLU(), Tanh(), Sigmoid(), GELU()]
    hidden = x @ w1
    for activation in chain:
        hidden = activation(hidden)
        assert hidden.shape == (16, 6) and hidden.dtype == np.float32, \
            f"{activation!r} in the chain should keep float32 (16, 6), got {hidden.dtype} {hidden.shape}"
    probabilities = Softmax()(hidden @ w2)
    assert probabilities.shape == (16, 3), f"the classifier head should give (16, 3) probabilities, got {probabilities.shape}"
    assert np.allclose(probabilities.data.sum(axis=1), 1.0, atol=1e-5), \
        f"each row of probabilities should sum to 1, got {np.round(probabilities.data.sum(axis=1), 4).tolist()[:4]}"
    print("✅ integration: every check passed (activations compose into a classifier head)")


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
