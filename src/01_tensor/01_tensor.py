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
# # Module 01: Tensor
#
# **What you will build:** the `Tensor` class that every later module stands on: an
# n-dimensional array of float32 numbers with arithmetic, broadcasting, matrix
# multiplication, reshaping and reductions.
#
# **Prerequisites:** Python and a first acquaintance with NumPy arrays.
#
# **How to check your work:** run each test cell as you go (a ✅ line means it passed),
# then run `tito module test 01_tensor` in a terminal: it grades your notebook exactly as
# your instructor will. `tito module complete 01_tensor` then exports your code into the
# `tinytorch` package, where Module 02 imports it from.
#
# Work through the notebook from top to bottom. Every place where you write code says
# `raise NotImplementedError(...)` until you replace it; the docstring above it says what
# to do (TODO), how (APPROACH), what it should give (EXAMPLE) and where to look (HINTS).

# %%
#| default_exp core.tensor
#| export
import numpy as np


# %%
# Each test cell prints one line: ✅ when its checks pass, ❌ with the reason when not.
from tito.inline import short_failures

short_failures()

# %% [markdown]
# ## Why a Tensor class?
#
# A neural network is mostly arithmetic on large blocks of numbers: a batch of 32 images of
# 28×28 pixels is a block of shape `(32, 784)`; the weights of a layer are a block of shape
# `(784, 256)`. A *tensor* is such a block with a shape. NumPy already stores and computes
# on these blocks in fast compiled code, so our `Tensor` wraps a NumPy array and adds
# the rules of a deep-learning library on top of it:
#
# - **one dtype, float32.** Four bytes a number is the default of every framework: half
#   the memory and bandwidth of float64, and enough precision for learning. A float32
#   `(784, 256)` weight matrix takes 784 × 256 × 4 = 802,816 bytes; in float64 it would be
#   twice that, and every pass over it would move twice the bytes.
# - **no needless copies.** Wrapping an array that is already float32 costs nothing: the
#   tensor shares the array's memory. Converting a Python list costs one pass over the
#   data.
# - **clear errors.** A shape mismatch deep inside a network should say which shapes
#   met, not just "operands could not be broadcast".
#
# Later modules add automatic differentiation; for now `requires_grad` is only a flag that
# travels with the tensor, and `grad` stays `None`.

# %% [markdown]
# ## Part 1: creating a tensor
#
# `Tensor(data)` must accept a Python number, a (nested) list, a NumPy array or another
# Tensor, and keep the numbers in `self.data` as a NumPy array. The class below is
# complete except for the places marked for you. The helper `_as_array` is where the
# conversion happens; read the docstring, then replace the stub.

# %% nbgrader={"grade": false, "grade_id": "tensor-class", "locked": false, "schema_version": 3, "solution": true}
#| export
_REJECTED_TYPES = (str, bytes, dict, set, type(None))


def _describe(data) -> str:
    """A short description of a value for error messages."""
    text = repr(data)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(data).__name__} {text}"


def _as_array(data, dtype=None) -> np.ndarray:
    """Convert `data` into a NumPy array of `dtype` (float32 when None).

    TODO: turn numbers, nested lists, arrays and Tensors into a NumPy array.

    APPROACH:
    1. If `data` is a Tensor, use its `.data` array.
    2. Refuse strings, bytes, dicts, sets and None with a TypeError that names what was
       received (the helper `_describe(data)` formats it).
    3. Convert with `np.asarray`. Ragged lists such as `[[1, 2], [3]]` make NumPy raise
       ValueError: raise your own ValueError that says the rows have different lengths.
    4. Refuse anything that is not numeric (`array.dtype.kind` not in "biuf") with a
       TypeError.
    5. Return the array cast to `dtype or np.float32`, copying only if needed
       (`astype(..., copy=False)`).

    EXAMPLE:
    >>> _as_array([[1, 2], [3, 4]]).dtype
    dtype('float32')
    >>> _as_array("hello")
    TypeError: Tensor data must be numeric; got str 'hello'

    HINTS:
    - `isinstance(data, _REJECTED_TYPES)` catches the non-numeric containers at once.
    - `np.asarray` of a list of strings gives dtype kind "U": step 4 catches it.
    """
    ### BEGIN SOLUTION
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, _REJECTED_TYPES):
        raise TypeError(f"Tensor data must be numeric; got {_describe(data)}")
    try:
        array = np.asarray(data)
    except ValueError as error:
        raise ValueError(
            f"Tensor data is ragged: every nested list must have the same length; "
            f"got {_describe(data)}"
        ) from error
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"Tensor data must be numeric; got {_describe(data)} (NumPy dtype {array.dtype})"
        )
    return array.astype(dtype or np.float32, copy=False)
    ### END SOLUTION


