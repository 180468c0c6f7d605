"""Deadlines kept by the host: a submission cannot hold a grading worker past its limits,
whatever its code does to signals or timers.

One `tito nbgrader autograde` batch, beside an honest fully solved submission that keeps
100/100, with three attacks (each bounded: its own stall ends after ATTACK_SECONDS, so an
undefended grader is held minutes, never forever):

- `clean_room_stall`: exported code that, only in the clean room, switches the runner's
  timer off and sleeps at import (the clean room's in-process SIGALRM is the student's to
  cancel: setitimer is not audited);
- `ignores_sigint`: a cell that ignores SIGINT and spins, so nbclient's interrupt at the
  cell timeout does nothing (nbclient then gives up on the kernel: nothing is graded);
- `slow_cells`: many added cells, each just under the cell timeout: the notebook run as a
  whole is stopped at the submission's total limit;
- `test_stall`: Dropout.forward does the same as the first, but only when a clean-room
  test calls it: the tests before it keep their points, the tests after it are not run.

The wall time bound is a correctness bound (each attacker's limit plus a generous 30 s),
not a speed target.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import factory
import harness
import nbformat
import pytest
from helpers import copy_repo, run_tito, tito_env

pytestmark = pytest.mark.slow

CELL_TIMEOUT = 8
SUBMISSION_TIMEOUT = 45
STEP_GRACE = 5  # tito.grading.cleanroom.STEP_GRACE (not imported: the undefended engine has none)
SLACK = 30  # a busy machine: kernel starts, imports and the honest cells of each submission
ATTACK_SECONDS = 120
HONEST = "honest"

_STALL = f"""import time as _time


def _stall_in_clean_room():
    import sys

    if sys.argv[0].endswith("_tito_cleanroom.py"):  # only in the clean room
        import signal

        signal.setitimer(signal.ITIMER_REAL, 0)  # the runner's own time limit, gone
        until = _time.monotonic() + {ATTACK_SECONDS}  # bounded, so an undefended grader recovers
        while _time.monotonic() < until:
            _time.sleep(0.5)


"""
_SPIN = f"""import signal as _signal
import time as _time

_signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # nbclient's interrupt at the cell timeout: ignored
_until = _time.monotonic() + {ATTACK_SECONDS}
while _time.monotonic() < _until:
    pass


