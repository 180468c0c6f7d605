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
# **How to check your work:** run each test cell as you go (a ✅ line means its visible
# checks passed; a ❌ line says what was expected and what your code gave), then run
# `tito module test 01_tensor` in a terminal: it grades your notebook exactly as your
# instructor will, adding *hidden checks* (the same requirements, stated in the text,
# tried on other inputs). `tito module complete 01_tensor` then exports your code into the
# `tinytorch` package, where Module 02 imports it from. Each graded cell checks one part,
# so one mistake costs points in one cell.
#
# **Points (100 in all).** What a part does carries most of its points; where a part must
# refuse bad input, the errors and their messages have their own, smaller test cell:
#
# | Part | What it does | Refusing bad input, and the messages |
# |------|--------------|--------------------------------------|
# | 1 creating a tensor | 16 (`test-creation`) | 4 (`test-creation-errors`) |
# | 2 arithmetic | 20 (`test-arithmetic`) | |
# | 3 matrix multiplication | 16 (`test-matmul`) | 4 (`test-matmul-errors`) |
# | 4 reshape and transpose | 12 (`test-shape`) | 3 (`test-shape-errors`) |
# | 5 reductions | 15 (`test-reductions`) | |
# | all together | 10 (`test-integration`) | |
#
# Work through the notebook from top to bottom. Every place where you write code says
# `raise NotImplementedError(...)` until you replace it; the docstring above it says what
# to do (TODO), how to think about it (APPROACH), what it should give (EXAMPLE) and where
# to look (HINTS).

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
# conversion happens. The requirements, all checked by the tests:
#
# - numbers, nested lists, NumPy arrays and Tensors are accepted; booleans count as
#   numbers (`True` is 1.0). The result is float32 unless a `dtype` is asked for.
# - an array that already has the wanted dtype is used as it is, not copied; a Tensor
#   given as data shares its array too (these two: 16 points, `test-creation`).
# - strings, bytes, dicts, sets and `None` are a `TypeError`, and so is anything NumPy
#   turns into a non-numeric array (a list of strings, complex numbers): the message names
#   the type of what was received (`str`, `dict`, `NoneType`, `list`, ...).
# - a ragged nested list such as `[[1, 2], [3]]` is a `ValueError` whose message contains
#   the word "ragged" or "length" (these two: 4 points, `test-creation-errors`).
#
# Read the docstring, then replace the stub.

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

    TODO:
    Turn numbers, nested lists, arrays and Tensors into a NumPy array, refusing what is
    not numeric with a clear error.

    APPROACH:
    1. A Tensor already holds an array: start from that array.
    2. Refuse the obviously wrong containers (strings, bytes, dicts, sets, None) before
       NumPy tries to make sense of them; the message names what was received.
    3. Let NumPy build the array. Ragged lists make NumPy fail with a ValueError: turn
       it into your own ValueError that says the rows differ in length ("ragged").
    4. Look at the kind of the array's dtype: booleans, signed and unsigned integers and
       floats are fine, anything else (text, objects, complex numbers) is a TypeError.
    5. Convert to the wanted dtype (float32 by default) without copying when the array
       already has it.

    EXAMPLE:
    >>> _as_array([[1, 2], [3, 4]]).dtype
    dtype('float32')
    >>> _as_array([True, False])
    array([1., 0.], dtype=float32)
    >>> _as_array("hello")
    TypeError: Tensor data must be numeric; got str 'hello'
    >>> _as_array([[1, 2], [3]])
    ValueError: Tensor data is ragged: every nested list must have the same length; ...

    HINTS:
    - `isinstance` accepts a tuple of types, such as `_REJECTED_TYPES`.
    - `_describe(data)` formats what was received for a message.
    - Every dtype has a one-letter `kind`; NumPy's documentation lists them.
    - `astype` has a `copy` argument.
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

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool = False) -> "Tensor":
        """A Tensor around `array` exactly as it is (any dtype, no conversion, no copy)."""
        tensor = cls.__new__(cls)
        tensor.data, tensor.requires_grad, tensor.grad = array, bool(requires_grad), None
        return tensor

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

    def numel(self) -> int:
        """The number of elements, as a Python int (PyTorch's name for `size`)."""
        return int(self.data.size)

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
        """The NumPy array (or Python number) to combine with `self.data`.

        TODO:
        Turn the other operand of `+ - * /` into something NumPy can combine with this
        tensor's array without changing its dtype.

        APPROACH:
        1. Another Tensor contributes its array.
        2. A plain Python int or float can be used as it is: NumPy treats Python numbers
           as "weak" and keeps the array's float32.
        3. Anything else (NumPy arrays, NumPy scalars, lists) must first be converted to
           this tensor's dtype with the helper from Part 1; otherwise a float64 operand
           would promote the result to float64.

        EXAMPLE:
        >>> Tensor([1.0]) + np.array([2.0])        # a float64 operand
        Tensor([3.], shape=(1,), dtype=float32)
        >>> (Tensor([1.0, 2.0]) * 3).dtype
        dtype('float32')

        HINTS:
        - `self.data.dtype` is the dtype to convert to.
        - `isinstance(True, int)` is True: booleans take the Python-number path, which is
          fine.
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
        """Matrix product `self @ other`, following NumPy's matmul rules for 1-D to N-D.

        TODO:
        Compute the product, and explain a shape mismatch clearly.

        APPROACH:
        1. Turn the other operand into an array the same way the arithmetic does.
        2. Use NumPy's matrix multiplication (the `@` rules: 1-D operands are vectors,
           N-D operands are stacks of matrices whose leading dimensions broadcast). Do not
           use `np.dot`: for N-D operands it computes something else.
        3. NumPy raises ValueError on a mismatch. Catch it and raise your own ValueError
           built by the given `_matmul_error(left_shape, right_shape)`: it names both
           shapes and the two inner dimensions (or the batch dimensions, or a 0-d operand).
        4. Wrap the product with `self._result`, which also sets `requires_grad`.

        EXAMPLE:
        >>> (Tensor(np.ones((2, 4, 3))) @ Tensor(np.ones((2, 3, 5)))).shape
        (2, 4, 5)
        >>> Tensor(np.ones((32, 128))) @ Tensor(np.ones((256, 10)))
        ValueError: Cannot perform matrix multiplication: (32, 128) @ (256, 10).
        Inner dimensions must match: 128 ≠ 256

        HINTS:
        - Letting NumPy fail first keeps the common, correct case free of Python checks.
        - `raise ... from error` keeps NumPy's original error attached for debugging.
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

        TODO:
        Accept `t.reshape(2, 3)` and `t.reshape((2, 3))`, with one -1 allowed.

        APPROACH:
        1. The shape may arrive as separate numbers or as one tuple or list: normalise it.
        2. Let NumPy reshape the array; it works out a -1 and, for an array laid out in
           row-major order, returns a view that shares the numbers (no copy).
        3. Turn NumPy's ValueError into one that names the old shape, its size and the
           shape that was asked for.
        4. Return a new Tensor around the reshaped array, keeping `requires_grad`.

        EXAMPLE:
        >>> Tensor(np.arange(6)).reshape(2, -1).shape
        (2, 3)
        >>> Tensor(np.arange(6)).reshape(4, 2)
        ValueError: Cannot reshape a tensor of shape (6,) (size 6) into shape (4, 2)

        HINTS:
        - Do not copy: `np.shares_memory` tells you whether you did.
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

        TODO:
        Swap `dim0` and `dim1`; a 0-d or 1-D tensor comes back unchanged.

        APPROACH:
        1. A tensor with fewer than two dimensions has nothing to swap: return a new Tensor
           around the same array.
        2. Otherwise let NumPy swap the two axes; the result is a view (no copy).
        3. Keep `requires_grad`.

        EXAMPLE:
        >>> Tensor(np.zeros((2, 3))).transpose().shape
        (3, 2)
        >>> Tensor(np.zeros((2, 3, 4))).transpose(0, 2).shape
        (4, 3, 2)

        HINTS:
        - NumPy has a function that swaps exactly two axes.
        """
        ### BEGIN SOLUTION
        if self.ndim < 2:
            return Tensor(self.data, requires_grad=self.requires_grad)
        return Tensor(np.swapaxes(self.data, dim0, dim1), requires_grad=self.requires_grad)
        ### END SOLUTION

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    # -- given: PyTorch's view, contiguous and masked_fill -----------------------------
    def view(self, *shape) -> "Tensor":
        """The same numbers in a new shape, always sharing memory (PyTorch's `view`).

        Unlike `reshape` it never copies: when the numbers cannot be read in the new shape
        without moving them (a transposed matrix flattened, for example), it raises
        ValueError; call `contiguous()` first, or use `reshape`. One -1 is allowed.
        """
        if shape and isinstance(shape[0], (tuple, list)):  # view((2, 3)) as well as view(2, 3)
            shape = tuple(shape[0])
        try:
            viewed = self.data.reshape(shape)
        except ValueError as problem:
            raise ValueError(f"Cannot view a tensor of shape {self.shape} (size {self.size}) "
                             f"as shape {shape}") from problem
        if self.data.size and not np.may_share_memory(viewed, self.data):
            raise ValueError(f"Cannot view a tensor of shape {self.shape} as shape {shape} without "
                             f"copying: its numbers are not stored in that order. Call .contiguous() "
                             f"first, or use .reshape()")
        return Tensor._wrap(viewed, self.requires_grad)

    def contiguous(self) -> "Tensor":
        """This tensor itself if its numbers are stored in row-major order, otherwise a
        row-major copy (PyTorch's `contiguous`)."""
        if self.data.flags.c_contiguous:
            return self
        return Tensor._wrap(np.ascontiguousarray(self.data), self.requires_grad)

    def masked_fill(self, mask, value) -> "Tensor":
        """A new tensor with `value` wherever the boolean `mask` is True (PyTorch's
        `masked_fill`). The mask broadcasts against this tensor; the dtype is kept; `value`
        is a number or a 0-d Tensor."""
        mask_array = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
        if mask_array.dtype != np.bool_:
            raise TypeError(f"masked_fill needs a boolean mask, got dtype {mask_array.dtype}")
        if isinstance(value, Tensor):
            if value.ndim != 0:
                raise ValueError(f"masked_fill needs a number or a 0-d tensor as value, got shape {value.shape}")
            value = value.data
        fill = np.asarray(value).astype(self.data.dtype)
        return Tensor._wrap(np.where(mask_array, fill, self.data), self.requires_grad)

    # -- Part 5: reductions ---------------------------------------------------------------
    def sum(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Sum over `axis` (all elements when None; an int or a tuple of ints otherwise).

        TODO:
        Implement `sum`, and `mean` and `max` below, the same way.

        APPROACH:
        1. NumPy's reductions take the same `axis` and `keepdims` arguments: pass them on.
        2. A full reduction gives a NumPy scalar, not an array: make it a 0-d array so the
           result is a float32 Tensor, not a Python float.
        3. Wrap the result with `self._result`.

        EXAMPLE:
        >>> Tensor([[1, 2], [3, 4]]).sum(axis=0)
        Tensor([4., 6.], shape=(2,), dtype=float32)
        >>> Tensor([[1, 2], [3, 4]]).sum(axis=(0, 1), keepdims=True).shape
        (1, 1)

        HINTS:
        - Arrays have `.sum`, `.mean` and `.max` methods.
        - `np.asarray` of a NumPy scalar is a 0-d array of the same dtype.
        """
        ### BEGIN SOLUTION
        return self._result(np.asarray(self.data.sum(axis=axis, keepdims=keepdims)))
        ### END SOLUTION

    def mean(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Mean over `axis` (all elements when None; an int or a tuple of ints otherwise).

        TODO:
        The same as `sum`, with the mean.

        APPROACH:
        1. Follow the steps of `sum` with NumPy's mean.

        EXAMPLE:
        >>> Tensor([[1, 2], [3, 4]]).mean(axis=1)
        Tensor([1.5, 3.5], shape=(2,), dtype=float32)

        HINTS:
        - The mean of float32 numbers stays float32 in NumPy.
        """
        ### BEGIN SOLUTION
        return self._result(np.asarray(self.data.mean(axis=axis, keepdims=keepdims)))
        ### END SOLUTION

    def max(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Maximum over `axis` (all elements when None; an int or a tuple of ints otherwise).

        TODO:
        The same as `sum`, with the maximum.

        APPROACH:
        1. Follow the steps of `sum` with NumPy's max.

        EXAMPLE:
        >>> Tensor([[1, 5], [3, 4]]).max(axis=0)
        Tensor([3., 5.], shape=(2,), dtype=float32)

        HINTS:
        - `keepdims=True` keeps the reduced dimension with size 1.
        """
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
# ### Test: creating tensors (16 points)
#
# Run the cell. It checks numbers, lists, arrays and Tensors as input, and that arrays and
# Tensors are shared rather than copied. Bad data has its own test after this one.

# %% nbgrader={"grade": true, "grade_id": "test-creation", "locked": true, "points": 16, "schema_version": 3, "solution": false}
def test_unit_creation():
    scalar = Tensor(3)
    assert scalar.shape == () and scalar.dtype == np.float32, f"Tensor(3) should be a float32 0-d tensor, got {scalar.dtype} {scalar.shape}"
    nested = Tensor([[1, 2, 3], [4, 5, 6]])
    assert nested.shape == (2, 3) and nested.dtype == np.float32, f"Tensor of a 2×3 list should be float32 (2, 3), got {nested.dtype} {nested.shape}"
    assert (nested.size, nested.ndim, len(nested)) == (6, 2, 2), f"size, ndim, len should be (6, 2, 2), got {(nested.size, nested.ndim, len(nested))}"
    assert np.array_equal(nested.numpy(), [[1, 2, 3], [4, 5, 6]]), f"Tensor should keep the numbers, got {nested.numpy().tolist()}"
    try:
        flags = Tensor([True, False])
    except NotImplementedError:
        raise
    except Exception as error:
        raise AssertionError(f"booleans count as numbers: Tensor([True, False]) should work, got {type(error).__name__}: {error}") from None
    assert flags.dtype == np.float32 and flags.data.tolist() == [1.0, 0.0], \
        f"booleans count as numbers: Tensor([True, False]) should be float32 [1., 0.], got {flags.dtype} {flags.data.tolist()}"

    shared = np.ones((4, 4), dtype=np.float32)
    assert Tensor(shared).data is shared, "a float32 array should be wrapped without a copy, got a copy"
    assert Tensor(Tensor(shared)).data is shared, "a Tensor given as data should share its array, got a copy"
    converted = Tensor(np.ones(3, dtype=np.float64))
    assert converted.dtype == np.float32, f"a float64 array should become float32, got {converted.dtype}"
    wide = Tensor([1, 2], dtype=np.float64)
    assert wide.dtype == np.float64, f"Tensor([1, 2], dtype=np.float64) should be float64, got {wide.dtype}"
    assert np.array_equal(Tensor(nested).data, nested.data), "Tensor(tensor) should hold the same numbers, got others"

    flagged = Tensor([1.0], requires_grad=True)
    assert flagged.requires_grad is True and flagged.grad is None, \
        f"requires_grad=True should be kept and grad start as None, got {flagged.requires_grad}, {flagged.grad}"
    assert "shape=(2, 3)" in repr(nested), f"repr is given; got {nested!r}"
    ### BEGIN HIDDEN TESTS
    counts = np.arange(5, dtype=np.int64)
    assert Tensor(counts, dtype=np.int64).data is counts, "hidden check: an int64 array with dtype=np.int64 should not be copied, got a copy"
    mixed = Tensor([[True, 2], [3.5, False]])
    assert mixed.data.tolist() == [[1.0, 2.0], [3.5, 0.0]], f"hidden check: mixed bools and numbers should convert, got {mixed.data.tolist()}"
    ### END HIDDEN TESTS
    print("✅ creation: visible checks passed (numbers, lists, arrays, no needless copies). "
          "tito module test adds hidden checks.")


test_unit_creation()


# %% [markdown]
# ### Test: refusing bad data (4 points)
#
# Non-numeric data and ragged lists, each refused with the right exception and a message
# that names what was received.

# %% nbgrader={"grade": true, "grade_id": "test-creation-errors", "locked": true, "points": 4, "schema_version": 3, "solution": false}
def test_unit_creation_errors():
    from tito.inline import expect_error  # the refused call's error, or what it did instead

    for bad in ["hello", {"a": 1}, None, ["a", "b"]]:
        error = expect_error(TypeError, f"Tensor({bad!r})", lambda bad=bad: Tensor(bad))
        assert type(bad).__name__ in str(error), f"the error for Tensor({bad!r}) should name {type(bad).__name__}, got {str(error)!r}"
    error = expect_error(ValueError, "Tensor([[1, 2], [3]])", lambda: Tensor([[1, 2], [3]]))
    assert "ragged" in str(error).lower() or "length" in str(error).lower(), \
        f"the error for a ragged list should say 'ragged' or 'length', got {str(error)!r}"
    ### BEGIN HIDDEN TESTS
    error = expect_error(TypeError, "hidden check: Tensor(b'x')", lambda: Tensor(b"x"))
    assert "bytes" in str(error), f"hidden check: the error for Tensor(b'x') should name bytes, got {str(error)!r}"
    expect_error(TypeError, "hidden check: Tensor([1 + 2j])", lambda: Tensor([1 + 2j]))
    error = expect_error(ValueError, "hidden check: Tensor([[1], [2, 3], [4]])", lambda: Tensor([[1], [2, 3], [4]]))
    assert "ragged" in str(error).lower() or "length" in str(error).lower(), \
        f"hidden check: the ragged-list error should say 'ragged' or 'length', got {str(error)!r}"
    ### END HIDDEN TESTS
    print("✅ creation errors: visible checks passed (TypeError naming the type, ValueError for ragged lists). "
          "tito module test adds hidden checks.")


test_unit_creation_errors()


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
# an array. The requirement: results stay float32 whatever the other side is (a Tensor, a
# Python number, a NumPy scalar or a float64 array), on either side of the operator.
# Implement `_operand` in the class above, re-run that cell, then this test.

# %% nbgrader={"grade": true, "grade_id": "test-arithmetic", "locked": true, "points": 20, "schema_version": 3, "solution": false}
def test_unit_arithmetic():
    def tensor(values):  # built from a float32 array: independent of _as_array
        return Tensor(np.asarray(values, dtype=np.float32))

    a, b = tensor([[1.0, 2.0], [3.0, 4.0]]), tensor([10.0, 20.0])
    for text, result, expected in [
        ("a + b", lambda: a + b, [[11, 22], [13, 24]]), ("a - b", lambda: a - b, [[-9, -18], [-7, -16]]),
        ("a * 2", lambda: a * 2, [[2, 4], [6, 8]]), ("a / 2", lambda: a / 2, [[0.5, 1], [1.5, 2]]),
        ("1 - a", lambda: 1 - a, [[0, -1], [-2, -3]]), ("2 / a", lambda: 2 / a, [[2, 1], [2 / 3, 0.5]]),
        ("-a", lambda: -a, [[-1, -2], [-3, -4]]), ("a * np.float32(3)", lambda: a * np.float32(3), [[3, 6], [9, 12]]),
    ]:
        got = result()
        assert isinstance(got, Tensor) and np.allclose(got.data, expected), \
            f"{text} should give {expected}, got {got.data.tolist() if isinstance(got, Tensor) else got!r}"
    from_numpy = np.ones(2) + a
    assert isinstance(from_numpy, Tensor), f"ndarray + Tensor should give a Tensor, got {type(from_numpy).__name__}"
    for text, result in [("a + np.ones(2)", lambda: a + np.ones(2)), ("a * np.float64(3)", lambda: a * np.float64(3)),
                         ("np.ones((2, 2)) * a", lambda: np.ones((2, 2)) * a), ("a + b", lambda: a + b),
                         ("a - np.array([1.0, 2.0])", lambda: a - np.array([1.0, 2.0]))]:
        got = result()
        assert got.dtype == np.float32, f"{text} should stay float32, got {got.dtype}"
    ### BEGIN HIDDEN TESTS
    c = tensor([[2.0, 4.0, 8.0]])
    got = np.array([1.0, 2.0, 4.0]) / c
    assert got.dtype == np.float32 and np.allclose(got.data, [[0.5, 0.5, 0.5]]), \
        f"hidden check: float64 array / Tensor should be float32 [[0.5, 0.5, 0.5]], got {got.dtype} {got.data.tolist()}"
    got = c - np.float64(1)
    assert got.dtype == np.float32 and np.allclose(got.data, [[1, 3, 7]]), \
        f"hidden check: Tensor - np.float64(1) should be float32 [[1, 3, 7]], got {got.dtype} {got.data.tolist()}"
    ### END HIDDEN TESTS
    print("✅ arithmetic: visible checks passed (+ - * / with broadcasting, float32 kept). "
          "tito module test adds hidden checks.")


test_unit_arithmetic()


# %% [markdown]
# ## Part 3: matrix multiplication
#
# `x @ W` is the heart of every layer you will build. For `(batch, n) @ (n, m)` it costs
# `batch × n × m` multiply-adds, and each number fetched from memory is used many times:
# this is the rare operation that keeps the processor's arithmetic units busy. NumPy hands
# it to BLAS, a library tuned for exactly this. Your job is the interface:
#
# - follow NumPy's matmul rules (the `@` operator) for 1-D, 2-D and stacked N-D operands,
#   including two stacks of matrices (`(5, 2, 3) @ (5, 3, 4)` is `(5, 2, 4)`);
# - the other operand may be a Tensor or a NumPy array, and the result is float32
#   (these two: 16 points, `test-matmul`);
# - a mismatch is a `ValueError` whose message names both shapes and, after them, the two
#   inner dimensions that differ; when the inner dimensions agree but the batch
#   dimensions cannot broadcast, it still names both shapes; a 0-d operand is a
#   `ValueError` too. The given `_matmul_error` writes such messages (4 points,
#   `test-matmul-errors`).

# %% nbgrader={"grade": true, "grade_id": "test-matmul", "locked": true, "points": 16, "schema_version": 3, "solution": false}
def test_unit_matmul():
    def check(left, right, what):
        a = rng.standard_normal(left).astype(np.float32)
        b = rng.standard_normal(right).astype(np.float32)
        for text, product in [("Tensor @ Tensor", lambda: Tensor(a) @ Tensor(b)), ("matmul(ndarray)", lambda: Tensor(a).matmul(b))]:
            got = product()
            expected = a @ b
            assert isinstance(got, Tensor) and got.shape == expected.shape, \
                f"{what} with {text} should give shape {expected.shape}, got {getattr(got, 'shape', type(got).__name__)}"
            assert got.dtype == np.float32 and np.allclose(got.data, expected, atol=1e-5), \
                f"{what} with {text} should match NumPy's a @ b in float32, got {got.dtype}, max difference {np.max(np.abs(got.data - expected)):.3g}"

    rng = np.random.default_rng(0)
    check((4, 3), (3, 5), "(4, 3) @ (3, 5)")
    check((3,), (3, 5), "(3,) @ (3, 5)")
    check((4, 3), (3,), "(4, 3) @ (3,)")
    check((2, 4, 3), (3, 5), "(2, 4, 3) @ (3, 5)")
    check((5, 2, 3), (5, 3, 4), "(5, 2, 3) @ (5, 3, 4)")
    ### BEGIN HIDDEN TESTS
    check((1, 2, 3), (6, 3, 2), "hidden check: (1, 2, 3) @ (6, 3, 2)")
    check((3,), (3,), "hidden check: (3,) @ (3,)")
    ### END HIDDEN TESTS
    print("✅ matmul: visible checks passed (1-D, 2-D and stacked products). "
          "tito module test adds hidden checks.")


test_unit_matmul()


# %% [markdown]
# ### Test: the shape errors of matmul (4 points)

# %% nbgrader={"grade": true, "grade_id": "test-matmul-errors", "locked": true, "points": 4, "schema_version": 3, "solution": false}
def test_unit_matmul_errors():
    from tito.inline import expect_error  # the refused call's error, or what it did instead

    error = expect_error(ValueError, "(32, 128) @ (256, 10)", lambda: Tensor(np.ones((32, 128))) @ Tensor(np.ones((256, 10))))
    message = str(error)
    assert "(32, 128)" in message and "(256, 10)" in message, f"the error should name both shapes, got {message!r}"
    after = message.split("(256, 10)", 1)[1]
    assert "128" in after and "256" in after, f"after the shapes the error should name the inner dimensions 128 and 256, got {message!r}"
    stacked = Tensor(np.ones((5, 2, 3), dtype=np.float32)) @ Tensor(np.ones((5, 3, 4), dtype=np.float32))
    if getattr(stacked, "shape", None) == (5, 2, 4):  # matmul's rules, not np.dot's (test-matmul checks which)
        error = expect_error(ValueError, "(2, 3, 4) @ (5, 4, 2)",
                             lambda: Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((5, 4, 2))))
        assert "(2, 3, 4)" in str(error) and "(5, 4, 2)" in str(error), \
            f"the batch-dimension error should name both shapes, got {str(error)!r}"
        expect_error(ValueError, "a 0-d tensor @ (3,)", lambda: Tensor(1.0) @ Tensor(np.ones(3)))
    ### BEGIN HIDDEN TESTS
    error = expect_error(ValueError, "hidden check: (3,) @ (4,)", lambda: Tensor(np.ones(3)) @ Tensor(np.ones(4)))
    assert "(3,)" in str(error) and "(4,)" in str(error), f"hidden check: the error should name (3,) and (4,), got {str(error)!r}"
    error = expect_error(ValueError, "hidden check: (7, 5) @ (6, 2)", lambda: Tensor(np.ones((7, 5))) @ np.ones((6, 2)))
    after = str(error).split("(6, 2)", 1)[-1]
    assert "5" in after and "6" in after, f"hidden check: after the shapes the error should name 5 and 6, got {str(error)!r}"
    ### END HIDDEN TESTS
    print("✅ matmul errors: visible checks passed (both shapes, then the inner dimensions). "
          "tito module test adds hidden checks.")


test_unit_matmul_errors()


# %% [markdown]
# ## Part 4: reshape and transpose
#
# Reshaping changes how the same numbers are read, not the numbers: a `(32, 28, 28)` batch
# of images becomes `(32, 784)` for a Linear layer. Both `reshape` of an array laid out in
# row-major order and `transpose` are *views*: they cost no copy, only a new shape and new
# strides. The requirements: `reshape` accepts separate numbers or one tuple, allows one
# -1, shares the numbers of a row-major tensor, and refuses a wrong size with a
# `ValueError` that names the old shape and then the requested one; `transpose(d0, d1)`
# swaps any two dimensions (the last two by default), shares the numbers, and leaves 0-d
# and 1-D tensors as they are. What they do, with the given methods below, is worth 12
# points (`test-shape`); the errors (reshape's message, and the given `view` and
# `masked_fill` refusing what they cannot do) 3 points (`test-shape-errors`).
#
# Four methods are given, with PyTorch's meaning, because later modules use them:
# `numel()` (the number of elements), `view(...)` (a reshape that must not copy: it raises
# `ValueError` when the numbers are not stored in the needed order), `contiguous()` (the
# tensor itself when it is stored in row-major order, otherwise a row-major copy) and
# `masked_fill(mask, value)` (a new tensor with `value` where the boolean mask is True).
# The test checks them too.

# %% nbgrader={"grade": true, "grade_id": "test-shape", "locked": true, "points": 12, "schema_version": 3, "solution": false}
def test_unit_shape():
    numbers = np.arange(12, dtype=np.float32)
    t = Tensor(numbers)
    for args, shape in [((3, 4), (3, 4)), (((2, 6),), (2, 6)), ((2, -1, 3), (2, 2, 3)), (([4, 3],), (4, 3))]:
        got = t.reshape(*args)
        assert isinstance(got, Tensor) and got.shape == shape, f"reshape{args} should give shape {shape}, got {getattr(got, 'shape', got)}"
        assert np.array_equal(got.data, numbers.reshape(shape)), f"reshape{args} should keep the numbers in order, got {got.data.tolist()}"
    assert np.shares_memory(t.reshape(3, 4).data, numbers), "reshape should share the numbers (a view), got a copy"
    m = Tensor(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))
    for text, got, expected in [("m.T", m.T, m.data.T), ("m.transpose()", m.transpose(), m.data.T)]:
        assert got.shape == (3, 2) and np.array_equal(got.data, expected), f"{text} should be the (3, 2) transpose, got {got.data.tolist()}"
    cube = Tensor(np.zeros((2, 3, 4), dtype=np.float32))
    assert cube.transpose().shape == (2, 4, 3), f"transpose() of (2, 3, 4) should swap the last two: (2, 4, 3), got {cube.transpose().shape}"
    assert cube.transpose(0, 2).shape == (4, 3, 2), f"transpose(0, 2) of (2, 3, 4) should give (4, 3, 2), got {cube.transpose(0, 2).shape}"
    assert np.shares_memory(m.T.data, m.data), "transpose should share the numbers (a view), got a copy"
    vector = Tensor(np.array([1, 2, 3], dtype=np.float32))
    assert vector.T.shape == (3,), f"the transpose of a 1-D tensor should be unchanged, got shape {vector.T.shape}"

    # The given PyTorch-style methods.
    grid = t.reshape(3, 4)
    assert t.numel() == 12 and isinstance(t.numel(), int), f"numel() should be the int 12, got {t.numel()!r}"
    viewed = grid.view(4, -1)
    assert viewed.shape == (4, 3) and np.shares_memory(viewed.data, numbers), f"view(4, -1) should share memory with shape (4, 3), got {viewed.shape}"
    assert grid.contiguous() is grid, "contiguous() of a row-major tensor should be the tensor itself, got a copy"
    flat = grid.T.contiguous().view(-1)
    assert flat.data.tolist() == numbers.reshape(3, 4).T.ravel().tolist(), f"contiguous() then view(-1) should read the transpose row by row, got {flat.data.tolist()}"
    filled = grid.masked_fill(grid.data > 8, -1.0)
    assert filled.data.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, -1, -1, -1]] and filled.dtype == np.float32, \
        f"masked_fill(t > 8, -1) should replace 9, 10, 11 by -1, got {filled.data.tolist()}"
    assert grid.data.max() == 11, "masked_fill should not change the tensor itself, got it modified"
    print("✅ shape: every check passed (reshape with -1, transpose, views; view, contiguous, numel, masked_fill)")


test_unit_shape()


# %% [markdown]
# ### Test: the shape errors (3 points)

# %% nbgrader={"grade": true, "grade_id": "test-shape-errors", "locked": true, "points": 3, "schema_version": 3, "solution": false}
def test_unit_shape_errors():
    from tito.inline import expect_error  # the refused call's error, or what it did instead

    t = Tensor(np.arange(12, dtype=np.float32))
    error = expect_error(ValueError, "reshape(5, 5) of 12 numbers", lambda: t.reshape(5, 5))
    message = str(error)
    assert "(12,)" in message and "(5, 5)" in message and message.index("(12,)") < message.index("(5, 5)"), \
        f"the reshape error should name the old shape (12,) and then the requested (5, 5), got {message!r}"
    grid = Tensor(np.arange(12, dtype=np.float32).reshape(3, 4))
    strided = Tensor(grid.data.T)  # not stored row by row (unless Tensor() copied it: the creation test's business)
    if not strided.data.flags.c_contiguous:
        expect_error(ValueError, "view(-1) of a transposed tensor", lambda: strided.view(-1))
    expect_error(TypeError, "masked_fill with a float mask", lambda: grid.masked_fill(np.ones((3, 4)), 0.0))
    print("✅ shape errors: every check passed (reshape names both shapes; view and masked_fill refuse)")


test_unit_shape_errors()


# %% [markdown]
# ## Part 5: reductions
#
# A reduction collapses one or more dimensions: the loss of a batch is the mean over it;
# softmax needs the maximum and the sum along a row. `axis` is `None` (everything), an int
# (negative counts from the end) or a tuple of ints. `keepdims=True` keeps the collapsed
# dimensions with size 1, so the result still broadcasts against the input. The result is
# always a float32 Tensor, even for a full reduction.

# %% nbgrader={"grade": true, "grade_id": "test-reductions", "locked": true, "points": 15, "schema_version": 3, "solution": false}
def test_unit_reductions():
    t = Tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32))
    for text, got, expected in [
        ("sum()", t.sum(), 21.0), ("sum(axis=0)", t.sum(axis=0), [5, 7, 9]), ("mean()", t.mean(), 3.5),
        ("mean(axis=1)", t.mean(axis=1), [2, 5]), ("max()", t.max(), 6.0), ("max(axis=0)", t.max(axis=0), [4, 5, 6]),
        ("sum(axis=1, keepdims=True)", t.sum(axis=1, keepdims=True), [[6], [15]]),
        ("max(axis=-1, keepdims=True)", t.max(axis=-1, keepdims=True), [[3], [6]]),
    ]:
        assert isinstance(got, Tensor), f"{text} should return a Tensor, got {type(got).__name__}"
        assert got.dtype == np.float32, f"{text} should be float32, got {got.dtype}"
        assert got.shape == np.shape(expected) and np.allclose(got.data, expected), \
            f"{text} should be {expected}, got {got.data.tolist()} of shape {got.shape}"
    ### BEGIN HIDDEN TESTS
    cube = np.random.default_rng(1).standard_normal((3, 4, 5)).astype(np.float32)
    for name in ["sum", "mean", "max"]:
        got = getattr(Tensor(cube), name)(axis=(0, 2), keepdims=True)
        expected = getattr(np, name)(cube, axis=(0, 2), keepdims=True)
        assert isinstance(got, Tensor) and got.shape == (1, 4, 1) and np.allclose(got.data, expected, rtol=1e-5), \
            f"hidden check: {name}(axis=(0, 2), keepdims=True) of a (3, 4, 5) tensor should match NumPy with shape (1, 4, 1), got {getattr(got, 'shape', got)}"
    ### END HIDDEN TESTS
    print("✅ reductions: visible checks passed (sum, mean and max with axis and keepdims). "
          "tito module test adds hidden checks.")


test_unit_reductions()


# %% [markdown]
# ## Putting it together
#
# A fully connected layer is `x @ W + b`: a matrix product followed by a broadcast add.
# With your Tensor that is one line. The cell below builds a tiny two-step network by hand
# and compares it with plain NumPy. It does not test each part again: it first checks,
# part by part, only what this little network needs (each check uses its own part alone).
# If exactly one part falls short, it says which and passes without checking, so one
# mistake costs points in one cell only; with two or more, it fails too.

# %% nbgrader={"grade": true, "grade_id": "test-integration", "locked": true, "points": 10, "schema_version": 3, "solution": false}
def test_integration_tensor():
    grid = np.arange(8, dtype=np.float32).reshape(2, 4)

    def creation_part():
        made = Tensor([[1, 2], [3, 4]])
        assert made.dtype == np.float32 and made.data.tolist() == [[1, 2], [3, 4]], f"Tensor of a list, got {made!r}"

    def arithmetic_part():
        got = Tensor(grid) - Tensor(np.ones(4, dtype=np.float32))
        assert isinstance(got, Tensor) and np.array_equal(got.data, grid - 1), f"broadcast subtraction, got {got!r}"

    def matmul_part():
        got = Tensor(grid) @ Tensor(np.ones((4, 3), dtype=np.float32))
        assert isinstance(got, Tensor) and np.allclose(got.data, grid @ np.ones((4, 3))), f"a (2, 4) @ (4, 3) product, got {got!r}"

    def shape_part():
        got = Tensor(grid.ravel()).reshape(2, -1)
        assert isinstance(got, Tensor) and np.array_equal(got.data, grid), f"reshape(2, -1) of 8 numbers, got {got!r}"

    def reductions_part():
        mean, total = Tensor(grid).mean(axis=1, keepdims=True), Tensor(grid).sum(axis=1)
        assert isinstance(mean, Tensor) and mean.shape == (2, 1) and np.allclose(mean.data, [[1.5], [5.5]]), \
            f"mean(axis=1, keepdims=True), got {mean!r}"
        assert isinstance(total, Tensor) and np.allclose(total.data, [6, 22]), f"sum(axis=1), got {total!r}"

    short = {}
    for part, check in [("creation", creation_part), ("arithmetic", arithmetic_part), ("matmul", matmul_part),
                        ("reshape", shape_part), ("reductions", reductions_part)]:
        try:
            check()
        except NotImplementedError:  # a stub, a deleted or a wrong part: each costs its own cell only
            short[part] = "is not implemented yet"
        except Exception as error:
            short[part] = "falls short: " + (str(error) or type(error).__name__).splitlines()[0][:120]
    listed = "; ".join(f"{part} {why}" for part, why in short.items())
    assert len(short) <= 1, \
        f"the integration check needs the parts to work: expected at most 1 part falling short, got {len(short)}: {listed}"
    if short:
        (part, why), = short.items()
        print(f"⏭ integration not checked: {part} {why}. Fix it first; only its own cell costs points.")
        return

    rng = np.random.default_rng(1)
    images = rng.standard_normal((8, 2, 2)).astype(np.float32)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    x = Tensor(images).reshape(8, -1)
    logits = x @ Tensor(w) + Tensor(b)
    expected = images.reshape(8, 4) @ w + b
    assert logits.shape == (8, 3) and logits.dtype == np.float32, f"x @ W + b should be float32 (8, 3), got {logits.dtype} {logits.shape}"
    assert np.allclose(logits.data, expected, atol=1e-5), \
        f"x @ W + b over a reshaped batch should match NumPy, got max difference {np.max(np.abs(logits.data - expected)):.3g}"
    centered = logits - logits.mean(axis=1, keepdims=True)
    assert np.allclose(centered.sum(axis=1).data, 0, atol=1e-5), \
        f"rows minus their mean should sum to 0, got {centered.sum(axis=1).data.tolist()}"
    print("✅ integration: every check passed (x @ W + b over a reshaped batch matches NumPy)")


test_integration_tensor()


# %% [markdown]
# ## What it costs, and what comes next
#
# - **Memory:** a float32 tensor takes 4 bytes a number plus about a hundred bytes of
#   bookkeeping. Views (`reshape`, `transpose`, `T`, `view`) share the numbers; arithmetic
#   allocates a new result every time.
# - **Time:** element-wise operations and reductions touch every number once and are
#   limited by memory bandwidth; matrix multiplication does `n` multiply-adds for every
#   number it reads and is limited by arithmetic. Python adds roughly a microsecond of
#   overhead per operation, which matters only for tiny tensors.
#
# **Next, Module 02 (Activations)** adds the non-linear functions (ReLU, Sigmoid, Tanh,
# GELU, Softmax) that make stacked layers more than one big matrix product. Run
# `tito module complete 01_tensor` to export your Tensor for it.
