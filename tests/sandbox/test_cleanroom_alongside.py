"""The clean room started beside the notebook run (cleanroom.start_early): the later run()
with the same arguments gets that run's result instead of running again, a run with other
arguments runs on its own, and one nobody collects is stopped, sandbox and all."""

from __future__ import annotations

import textwrap
import time

import pytest

from tito.grading import cleanroom
from tito.sandbox import bwrap as sandbox
from tito.sandbox.site import SiteSpec, build_site

CODE = "import numpy as np\n\ndef double(x):\n    return np.asarray(x, dtype=np.float32) * 2\n"
TESTS = [{"grade_id": "test-double", "source": textwrap.dedent('''
    assert np.allclose(double([1.0, 2.0]), [2.0, 4.0]), "double([1, 2]) should be [2, 4]"
''')}]
SLOW = "import time\ntime.sleep(120)\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    (folder / "tinytorch" / "core").mkdir(parents=True)
    return build_site(SiteSpec(folder / "tinytorch", (), False), folder / "built")


@pytest.fixture
def runs(monkeypatch) -> list[list[dict]]:
    """The cells of every clean room that really ran."""
    ran: list[list[dict]] = []
    real = cleanroom._run

    def counted(*arguments, **options):
        ran.append(arguments[2])
        return real(*arguments, **options)

    monkeypatch.setattr(cleanroom, "_run", counted)
    yield ran
    cleanroom.discard_early()


def _cells(source: str) -> list[dict]:
    return [{"id": "cell-0", "source": source}]


def test_the_run_with_the_same_arguments_collects_the_early_one(site, runs):
    cleanroom.start_early(site, "core.toy", _cells(CODE), TESTS, [], 20)
    result = cleanroom.run(site, "core.toy", _cells(CODE), TESTS, [], 20)
    assert len(runs) == 1, "the clean room ran twice"
    assert result.ran and result.failure("test-double") == ""
    assert cleanroom._EARLY == {}


def test_a_run_with_other_arguments_runs_on_its_own(site, runs):
    cleanroom.start_early(site, "core.toy", _cells(CODE), TESTS, [], 20)
    wrong = "import numpy as np\n\ndef double(x):\n    return np.asarray(x)\n"
    result = cleanroom.run(site, "core.toy", _cells(wrong), TESTS, [], 20)
    assert sorted(cells[0]["source"] for cells in runs) == sorted([CODE, wrong])
    assert result.failure("test-double"), "the other code's own result, not the early one's"


def test_an_early_run_nobody_collects_is_stopped(site, runs):
    cleanroom.start_early(site, "core.toy", _cells(SLOW), TESTS, [], 200)
    deadline = time.monotonic() + 30
    while not sandbox.RUNNING and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.RUNNING, "the early clean room never started"
    started = time.monotonic()
    cleanroom.discard_early()
    assert time.monotonic() - started < 15, "discarding waited for the slow run to end by itself"
    assert not sandbox.RUNNING and cleanroom._EARLY == {}
