"""The clean-room runner: runs a module's graded tests against a student's exported code.

Copied into the sandbox's site folder (as `_tito_cleanroom.py`) and run there by a fresh
interpreter that never sees the notebook's other cells. Standard library and NumPy only.

Protocol: the job arrives as JSON on stdin (read completely, then closed, before any
student code runs). The exported cells are executed one by one into the module object
`tinytorch.<target>` (a cell that does not compile or raises is recorded and skipped,
like a notebook cell), then each graded test runs in its own namespace built from that
module, the trusted import header and a snapshot of the builtins. Before each step (the
earlier modules' import, an exported cell, a test) a progress line, prefixed by the job's
nonce and " step ", names the step and carries the results so far: the host kills the
run when a step outlives its deadline, whatever student code did to this process's
timers. The report is printed as one line, prefixed by the nonce, after the last test.

Student code runs in this process, so the runner guards what it can: an audit hook
(PEP 578) refuses frame access, tracing, gc introspection, ctypes, new processes and
/proc; signal handlers (which receive frames) cannot be installed; sys.modules entries and
attributes of NumPy, the builtins and tito.inline (the test cells' expect_error) changed by
student code are put back and reported; the nonce and the results live only in this
function's locals. Whatever escapes all that still has to
beat the notebook run too: a cell's score is the lower of the two.
"""

import builtins
import json
import os
import sys
import time
import types

_FRAME_ATTRIBUTES = {"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back", "f_locals", "f_globals"}
_BLOCKED_EVENTS = {
    "sys.settrace", "sys.setprofile", "sys._getframe", "sys._current_frames", "sys._current_exceptions",
    "gc.get_objects", "gc.get_referrers", "gc.get_referents", "os.fork", "os.forkpty", "os.posix_spawn",
    "os.spawn", "os.exec", "os.system", "os.kill", "os.killpg", "subprocess.Popen", "pty.spawn",
    "sys.remote_exec", "os.startfile",
}
_BLOCKED_IMPORTS = {"ctypes", "_ctypes", "cffi", "_cffi_backend"}


_MISSING = object()


class TestTimeout(BaseException):
    """A test ran past its time limit (a BaseException: `except Exception` cannot hide it)."""


def _install_guard(state):
    """The audit hook. It stays for the life of the process: Python cannot remove one."""

    import collections

    allowed_callers = {collections.namedtuple.__code__}  # the standard library's own use of _getframe

    def hook(event, args):
        if state["trusted"]:
            return
        if event == "sys._getframe":
            state["trusted"] = True
            try:
                caller = sys._getframe(1).f_code  # the Python frame that called sys._getframe
            finally:
                state["trusted"] = False
            if caller in allowed_callers:
                return
        if event in _BLOCKED_EVENTS or event.startswith("ctypes."):
            raise PermissionError(f"not allowed in the clean room: {event}")
        if event in ("object.__getattr__", "object.__setattr__") and len(args) > 1:
            if args[1] in _FRAME_ATTRIBUTES or (event == "object.__setattr__" and args[1] == "__code__"):
                raise PermissionError(f"not allowed in the clean room: {args[1]}")
        elif event == "open" and args and isinstance(args[0], (str, bytes)):
            path = os.fsdecode(args[0])
            if path.startswith("/proc") or path.startswith("/dev/mem"):
                raise PermissionError(f"not allowed in the clean room: open {path}")
        elif event == "import" and args and args[0] in _BLOCKED_IMPORTS:
            raise PermissionError(f"not allowed in the clean room: import {args[0]}")

    sys.addaudithook(hook)


def _refuse(*args, **kwargs):
    raise PermissionError("not allowed in the clean room: signal handlers")


def _lock_signals():
    """Signal handlers receive the interrupted frame; nothing in the clean room needs one."""
    import _imp
    import _signal
    import signal

    signal.signal = _signal.signal = _refuse
    real_create = _imp.create_builtin

    def create_builtin(spec):
        if getattr(spec, "name", "") in ("_signal", "signal", "faulthandler"):
            raise PermissionError("not allowed in the clean room: re-creating the signal module")
        return real_create(spec)

    _imp.create_builtin = create_builtin


def _snapshot(modules):
    return {name: dict(vars(module)) for name, module in modules.items()}


def _restore(snapshot, trusted_modules):
    """Put back sys.modules entries and module attributes that student code replaced or
    removed; returns what was changed. (Attributes that appear are left: NumPy loads some
    submodules lazily.)"""
    changed = []
    for name, module in trusted_modules.items():
        if sys.modules.get(name) is not module:
            changed.append(f"sys.modules[{name!r}] replaced")
            sys.modules[name] = module
    for name, attributes in snapshot.items():
        namespace = vars(trusted_modules[name])
        for key, value in attributes.items():
            if namespace.get(key, _MISSING) is not value:
                changed.append(f"{name}.{key} changed")
                namespace[key] = value
    return changed


def _first_line(text):
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[0][:300] if lines else ""


