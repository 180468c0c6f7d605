"""Tests of the exported tinytorch.core.tensor."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from tinytorch.core.tensor import Tensor

finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@pytest.mark.parametrize("data, shape", [(3, ()), (2.5, ()), ([1, 2, 3], (3,)),
                                         ([[1, 2], [3, 4]], (2, 2)), (np.zeros((2, 3, 4)), (2, 3, 4)),
                                         ([True, False], (2,))])
def test_creation_from_python_and_numpy_is_float32(data, shape):
    t = Tensor(data)
    assert t.shape == shape and t.dtype == np.float32
    assert np.array_equal(t.data, np.asarray(data, dtype=np.float32))


def test_float32_array_is_wrapped_without_copy_and_others_are_converted():
    array = np.arange(6, dtype=np.float32)
    assert Tensor(array).data is array
    assert Tensor(array).numpy() is array
    assert not np.shares_memory(Tensor(array.astype(np.float64)).data, array)
    assert Tensor(Tensor(array)).data is array


def test_dtype_override_and_properties():
    t = Tensor([[1, 2, 3]], dtype=np.float64)
    assert t.dtype == np.float64
    t = Tensor(np.ones((2, 3, 4)))
    assert (t.shape, t.size, t.ndim, len(t)) == ((2, 3, 4), 24, 3, 2)


def test_requires_grad_is_stored_and_grad_is_none_and_no_backward():
    t = Tensor([1.0], requires_grad=True)
    assert t.requires_grad is True and t.grad is None
    assert Tensor([1.0]).requires_grad is False
    assert not hasattr(t, "backward")
    assert (t * 2).requires_grad and not (Tensor([1.0]) * 2).requires_grad


def test_repr_is_readable():
    text = repr(Tensor([[1, 2]], requires_grad=True))
    assert text.startswith("Tensor(") and "shape=(1, 2)" in text and "float32" in text
    assert "requires_grad=True" in text


# Students write these messages: the tests ask for what they must name, not the wording.
@pytest.mark.parametrize("bad, error, word", [("hello", TypeError, "str"), ({"a": 1}, TypeError, "dict"),
                                              (None, TypeError, "NoneType"), (b"x", TypeError, "bytes"),
                                              (["a", "b"], TypeError, "list|str"),
                                              ([[1, 2], [3]], ValueError, "(?i)ragged|length"),
                                              ([1 + 2j], TypeError, None)])
def test_bad_data_gives_clear_errors(bad, error, word):
    with pytest.raises(error, match=word):
        Tensor(bad)


def test_len_of_scalar_is_an_error():
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))


OPS = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("other", [np.float32(2.0), 3, 0.5, np.array([1.0, 2.0, 4.0]), "tensor"])
def test_arithmetic_matches_numpy_and_stays_float32(op, other):
    a = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], dtype=np.float32)
    b = Tensor(np.array([2.0, 4.0, 8.0], dtype=np.float32)) if isinstance(other, str) else other
    b_np = b.data if isinstance(b, Tensor) else np.asarray(b, dtype=np.float32)
    for result, expected in [(op(Tensor(a), b), op(a, b_np)), (op(b, Tensor(a)), op(b_np, a))]:
        assert isinstance(result, Tensor) and result.dtype == np.float32
        assert np.allclose(result.data, expected, rtol=1e-6)


def test_float64_numpy_operand_does_not_promote():
    result = np.ones(3, dtype=np.float64) * Tensor([1.0, 2.0, 3.0]) + np.float64(1)
    assert isinstance(result, Tensor) and result.dtype == np.float32


def test_unary_minus_and_broadcasting():
    a = Tensor(np.ones((4, 1, 3)))
    b = Tensor(np.arange(2, dtype=np.float32).reshape(2, 1))
    assert (a + b).shape == (4, 2, 3)
    assert np.array_equal((-b).data, -b.data)
    with pytest.raises(ValueError):
        Tensor(np.ones((2, 3))) + Tensor(np.ones((4,)))


@pytest.mark.parametrize("left, right", [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                                         ((5, 2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (6, 3, 2))])
def test_matmul_matches_numpy_for_1d_2d_and_batched(left, right):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(left).astype(np.float32)
    b = rng.standard_normal(right).astype(np.float32)
    for result in [Tensor(a) @ Tensor(b), Tensor(a).matmul(b), a @ Tensor(b)]:
        assert isinstance(result, Tensor) and result.dtype == np.float32
        assert np.allclose(result.data, a @ b, atol=1e-5)


def test_matmul_error_names_shapes_and_inner_dimensions():
    with pytest.raises(ValueError) as info:
        Tensor(np.ones((32, 128))) @ Tensor(np.ones((256, 10)))
    message = str(info.value)
    assert "(32, 128)" in message and "(256, 10)" in message
    assert "128" in message.split("(256, 10)")[1] and "256" in message.split("(256, 10)")[1], \
        "after the shapes, the message should name both inner dimensions"
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*\(5, 4, 2\)"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((5, 4, 2)))
    with pytest.raises(ValueError):
        Tensor(1.0) @ Tensor(np.ones(3))


@pytest.mark.reference  # a student's build words its own messages: not part of `tito module complete`
def test_reference_matmul_messages():
    """The reference build's wording, as the course pages quote it."""
    with pytest.raises(ValueError) as info:
        Tensor(np.ones((32, 128))) @ Tensor(np.ones((256, 10)))
    assert str(info.value) == ("Cannot perform matrix multiplication: (32, 128) @ (256, 10). "
                               "Inner dimensions must match: 128 ≠ 256")
    with pytest.raises(ValueError, match="Batch dimensions"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((5, 4, 2)))
    with pytest.raises(ValueError, match="at least one dimension"):
        Tensor(1.0) @ Tensor(np.ones(3))


