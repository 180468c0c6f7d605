"""The clean-room runner against code that tries to cheat it, and against honest mistakes.

Each case runs the real runner in the sandbox with a few exported cells and a test; the
honest control passes, so a failing attack fails because of the defence."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tito.grading import cleanroom
from tito.sandbox.site import SiteSpec, build_site

GOOD = textwrap.dedent('''
    import numpy as np

    def double(x):
        return np.asarray(x, dtype=np.float32) * 2
''')
STUB = textwrap.dedent('''
    import numpy as np

    def double(x):
        raise NotImplementedError("Not implemented yet: replace this line with your code")
''')
TEST = textwrap.dedent('''
    def test_double():
        assert np.allclose(double([1.0, 2.0]), [2.0, 4.0]), "double([1, 2]) should be [2, 4]"
        print("✅ double")
    test_double()
''')


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    (folder / "tinytorch" / "core").mkdir(parents=True)
    return build_site(SiteSpec(folder / "tinytorch", (), False), folder / "built")


WRONG = textwrap.dedent('''
    import numpy as np

    def double(x):
        return np.asarray(x, dtype=np.float32)  # forgot to double: fails honestly
''')


def run(site: Path, *cells: str, test: str = TEST, timeout: float = 20, guarded: bool = True):
    return cleanroom.run(site, "core.toy", [{"id": f"cell-{i}", "source": c} for i, c in enumerate(cells)],
                         [{"grade_id": "test-double", "source": test}], [], timeout, guarded=guarded)


def test_honest_code_passes(site):
    assert run(site, GOOD).failure("test-double") == ""


def test_a_stub_fails_and_is_named(site):
    assert run(site, STUB).failure("test-double") == "double is not implemented yet (NotImplementedError)"


def test_wrong_code_fails_with_the_tests_message(site):
    assert "double([1, 2]) should be [2, 4]" in run(site, WRONG).failure("test-double")


# Attacks placed in exported code next to a wrong `double`. Without the runner's guard each
# one passes the test (the control below proves it); with it, none does.
ATTACKS = {
    "settrace jumps over the asserts": '''
        import sys
        def _jump(frame, event, arg):
            if event == "line":
                last = max(line for _, _, line in frame.f_code.co_lines() if line)
                if frame.f_lineno < last:
                    frame.f_lineno = last
            return _jump
        sys.settrace(lambda frame, event, arg: _jump if frame.f_code.co_name.startswith("test_") else None)
    ''',
    "numpy patched to agree": '''
        import numpy
        numpy.allclose = lambda *args, **kwargs: True
    ''',
    "sys.modules swapped": '''
        import sys, types
        import numpy as real
        fake = types.ModuleType("numpy")
        fake.__dict__.update(real.__dict__)
        fake.allclose = lambda *args, **kwargs: True
        sys.modules["numpy"] = fake
    ''',
    "signal handler reaches the runner": '''
        import signal, json as _json
        class _Lying:
            @staticmethod
            def dumps(report):
                for outcome in report.get("tests", {}).values():
                    outcome.update(passed=True, reason="")
                return _json.dumps(report)
        def _peek(signum, frame):
            while frame.f_back is not None:
                frame = frame.f_back
            frame.f_globals["json"] = _Lying
        signal.signal(signal.SIGPROF, _peek)
        signal.setitimer(signal.ITIMER_PROF, 0.0005, 0.0005)
        sum(range(3_000_000))  # give the timer some CPU time to fire in
    ''',
    "traceback frames reach the runner": '''
        import json as _json
        try:
            raise ValueError
        except ValueError as error:
            frame = error.__traceback__.tb_frame
            while frame.f_back is not None:
                frame = frame.f_back
        class _Lying:
            @staticmethod
            def dumps(report):
                for outcome in report.get("tests", {}).values():
                    outcome.update(passed=True, reason="")
                return _json.dumps(report)
        frame.f_globals["json"] = _Lying
    ''',
    "gc finds the runner": '''
        import gc, json as _json
        class _Lying:
            @staticmethod
            def dumps(report):
                for outcome in report.get("tests", {}).values():
                    outcome.update(passed=True, reason="")
                return _json.dumps(report)
        for thing in gc.get_objects():
            if getattr(thing, "__name__", "") == "main" and "json" in getattr(thing, "__globals__", {}):
                thing.__globals__["json"] = _Lying
    ''',
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_exported_code_cannot_cheat_the_clean_room(site, name):
    attack = textwrap.dedent(ATTACKS[name])
    assert run(site, WRONG, attack, guarded=False).failure("test-double") == "", f"{name}: the control must pass"
    assert run(site, WRONG, attack).failure("test-double"), f"{name}: wrong code passed the clean room"


BLOCKED = {
    "ctypes": ("import ctypes\nctypes.pythonapi.Py_IncRef", "ctypes"),
    "its own memory": ("open('/proc/self/mem', 'rb')", "open /proc/self/mem"),
    "a new process": ("import subprocess\nsubprocess.run(['true'])", "subprocess.Popen"),
    "frames": ("import sys\nsys._getframe()", "sys._getframe"),
}


@pytest.mark.parametrize("name", list(BLOCKED))
def test_the_guard_refuses_and_says_what(site, name):
    code, what = BLOCKED[name]
    errors = run(site, GOOD, code).export_errors
    assert errors and f"not allowed in the clean room: {what}" in errors[0]["reason"], errors


@pytest.mark.parametrize("code", ["import os\nos._exit(0)", "import os, json\nos.write(1, json.dumps("
                                  "{'export_errors': [], 'tests': {'test-double': {'passed': True, 'reason': ''}}, "
                                  "'tampering': []}).encode() + b'\\n')\nos._exit(0)"])
def test_a_run_without_its_report_fails(site, code):
    result = run(site, WRONG, code, guarded=False)
    assert not result.ran and "stopped early" in result.failure("test-double")


def test_changes_to_numpy_are_reported_and_undone(site):
    result = run(site, GOOD, textwrap.dedent(ATTACKS["numpy patched to agree"]))
    assert "numpy.allclose changed" in " ".join(result.tampering)


def test_a_syntax_error_costs_only_its_own_cell(site):
    broken = "def other(:\n    pass\n"
    result = run(site, GOOD, broken)
    assert result.failure("test-double") == ""
    assert result.export_errors[0]["cell"] == "cell-1" and "SyntaxError" in result.export_errors[0]["reason"]


def test_a_test_that_runs_too_long_is_stopped(site):
    slow = "import time\nimport numpy as np\n\ndef double(x):\n    while True:\n        time.sleep(0.1)\n"
    assert "timed out after 2 s" in run(site, slow, timeout=2).failure("test-double")


def test_the_clean_room_has_no_proc_to_read_or_write(site):
    """Its guard refuses paths that start with /proc; '//proc/self/mem' does not, so the
    clean room has no /proc at all (the runner's memory and the grader's environment)."""
    probe = textwrap.dedent('''
        import os
        for _path in ("//proc/self/mem", "//proc/1/environ", "/./proc/self/status"):
            assert not os.path.exists(_path), f"{_path} is visible"
    ''')
    result = run(site, GOOD + probe)
    assert result.export_errors == [] and result.failure("test-double") == "", (result.export_errors, result.tests)


# The notebooks' errors cells take `expect_error` from tito.inline, which exported code can
# import too (tito.inline is in the kernel's and the clean room's site): patching it must not
# make a refused-input test pass without the refusal.
HONEST_REFUSAL = textwrap.dedent('''
    import numpy as np

    def double(x):
        if isinstance(x, str):
            raise TypeError(f"double needs numbers, got {type(x).__name__}")
        return np.asarray(x, dtype=np.float32) * 2
''')
ERRORS_TEST = textwrap.dedent('''
    def test_double_errors():
        from tito.inline import expect_error
        error = expect_error(TypeError, "double('x')", lambda: double("x"))
        assert "str" in str(error), f"the TypeError should name str, got {str(error)!r}"
        print("✅ double refuses text")
    test_double_errors()
''')
INLINE_ATTACKS = {
    "expect_error replaced": '''
        import tito.inline
        tito.inline.expect_error = lambda kind, action, call: kind("str")
    ''',
    "tito.inline swapped in sys.modules": '''
        import sys, types
        fake = types.ModuleType("tito.inline")
        fake.expect_error = lambda kind, action, call: kind("str")
        sys.modules["tito.inline"] = fake
    ''',
    "expect_error's code swapped": '''
        import tito.inline
        tito.inline.expect_error.__code__ = (lambda kind, action, call: kind("str")).__code__
    ''',
}


def test_an_honest_refusal_passes_its_errors_test(site):
    assert run(site, HONEST_REFUSAL, test=ERRORS_TEST).failure("test-double") == ""
    assert "should raise TypeError" in run(site, WRONG, test=ERRORS_TEST).failure("test-double")


@pytest.mark.parametrize("name", list(INLINE_ATTACKS))
def test_exported_code_cannot_fake_expect_error(site, name):
    attack = textwrap.dedent(INLINE_ATTACKS[name])
    if "__code__" not in attack:  # swapping a function's code is refused even unguarded: no control
        assert run(site, WRONG, attack, test=ERRORS_TEST, guarded=False).failure("test-double") == "", \
            f"{name}: the control must pass"
    result = run(site, WRONG, attack, test=ERRORS_TEST)
    assert result.failure("test-double"), f"{name}: a missing refusal passed the clean room"