def _reason(error, state):
    """One line: the message, or the unfinished method's name, or the exception type."""
    kind = type(error).__name__
    if isinstance(error, NotImplementedError):
        state["trusted"] = True
        try:
            tb, where = error.__traceback__, ""
            while tb is not None:
                code = tb.tb_frame.f_code
                where = getattr(code, "co_qualname", code.co_name)
                tb = tb.tb_next
        finally:
            state["trusted"] = False
        return f"{where} is not implemented yet (NotImplementedError)" if where else "NotImplementedError"
    try:
        message = _first_line(BaseException.__str__(error))
    except Exception:  # noqa: BLE001
        message = ""
    return f"{kind}: {message}" if message else kind


def _test_namespace(module, prerequisites, trusted_builtins):
    """The names a test cell sees: the student's module, with every name it imported from
    NumPy or an earlier module bound to the real object, and the builtins as they were."""
    namespace = dict(module.__dict__)
    for name in list(namespace):
        if name.startswith("__"):
            continue
        for trusted in prerequisites:
            if name in vars(trusted):
                namespace[name] = vars(trusted)[name]
    if "np" in namespace:
        namespace["np"] = sys.modules["numpy"]
    namespace["__builtins__"] = dict(trusted_builtins)
    namespace["__name__"] = "__main__"
    return namespace


def _alarm(signum, frame):
    raise TestTimeout()


def _announce(out, nonce, step, report):
    """The progress line the host's deadline watches (the nonce keeps student code from forging one)."""
    os.write(out, (nonce + " step " + json.dumps({"step": step, "report": report}) + "\n").encode())


def main():
    import signal

    raw = b""
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        raw += chunk
    os.close(0)
    job = json.loads(raw)
    del raw
    nonce = job.pop("nonce")
    timeout = float(job.get("timeout") or 60)
    out = os.dup(1)  # the report goes here, whatever student code does to sys.stdout

    import numpy  # noqa: F401  (trusted: imported before any student code, with the parts it loads lazily)
    import numpy.fft  # noqa: F401
    import numpy.linalg  # noqa: F401
    import numpy.random  # noqa: F401
    try:  # the notebooks' helper (the test cells' expect_error): trusted like NumPy, before student code
        import tito.inline  # noqa: F401
    except ImportError:
        pass

    trusted_builtins = dict(vars(builtins))
    signal.signal(signal.SIGALRM, _alarm)
    state = {"trusted": False}
    guarded = job.get("guard", True)  # False only in the tests that show what the guard stops
    if guarded:
        _lock_signals()
        _install_guard(state)
    _announce(out, nonce, {"kind": "start-up"}, {"export_errors": [], "tests": {}, "tampering": []})
    for name in job.get("prerequisites", []):  # earlier modules: imported guarded, then kept as they are
        try:
            __import__(name)
        except BaseException as error:  # noqa: BLE001
            report_error = {"cell": name, "kind": "prerequisite", "reason": _reason(error, state)}
            os.write(out, (nonce + json.dumps({"export_errors": [report_error], "tests": {}, "tampering": []})
                           + "\n").encode())
            os._exit(0)
    trusted_modules = {name: module for name, module in sys.modules.items() if module is not None and (
        name in ("numpy", "builtins", "tito", "tito.inline") or name.startswith(("numpy.", "tinytorch")))}
    snapshot = _snapshot(trusted_modules)

    report = {"export_errors": [], "tests": {}, "tampering": []}
    sink = open(os.devnull, "w")  # noqa: SIM115  (student output is not part of the report)
    sys.stdout = sys.stderr = sink

    module = types.ModuleType(job["module"])
    module.__file__ = job.get("file", "")
    module.__package__ = job["module"].rpartition(".")[0]
    sys.modules[job["module"]] = module
    for cell in job["cells"]:
        try:
            code = compile(cell["source"], f"<exported cell {cell['id']}>", "exec")
        except SyntaxError as error:
            report["export_errors"].append({"cell": cell["id"], "kind": "syntax",
                                            "reason": f"SyntaxError: {error.msg} (line {error.lineno})"})
            continue
        _announce(out, nonce, {"kind": "exported cell", "name": cell["id"]}, report)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            exec(code, module.__dict__)
        except BaseException as error:  # noqa: BLE001  (SystemExit and timeouts included)
            report["export_errors"].append({"cell": cell["id"], "kind": "error", "reason": _reason(error, state)})
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    if guarded:
        report["tampering"] += _restore(snapshot, trusted_modules)

    prerequisites = [sys.modules[name] for name in job.get("prerequisites", [])]
    for test in job["tests"]:
        namespace = _test_namespace(module, prerequisites, trusted_builtins)
        _announce(out, nonce, {"kind": "test", "name": test["grade_id"]}, report)
        started = time.perf_counter()
        passed, reason = False, ""
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            exec(compile(test["source"], f"<test cell {test['grade_id']}>", "exec"), namespace)
            passed = True
        except TestTimeout:
            reason = f"timed out after {timeout:g} s"
        except BaseException as error:  # noqa: BLE001
            reason = _reason(error, state)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        changed = _restore(snapshot, trusted_modules) if guarded else []
        if changed:
            passed = False
            reason = "your code changed NumPy or Python itself while the test ran: " + ", ".join(changed[:3])
            report["tampering"] += changed
        report["tests"][test["grade_id"]] = {"passed": passed, "reason": reason,
                                             "seconds": round(time.perf_counter() - started, 3)}

    os.write(out, (nonce + json.dumps(report) + "\n").encode())
    os._exit(0)  # no atexit handlers or finalizers of student code after the report


if __name__ == "__main__":
    main()
