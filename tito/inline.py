"""Notebook helper: a failed check reads as one line, `❌ test_name: reason`.

Loaded by the first cell of each course notebook; it runs inside the sandboxed kernel
(standard library only: the sandbox's site folder holds a copy). The failure stays an error output of the
cell (so nbgrader still scores the cell 0); only its traceback is replaced by one line
naming the test and the reason: the assertion's message, or the failing line when it has
none, or the method that is still a stub.
"""

from __future__ import annotations

import linecache
from types import TracebackType

RESULT_MARKER = "❌"  # starts the one line of a failed check: grading and feedback look for it
STUB_MESSAGE = "Not implemented yet"  # what a solution cell's stub raises (nbgrader_config.py's code_stub)


def _frames(tb: TracebackType | None):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _test_name(tb: TracebackType | None) -> str:
    tests = [f.tb_frame.f_code.co_name for f in _frames(tb) if f.tb_frame.f_code.co_name.startswith("test_")]
    return tests[-1] if tests else ""


def _reason(etype: type, value: BaseException, tb: TracebackType | None) -> str:
    frames = list(_frames(tb))
    if issubclass(etype, NotImplementedError) and frames:
        code = frames[-1].tb_frame.f_code
        where = getattr(code, "co_qualname", code.co_name)  # co_qualname: Python 3.11+
        detail = str(value).strip()
        if not detail or detail.startswith(STUB_MESSAGE):  # the stub's own message
            return f"{where} is not implemented yet"
        return f"{where}: {detail}"
    if str(value).strip():
        return str(value).strip().splitlines()[0]
    if frames:
        last = frames[-1]
        line = linecache.getline(last.tb_frame.f_code.co_filename, last.tb_lineno).strip()
        if line:
            return f"failed: {line}"
    return etype.__name__


def expect_error(kind: type[BaseException], action: str, call) -> BaseException:
    """The error that `call()` raises, which must be a `kind`; otherwise an AssertionError
    saying what `action` did instead. A stub's NotImplementedError goes through, so that the
    cell reads "... is not implemented yet". For the notebooks' tests of refused input."""
    try:
        call()
    except NotImplementedError:
        raise
    except kind as error:
        return error
    except Exception as error:
        raise AssertionError(f"{action} should raise {kind.__name__}, got {type(error).__name__}: {error}") from None
    raise AssertionError(f"{action} should raise {kind.__name__}, got no error")


def one_line(etype: type, value: BaseException, tb: TracebackType | None) -> str:
    test = _test_name(tb)
    reason = _reason(etype, value, tb)
    return f"{RESULT_MARKER} {test}: {reason}" if test else f"{RESULT_MARKER} {reason}"


def short_failures() -> None:
    """Show AssertionError and NotImplementedError in this IPython session as one line."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def handler(shell, etype, value, tb, tb_offset=None):
        structured = [one_line(etype, value, tb)]
        shell._showtraceback(etype, value, structured)  # an error output, as usual, but short
        return structured

    shell.set_custom_exc((AssertionError, NotImplementedError), handler)