"""
FORWARD = "def forward(self, x: Tensor, training=None) -> Tensor:\n"
IOPUB_TIMEOUT = 4  # nbgrader's Execute.iopub_timeout: nbclient waits that long after a timed-out cell
SLOW_CELLS = ATTACK_SECONDS // (CELL_TIMEOUT - 3)
# student -> the limit (seconds) that must stop it
LIMITS = {"clean_room_stall": CELL_TIMEOUT + STEP_GRACE, "ignores_sigint": CELL_TIMEOUT + IOPUB_TIMEOUT,
          "slow_cells": SUBMISSION_TIMEOUT, "test_stall": CELL_TIMEOUT + STEP_GRACE}
BEFORE_DROPOUT = ["test-layer-base", "test-layer-base-errors", "test-linear-creation", "test-linear-creation-errors",
                  "test-linear-forward", "test-linear-forward-errors"]
AFTER_DROPOUT = ["test-dropout-errors", "test-sequential", "test-sequential-errors", "test-integration"]


def _submissions(root: Path) -> dict:
    correct = factory.solved(root)
    stall_at_import = factory.edit(correct, "sequential", "def _check_callable_layers",
                                   _STALL + "_stall_in_clean_room()\n\n\ndef _check_callable_layers")
    stall_in_test = factory.edit(correct, "dropout", "class Dropout(Layer):", _STALL + "class Dropout(Layer):")
    stall_in_test = factory.edit(stall_in_test, "dropout", FORWARD, FORWARD + "        _stall_in_clean_room()\n")
    spin = factory.edit(correct, "sequential", "def _check_callable_layers", _SPIN + "def _check_callable_layers")
    slow = copy.deepcopy(correct)
    slow.cells += [nbformat.v4.new_code_cell(f"import time\n\ntime.sleep({CELL_TIMEOUT - 3})  # under the cell limit")
                   for _ in range(SLOW_CELLS)]
    return {HONEST: correct, "clean_room_stall": stall_at_import, "ignores_sigint": spin, "slow_cells": slow,
            "test_stall": stall_in_test}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = copy_repo(tmp_path_factory.mktemp("deadlines") / "repo")
    env = tito_env(root) | {"TINYTORCH_CELL_TIMEOUT": str(CELL_TIMEOUT),
                            "TINYTORCH_SUBMISSION_TIMEOUT": str(SUBMISSION_TIMEOUT)}
    run_tito(root, "nbgrader", "generate", harness.MODULE, env=env, check=True)
    for student, notebook in _submissions(root).items():
        harness.plant(root / "nbgrader", student, notebook)
    report_file = root / "autograde.json"
    started = time.monotonic()
    cli = run_tito(root, "nbgrader", "autograde", harness.MODULE, "--jobs", "1", "--json", str(report_file), env=env)
    seconds = time.monotonic() - started
    reports = {r["student"]: r for r in json.loads(report_file.read_text())} if report_file.is_file() else {}
    return cli, reports, seconds


def cells(report: dict) -> dict[str, dict]:
    return {cell["grade_id"]: cell for cell in report["cells"]}


def timeouts(report: dict) -> list[str]:
    return [flag["message"] for flag in report["flags"] if flag["kind"] == "timeout"]


def test_the_batch_runs_and_the_honest_submission_keeps_full_marks(batch):
    cli, reports, _ = batch
    assert set(reports) == {HONEST, *LIMITS}, cli.stdout + cli.stderr
    honest = reports[HONEST]
    assert honest["score"] == honest["max_score"] == 100, honest
    assert not timeouts(honest)


def test_no_attacker_holds_the_worker_past_its_limit(batch):
    _, _, seconds = batch
    bound = SLACK + sum(limit + SLACK for limit in LIMITS.values())  # the honest one, then each attacker
    assert seconds < bound, f"the batch took {seconds:.0f} s; its limits allow {bound} s"


def test_exported_code_that_stalls_the_clean_room_is_stopped_at_the_cell_limit(batch):
    report = batch[1]["clean_room_stall"]
    assert report["score"] == 0, report  # nothing of the package imports: no test could run
    flag = " ".join(timeouts(report))
    assert "clean room" in flag and "exported cell" in flag and f"{CELL_TIMEOUT} s" in flag, report["flags"]
    for cell in report["cells"]:
        assert "not run: the clean room was stopped at exported cell" in cell["reason"], cell


def test_a_cell_that_ignores_sigint_is_stopped_and_flagged(batch):
    report = batch[1]["ignores_sigint"]
    assert report["score"] == 0 and not report["graded"], report
    assert any(f"cell time limit of {CELL_TIMEOUT} s and ignored the interrupt" in text
               for text in timeouts(report)), report["flags"]


def test_a_notebook_of_slow_cells_is_stopped_at_the_submission_limit(batch):
    report = batch[1]["slow_cells"]
    assert report["score"] == 0 and not report["graded"], report
    message = f"ran past its total limit of {SUBMISSION_TIMEOUT} s (step: notebook run)"
    assert any(message in text for text in timeouts(report)), report["flags"]
    assert not any(flag["kind"] == "kernel_died" for flag in report["flags"]), report["flags"]
    assert all(message in cell["reason"] for cell in report["cells"]), report["cells"]


def test_a_test_that_stalls_in_the_clean_room_is_stopped_and_named(batch):
    report = batch[1]["test_stall"]
    by_id = cells(report)
    for grade_id in BEFORE_DROPOUT:  # honest cells before the stalled test keep their points
        assert by_id[grade_id]["score"] == by_id[grade_id]["max_score"], by_id[grade_id]
    dropout = by_id["test-dropout"]
    assert dropout["score"] == 0 and "timed out" in dropout["reason"] and f"{CELL_TIMEOUT} s" in dropout["reason"]
    for grade_id in AFTER_DROPOUT:
        assert by_id[grade_id]["score"] == 0, by_id[grade_id]
        assert "not run: the clean room was stopped at test 'test-dropout'" in by_id[grade_id]["reason"]
    flag = " ".join(timeouts(report))
    assert "test 'test-dropout'" in flag and f"{CELL_TIMEOUT} s" in flag, report["flags"]
    assert report["score"] == sum(by_id[g]["max_score"] for g in BEFORE_DROPOUT)


# -- the clean room alone: the host's deadline, whatever the runner's own timer says -------
_CANCELS_TIMER = """
import signal
import time


def double(x):
    signal.setitimer(signal.ITIMER_REAL, 0)  # the runner's own limit, gone
    until = time.monotonic() + 60
    while time.monotonic() < until:
        time.sleep(0.5)
    return 2 * x
"""


def test_the_clean_room_is_stopped_from_outside_and_keeps_what_finished(tmp_path):
    from tito.grading import cleanroom
    from tito.sandbox.site import SiteSpec, build_site

    (tmp_path / "tinytorch" / "core").mkdir(parents=True)
    site = build_site(SiteSpec(tmp_path / "tinytorch", (), False), tmp_path / "site")
    tests = [{"grade_id": "before", "source": "assert True"}, {"grade_id": "stalls", "source": "double(1)"},
             {"grade_id": "after", "source": "assert True"}]
    result = cleanroom.run(site, "core.toy", [{"id": "cell-0", "source": _CANCELS_TIMER}], tests, [], 2)
    assert result.failure("before") == ""
    assert result.failure("stalls") == ("timed out: the clean room stopped this test after 7 s "
                                        "(the time limit of a cell is 2 s)")
    assert result.failure("after") == "not run: the clean room was stopped at test 'stalls' after 7 s"
    assert result.to_dict()["stopped"]["message"] == ("test 'stalls' ran past the cell time limit of 2 s and was "
                                                      "stopped after 7 s")