class Tensor:
    """An n-dimensional array of numbers, float32 unless told otherwise."""

    # Make NumPy hand `array + tensor` to Tensor.__radd__ instead of looping over it.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if dtype is None and type(data) is np.ndarray and data.dtype == np.float32:
            self.data = data  # already float32: share it, no copy
        else:
            self.data = _as_array(data, dtype)
        self.requires_grad = bool(requires_grad)
        self.grad = None

    # -- properties (given) ------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    def numpy(self) -> np.ndarray:
        """The underlying NumPy array (shared, not copied)."""
        return self.data

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor: it holds a single number")
        return len(self.data)

    def __getitem__(self, index):
        return Tensor(np.asarray(self.data[index]), requires_grad=self.requires_grad)

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, separator=", ", prefix="Tensor(")
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}, shape={self.shape}, dtype={self.dtype}{grad})"

    # -- Part 2: element-wise arithmetic ---------------------------------------------
    def _operand(self, other) -> np.ndarray:
        """The NumPy array to combine with `self.data`, in this tensor's dtype.

        TODO: turn the other operand of `+ - * /` into something NumPy can combine.

        APPROACH:
        1. A Tensor gives its `.data`.
        2. A Python int or float is returned as it is: NumPy keeps float32 results for
           Python scalars.
        3. Anything else goes through `_as_array(other, self.data.dtype)`, so that a
           float64 NumPy array is cast down and cannot promote the result to float64.

        EXAMPLE:
        >>> Tensor([1.0]) + np.array([2.0])        # float64 operand
        Tensor([3.], shape=(1,), dtype=float32)

        HINTS:
        - `isinstance(other, (int, float))` covers bool too, which is fine here.
        """
        ### BEGIN SOLUTION
        if isinstance(other, Tensor):
            return other.data
        if isinstance(other, (int, float)):
            return other
        return _as_array(other, self.data.dtype)
        ### END SOLUTION

    def _result(self, array: np.ndarray, other=None) -> "Tensor":
        """Wrap a result; it requires grad if either operand did."""
        needs_grad = self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)
        return Tensor(array, requires_grad=needs_grad)

    def __add__(self, other):
        return self._result(self.data + self._operand(other), other)

    def __radd__(self, other):
        return self._result(self._operand(other) + self.data, other)

    def __sub__(self, other):
        return self._result(self.data - self._operand(other), other)

    def __rsub__(self, other):
        return self._result(self._operand(other) - self.data, other)

    def __mul__(self, other):
        return self._result(self.data * self._operand(other), other)

    def __rmul__(self, other):
        return self._result(self._operand(other) * self.data, other)

    def __truediv__(self, other):
        return self._result(self.data / self._operand(other), other)

    def __rtruediv__(self, other):
        return self._result(self._operand(other) / self.data, other)

    def __neg__(self):
        return self._result(-self.data)

    # -- Part 3: matrix multiplication -------------------------------------------------
    def matmul(self, other) -> "Tensor":
        """Matrix product `self @ other`, following NumPy's rules for 1-D to N-D.

        TODO: compute the product, and explain a shape mismatch clearly.

        APPROACH:
        1. Get the other operand's array with `self._operand(other)`.
        2. Compute `np.matmul(self.data, other_array)` and wrap it with `self._result`.
        3. NumPy raises ValueError on a mismatch. Catch it and raise a ValueError that
           shows both shapes and the two inner dimensions: the last dimension of the left
           operand and the first (1-D) or second-to-last (N-D) dimension of the right.
           If the inner dimensions agree, the batch dimensions were at fault: say so.
           0-d operands cannot be multiplied as matrices: say that too.

        EXAMPLE:
        >>> Tensor(np.ones((32, 128))) @ Tensor(np.ones((256, 10)))
        ValueError: Cannot perform matrix multiplication: (32, 128) @ (256, 10).
        Inner dimensions must match: 128 ≠ 256

        HINTS:
        - Checking only after NumPy fails keeps the fast path free of Python checks.
        - `shape[-2 if len(shape) > 1 else 0]` picks the right operand's inner dimension.
        """
        ### BEGIN SOLUTION
        other_array = np.asarray(self._operand(other))
        try:
            product = np.matmul(self.data, other_array)
        except ValueError as error:
            raise ValueError(_matmul_error(self.shape, other_array.shape)) from error
        return self._result(product, other)
        ### END SOLUTION

    def __matmul__(self, other):
        return self.matmul(other)

    def __rmatmul__(self, other):
        return Tensor(self._operand(other)).matmul(self)

    # -- Part 4: shape manipulation ----------------------------------------------------
    def reshape(self, *shape) -> "Tensor":
        """A tensor with the same numbers in a new shape.

        TODO: accept `t.reshape(2, 3)` and `t.reshape((2, 3))`, with one -1 allowed.

        APPROACH:
        1. If a single tuple or list was passed, unpack it.
        2. Call `self.data.reshape(shape)`; NumPy works out a -1.
        3. Turn NumPy's ValueError into one that says the old shape, its size and the
           shape that was asked for.

        EXAMPLE:
        >>> Tensor(np.arange(6)).reshape(2, -1).shape
        (2, 3)

        HINTS:
        - `len(shape) == 1 and isinstance(shape[0], (tuple, list))`.
        """
        ### BEGIN SOLUTION
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            reshaped = self.data.reshape(shape)
        except ValueError as error:
            raise ValueError(
                f"Cannot reshape a tensor of shape {self.shape} (size {self.size}) "
                f"into shape {shape}"
            ) from error
        return Tensor(reshaped, requires_grad=self.requires_grad)
        ### END SOLUTION

    def transpose(self, dim0: int = -2, dim1: int = -1) -> "Tensor":
        """Swap two dimensions (the last two by default: the matrix transpose).

        TODO: swap `dim0` and `dim1`; a 0-d or 1-D tensor is returned unchanged.

        APPROACH:
        1. If `self.ndim < 2`, return a tensor of the same data.
        2. Otherwise use `np.swapaxes(self.data, dim0, dim1)`.

        EXAMPLE:
        >>> Tensor(np.zeros((2, 3))).transpose().shape
        (3, 2)

        HINTS:
        - `swapaxes` returns a view: no numbers are copied.
        """
        ### BEGIN SOLUTION
        if self.ndim < 2:
            return Tensor(self.data, requires_grad=self.requires_grad)
        return Tensor(np.swapaxes(self.data, dim0, dim1), requires_grad=self.requires_grad)
        ### END SOLUTION

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    # -- Part 5: reductions ---------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Sum over `axis` (all elements when None).

        TODO: implement `sum`, and `mean` and `max` below, the same way.

        APPROACH:
        1. Call the NumPy reduction on `self.data` with `axis` and `keepdims`.
        2. Wrap the result in a Tensor (`np.asarray` turns a NumPy scalar into a 0-d
           array, so the result is float32, not a Python float).

        EXAMPLE:
        >>> Tensor([[1, 2], [3, 4]]).sum(axis=0)
        Tensor([4., 6.], shape=(2,), dtype=float32)

        HINTS:
        - `np.sum`, `np.mean` and `np.max` all take `axis=` and `keepdims=`.
        """
        ### BEGIN SOLUTION
        return self._result(np.asarray(self.data.sum(axis=axis, keepdims=keepdims)))
        ### END SOLUTION

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        ### BEGIN SOLUTION
        return self._result(np.asarray(self.data.mean(axis=axis, keepdims=keepdims)))
        ### END SOLUTION

    def max(self, axis=None, keepdims: bool = False) -> "Tensor":
        ### BEGIN SOLUTION
        return self._result(np.asarray(self.data.max(axis=axis, keepdims=keepdims)))
        ### END SOLUTION


def _matmul_error(left: tuple, right: tuple) -> str:
    """Explain why `left @ right` cannot be computed."""
    if not left or not right:
        return (
            f"Cannot perform matrix multiplication: {left} @ {right}. "
            "Both operands need at least one dimension"
        )
    inner_left = left[-1]
    inner_right = right[-2] if len(right) > 1 else right[0]
    if inner_left != inner_right:
        return (
            f"Cannot perform matrix multiplication: {left} @ {right}. "
            f"Inner dimensions must match: {inner_left} ≠ {inner_right}"
        )
    return (
        f"Cannot perform matrix multiplication: {left} @ {right}. "
        f"Batch dimensions {left[:-2]} and {right[:-2]} cannot be broadcast together"
    )


# %% [markdown]
# ### Test: creating tensors
#
# Run the cell. It checks numbers, lists, arrays and Tensors as input, that float32 arrays
# are shared rather than copied, and that bad data is refused with a clear error.

# %% nbgrader={"grade": true, "grade_id": "test-creation", "locked": true, "points": 20, "schema_version": 3, "solution": false}
def test_unit_creation():
    scalar = Tensor(3)
    assert scalar.shape == () and scalar.dtype == np.float32, scalar
    nested = Tensor([[1, 2, 3], [4, 5, 6]])
    assert nested.shape == (2, 3) and nested.dtype == np.float32
    assert nested.size == 6 and nested.ndim == 2 and len(nested) == 2
    assert np.array_equal(nested.numpy(), np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))

    shared = np.ones((4, 4), dtype=np.float32)
    assert Tensor(shared).data is shared, "a float32 array must be wrapped without a copy"
    assert Tensor(np.ones(3, dtype=np.float64)).dtype == np.float32
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert np.array_equal(Tensor(nested).data, nested.data)

    flagged = Tensor([1.0], requires_grad=True)
    assert flagged.requires_grad is True and flagged.grad is None
    assert "shape=(2, 3)" in repr(nested)

    for bad in ["hello", {"a": 1}, None]:
        try:
            Tensor(bad)
        except TypeError as error:
            assert type(bad).__name__ in str(error), f"the error should name {type(bad).__name__}"
        else:
            raise AssertionError(f"Tensor({bad!r}) should raise TypeError")
    ### BEGIN HIDDEN TESTS
    try:
        Tensor([[1, 2], [3]])
    except ValueError as error:
        assert "ragged" in str(error) or "length" in str(error)
    else:
        raise AssertionError("a ragged list should raise ValueError")
    try:
        Tensor(["a", "b"])
    except TypeError:
        pass
    else:
        raise AssertionError("a list of strings should raise TypeError")
    ### END HIDDEN TESTS
    print("✅ creation: numbers, lists, arrays and bad input behave")


if __name__ == "__main__":
    test_unit_creation()


# %% [markdown]
# ## Part 2: arithmetic and broadcasting
#
# `+ - * /` work element by element. When shapes differ, NumPy *broadcasts*: it lines the
# shapes up from the right, and a dimension of size 1 (or a missing one) is stretched to
# match. A `(32, 256)` batch plus a `(256,)` bias adds the bias to every row, without ever
# making 32 copies of it in memory. Each operation reads both inputs once and writes one
# output: that is memory traffic, not arithmetic, and it is why element-wise operations are
# limited by memory bandwidth rather than by the processor.
#
# The operators are written for you; they all call `_operand` to turn the other side into
# an array. Implement `_operand` in the class above, re-run that cell, then this test.

# %% nbgrader={"grade": true, "grade_id": "test-arithmetic", "locked": true, "points": 20, "schema_version": 3, "solution": false}
def test_unit_arithmetic():
    a = Tensor([[1.0, 2.0], [3.0, 4.0]])
    b = Tensor([10.0, 20.0])
    assert np.allclose((a + b).data, [[11, 22], [13, 24]])
    assert np.allclose((a - b).data, [[-9, -18], [-7, -16]])
    assert np.allclose((a * 2).data, [[2, 4], [6, 8]])
    assert np.allclose((a / 2).data, [[0.5, 1], [1.5, 2]])
    assert np.allclose((1 - a).data, [[0, -1], [-2, -3]])
    assert np.allclose((2 / a).data, [[2, 1], [2 / 3, 0.5]])
    assert np.allclose((-a).data, [[-1, -2], [-3, -4]])
    from_numpy = np.ones(2) + a
    assert isinstance(from_numpy, Tensor), "array + Tensor should give a Tensor"
    for result in [a + np.ones(2), a * np.float64(3), np.ones((2, 2)) * a, a + b]:
        assert result.dtype == np.float32, f"results must stay float32, got {result.dtype}"
    print("✅ arithmetic: + - * / with broadcasting, float32 preserved")


if __name__ == "__main__":
    test_unit_arithmetic()


# %% [markdown]
# ## Part 3: matrix multiplication
#
# `x @ W` is the heart of every layer you will build. For `(batch, n) @ (n, m)` it costs
# `batch × n × m` multiply-adds, and each number fetched from memory is used many times:
# this is the rare operation that keeps the processor's arithmetic units busy. NumPy hands
# it to BLAS, a library tuned for exactly this. Your job is the interface: follow NumPy's
# rules for 1-D, 2-D and batched operands, and explain a mismatch clearly.

# %% nbgrader={"grade": true, "grade_id": "test-matmul", "locked": true, "points": 20, "schema_version": 3, "solution": false}
def test_unit_matmul():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    w = rng.standard_normal((3, 5)).astype(np.float32)
    product = Tensor(x) @ Tensor(w)
    assert product.shape == (4, 5) and product.dtype == np.float32
    assert np.allclose(product.data, x @ w, atol=1e-6)
    assert np.allclose(Tensor(x).matmul(w).data, x @ w, atol=1e-6)
    assert (Tensor(w[:, 0]) @ Tensor(w)).shape == (5,)
    batched = rng.standard_normal((2, 4, 3)).astype(np.float32)
    assert np.allclose((Tensor(batched) @ Tensor(w)).data, batched @ w, atol=1e-6)
    try:
        Tensor(np.ones((32, 128))) @ Tensor(np.ones((256, 10)))
    except ValueError as error:
        message = str(error)
        assert "(32, 128)" in message and "(256, 10)" in message, message
        assert "128" in message and "256" in message and "Inner dimensions" in message, message
    else:
        raise AssertionError("a shape mismatch should raise ValueError")
    ### BEGIN HIDDEN TESTS
    try:
        Tensor(np.ones(3)) @ Tensor(np.ones(4))
    except ValueError as error:
        assert "3" in str(error) and "4" in str(error)
    else:
        raise AssertionError("mismatched vectors should raise ValueError")
    ### END HIDDEN TESTS
    print("✅ matmul: 1-D, 2-D and batched products, clear shape errors")


if __name__ == "__main__":
    test_unit_matmul()


# %% [markdown]
# ## Part 4: reshape and transpose
#
# Reshaping changes how the same numbers are read, not the numbers: a `(32, 28, 28)` batch
# of images becomes `(32, 784)` for a Linear layer. Both `reshape` of a contiguous array
# and `transpose` are *views*: they cost no copy, only a new shape and new strides.

# %% nbgrader={"grade": true, "grade_id": "test-shape", "locked": true, "points": 15, "schema_version": 3, "solution": false}
def test_unit_shape():
    t = Tensor(np.arange(12))
    assert t.reshape(3, 4).shape == (3, 4)
    assert t.reshape((2, 6)).shape == (2, 6)
    assert t.reshape(2, -1, 3).shape == (2, 2, 3)
    assert np.array_equal(t.reshape(3, 4).data, np.arange(12).reshape(3, 4))
    try:
        t.reshape(5, 5)
    except ValueError as error:
        assert "(12,)" in str(error) or "12" in str(error)
    else:
        raise AssertionError("reshape to a different size should raise ValueError")
    m = Tensor([[1, 2, 3], [4, 5, 6]])
    assert m.T.shape == (3, 2) and np.array_equal(m.T.data, m.data.T)
    assert m.transpose().shape == (3, 2)
    assert Tensor(np.zeros((2, 3, 4))).transpose().shape == (2, 4, 3)
    assert Tensor([1, 2, 3]).T.shape == (3,)
    print("✅ shape: reshape (with -1) and transpose")


if __name__ == "__main__":
    test_unit_shape()


# %% [markdown]
# ## Part 5: reductions
#
# A reduction collapses one or more dimensions: the loss of a batch is the mean over it;
# softmax needs the maximum and the sum along a row. `keepdims=True` keeps the collapsed
# dimension with size 1, so the result still broadcasts against the input.

# %% nbgrader={"grade": true, "grade_id": "test-reductions", "locked": true, "points": 15, "schema_version": 3, "solution": false}
def test_unit_reductions():
    t = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert np.isclose(t.sum().data, 21.0) and t.sum().shape == ()
    assert np.allclose(t.sum(axis=0).data, [5, 7, 9])
    assert t.sum(axis=1, keepdims=True).shape == (2, 1)
    assert np.isclose(t.mean().data, 3.5)
    assert np.allclose(t.mean(axis=1).data, [2, 5])
    assert np.isclose(t.max().data, 6.0)
    assert np.allclose(t.max(axis=0).data, [4, 5, 6])
    assert t.max(axis=-1, keepdims=True).shape == (2, 1)
    for result in [t.sum(), t.mean(axis=0), t.max(axis=1)]:
        assert isinstance(result, Tensor) and result.dtype == np.float32
    ### BEGIN HIDDEN TESTS
    assert t.mean(axis=(0, 1), keepdims=True).shape == (1, 1)
    ### END HIDDEN TESTS
    print("✅ reductions: sum, mean and max with axis and keepdims")


if __name__ == "__main__":
    test_unit_reductions()


# %% [markdown]
# ## Putting it together
#
# A fully connected layer is `x @ W + b`: a matrix product followed by a broadcast add.
# With your Tensor that is one line. The cell below builds a tiny two-step network by hand
# and compares it with plain NumPy; it tests the parts working together, not each part
# again.

# %% nbgrader={"grade": true, "grade_id": "test-integration", "locked": true, "points": 10, "schema_version": 3, "solution": false}
def test_integration_tensor():
    rng = np.random.default_rng(1)
    images = rng.standard_normal((8, 2, 2)).astype(np.float32)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    x = Tensor(images).reshape(8, -1)
    logits = x @ Tensor(w) + Tensor(b)
    expected = images.reshape(8, 4) @ w + b
    assert logits.shape == (8, 3) and logits.dtype == np.float32
    assert np.allclose(logits.data, expected, atol=1e-5)
    centered = logits - logits.mean(axis=1, keepdims=True)
    assert np.allclose(centered.sum(axis=1).data, 0, atol=1e-5)
    print("✅ integration: x @ W + b over a reshaped batch matches NumPy")


if __name__ == "__main__":
    test_integration_tensor()


# %% [markdown]
# ## What it costs, and what comes next
#
# - **Memory:** a float32 tensor takes 4 bytes a number plus about a hundred bytes of
#   bookkeeping. Views (`reshape`, `transpose`, `T`) share the numbers; arithmetic
#   allocates a new result every time.
# - **Time:** element-wise operations and reductions touch every number once and are
#   limited by memory bandwidth; matrix multiplication does `n` multiply-adds for every
#   number it reads and is limited by arithmetic. Python adds roughly a microsecond of
#   overhead per operation, which matters only for tiny tensors.
#
# **Next, Module 02 (Activations)** adds the non-linear functions (ReLU, Sigmoid, Tanh,
# GELU, Softmax) that make stacked layers more than one big matrix product. Run
# `tito module complete 01_tensor` to export your Tensor for it.