def test_reshape_transpose_and_views():
    t = Tensor(np.arange(24, dtype=np.float32))
    assert t.reshape(2, 3, 4).shape == (2, 3, 4) and t.reshape((4, -1)).shape == (4, 6)
    assert np.shares_memory(t.reshape(6, 4).data, t.data)
    m = t.reshape(4, 6)
    assert np.array_equal(m.T.data, m.data.T) and np.array_equal(m.transpose().data, m.data.T)
    assert t.reshape(2, 3, 4).transpose().shape == (2, 4, 3)
    assert t.reshape(2, 3, 4).transpose(0, 2).shape == (4, 3, 2)
    assert Tensor([1, 2]).T.shape == (2,)
    with pytest.raises(ValueError, match=r"\(24,\).*\(5, 5\)"):
        t.reshape(5, 5)


@pytest.mark.parametrize("name", ["sum", "mean", "max"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(name, axis, keepdims):
    data = np.random.default_rng(1).standard_normal((3, 4, 5)).astype(np.float32)
    result = getattr(Tensor(data), name)(axis=axis, keepdims=keepdims)
    expected = getattr(np, name)(data, axis=axis, keepdims=keepdims)
    assert isinstance(result, Tensor) and result.dtype == np.float32
    assert result.shape == np.shape(expected) and np.allclose(result.data, expected, rtol=1e-5)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, array_shapes(max_dims=3, max_side=5), elements=finite))
def test_property_add_then_subtract_round_trips(a):
    b = np.full_like(a, 1.5)
    assert np.allclose(((Tensor(a) + Tensor(b)) - Tensor(b)).data, a, atol=1e-3)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=finite))
def test_property_double_transpose_is_identity_and_reshape_keeps_values(a):
    t = Tensor(a)
    assert np.array_equal(t.T.T.data, a)
    assert np.array_equal(t.reshape(-1).data, a.ravel())


def test_array_already_in_the_requested_dtype_is_not_copied():
    integers = np.arange(7, dtype=np.int64)
    assert Tensor(integers, dtype=np.int64).data is integers


# -- given methods with PyTorch's meaning: numel, view, contiguous, masked_fill ----------
def test_numel_is_the_number_of_elements_as_an_int():
    assert Tensor(np.zeros((2, 3, 4))).numel() == 24 and isinstance(Tensor(1.0).numel(), int)
    assert Tensor(1.0).numel() == 1 and Tensor(np.zeros((0, 3))).numel() == 0


def test_view_shares_memory_and_refuses_to_copy():
    t = Tensor(np.arange(24, dtype=np.float32))
    v = t.view(2, 3, 4)
    assert v.shape == (2, 3, 4) and np.shares_memory(v.data, t.data)
    assert t.view((4, -1)).shape == (4, 6) and t.view([6, 4]).shape == (6, 4)
    v.data[0, 0, 0] = 99.0
    assert t.data[0] == 99.0, "a view writes through to the original"
    with pytest.raises(ValueError, match=r"\(24,\).*\(5, 5\)"):
        t.view(5, 5)
    with pytest.raises(ValueError, match="contiguous"):
        t.view(4, 6).T.view(-1)
    assert t.view(4, 6).T.view(6, 4).shape == (6, 4), "viewing a transpose as its own shape needs no copy"
    assert Tensor([1.0], requires_grad=True).view(1, 1).requires_grad


def test_view_keeps_the_dtype_of_non_float32_tensors():
    t = Tensor(np.arange(6), dtype=np.float64)
    v = t.view(2, 3)
    assert v.dtype == np.float64 and np.shares_memory(v.data, t.data)


def test_contiguous_is_self_when_row_major_else_a_row_major_copy():
    t = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert t.contiguous() is t
    transposed = t.T
    copy = transposed.contiguous()
    assert copy is not transposed and copy.data.flags.c_contiguous and not np.shares_memory(copy.data, t.data)
    assert np.array_equal(copy.data, t.data.T) and copy.view(-1).data.tolist() == [0, 3, 1, 4, 2, 5]


def test_masked_fill_returns_a_new_tensor_and_broadcasts():
    t = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    out = t.masked_fill(np.array([True, False, True]), -1.0)
    assert out.data.tolist() == [[-1, 1, -1], [-1, 4, -1]] and out.dtype == np.float32 and out.requires_grad
    assert t.data.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert t.masked_fill(Tensor(np.array([[True], [False]]), dtype=bool), Tensor(7.0)).data.tolist() == \
        [[7, 7, 7], [3, 4, 5]]
    assert Tensor(np.zeros(3)).masked_fill(np.ones((2, 3), dtype=bool), 1.0).shape == (2, 3)
    assert t.masked_fill(t.data > 3, np.float64(0.5)).dtype == np.float32
    with pytest.raises(TypeError, match="boolean"):
        t.masked_fill(np.array([1, 0, 1]), 0.0)
    with pytest.raises(ValueError):
        t.masked_fill(np.array([True, False, True]), Tensor([1.0, 2.0]))
