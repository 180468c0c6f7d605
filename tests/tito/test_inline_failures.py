"""tito.inline: one line per failed check, and still an error output for nbgrader."""

import sys

import pytest

from tito.inline import one_line


def _failure(function):
    try:
        function()
    except (AssertionError, NotImplementedError):
        return sys.exc_info()
    raise AssertionError("expected a failure")


def _cell(source: str, name: str):
    """A function defined as a notebook cell would (no pytest assertion rewriting)."""
    import linecache

    filename = f"<cell-{name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


def test_assertion_with_message_names_the_test_and_the_reason():
    test = _cell("def test_unit_thing():\n    assert 1 == 2, 'the layer should have 4 parameters'\n",
                 "test_unit_thing")
    assert one_line(*_failure(test)) == "❌ test_unit_thing: the layer should have 4 parameters"


def test_bare_assertion_shows_the_failing_line():
    test = _cell("def test_unit_bare():\n    value = 3\n    assert value == 4\n", "test_unit_bare")
    assert one_line(*_failure(test)) == "❌ test_unit_bare: failed: assert value == 4"


def test_stub_names_the_method_still_to_write():
    class Linear:
        def forward(self):
            raise NotImplementedError("Not implemented yet: replace this line with your code")

    def test_unit_linear():
        Linear().forward()

    line = one_line(*_failure(test_unit_linear))
    assert line.startswith("❌ test_unit_linear: ") and "Linear.forward is not implemented yet" in line


def test_outside_a_test_there_is_no_test_name():
    def build():
        raise NotImplementedError("stub")

    assert one_line(*_failure(build)) in ("❌ test_outside_a_test_there_is_no_test_name.<locals>.build: stub",
                                          "❌ build: stub")


@pytest.mark.slow
def test_in_a_kernel_the_failure_is_still_an_error_output():
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from tito.inline import short_failures\nshort_failures()"),
        nbformat.v4.new_code_cell("def test_unit_x():\n    assert False, 'wrong shape'\ntest_unit_x()"),
        nbformat.v4.new_code_cell("print('after')"),
    ])
    NotebookClient(notebook, timeout=60, allow_errors=True, kernel_name="python3").execute()
    error = notebook.cells[1].outputs[0]
    assert error.output_type == "error" and error.ename == "AssertionError"
    assert error.traceback == ["❌ test_unit_x: wrong shape"]
    assert notebook.cells[2].outputs[0].text == "after\n"


def test_expect_error_returns_the_refused_calls_error():
    from tito.inline import expect_error

    def refuse():
        raise TypeError("expected a Tensor, got list")

    assert str(expect_error(TypeError, "Layer([1])", refuse)) == "expected a Tensor, got list"


@pytest.mark.parametrize(("call", "said"), [
    (lambda: None, "Layer([1]) should raise TypeError, got no error"),
    (lambda: int("x"),
     "Layer([1]) should raise TypeError, got ValueError: invalid literal for int() with base 10: 'x'"),
])
def test_expect_error_says_what_the_call_did_instead(call, said):
    from tito.inline import expect_error

    with pytest.raises(AssertionError) as failure:
        expect_error(TypeError, "Layer([1])", call)
    assert str(failure.value) == said


def test_expect_error_lets_a_stub_through_as_not_implemented():
    from tito.inline import STUB_MESSAGE, expect_error

    test = _cell("def test_unit_refusal(expect_error, stub):\n    expect_error(TypeError, 'Linear(0, 1)', stub)\n",
                 "test_unit_refusal")
    stub = _cell(f"def forward():\n    raise NotImplementedError('{STUB_MESSAGE}: replace this line')\n", "forward")
    said = one_line(*_failure(lambda: test(expect_error, stub)))
    assert said == "❌ test_unit_refusal: forward is not implemented yet"
