"""Resource attacks in one autograde batch beside an honest submission: each stops at its
limit with a flag that names the limit, and the honest student keeps 100/100.

Every attack is bounded, so that an undefended grader only loses a few GiB for a few
seconds: allocations of at most 3 GiB, at most 1,500 sleeping processes that end on their
own after 20 s, and 2 GiB of files, deleted with the sandbox. Each attack sits in the
Dropout solution cell, before Dropout is defined: the cell fails, Dropout's tests fail with
it, and every other cell keeps its points.
"""

from __future__ import annotations

import json

import factory
import harness
import pytest
from helpers import copy_repo, run_tito, tito_env

from tito.sandbox import limits

pytestmark = pytest.mark.slow

MODULE = "03_layers"
HONEST = "ada"
# The Dropout cells (16 + 4) fail; the integration cell allows one part short.
WITHOUT_DROPOUT = 80

ATTACKS = {
    # one allocation past the limit: RLIMIT_AS refuses it (MemoryError in the cell)
    "memory-one-block": "import numpy as _np\n_hog = _np.ones(3 * 1024**3 // 8)\n",
    # three processes of 0.9 GiB each: every one is under RLIMIT_AS, together they pass the
    # cgroup's 2 GiB, and the out-of-memory killer stops one of them
    "memory-forked": (
        "import os as _os, time as _time\n"
        "import numpy as _np\n"
        "_children = []\n"
        "for _ in range(3):\n"
        "    _pid = _os.fork()\n"
        "    if _pid == 0:\n"
        "        _chunks = [_np.ones(100 * 1024**2 // 8) for _ in range(9)]\n"
        "        _time.sleep(3)\n"
        "        _os._exit(0)\n"
        "    _children.append(_pid)\n"
        "_killed = [_os.waitpid(_pid, 0)[1] for _pid in _children]\n"
        "raise RuntimeError(f'children ended with {_killed}')\n"),
    # 1,500 processes: the cgroup's pids.max refuses the 1,025th
    "processes": (
        "import subprocess as _sp\n"
        "_sleepers = [_sp.Popen(['sleep', '20']) for _ in range(1500)]\n"),
    # 2 GiB into /tmp, then 2 GiB into the working folder: the sandbox's /tmp holds 1 GiB
    "disk-tmp": (
        "_block = b'x' * (64 * 1024**2)\n"
        "with open('/tmp/filler', 'wb') as _out:\n"
        "    for _ in range(32):\n"
        "        _out.write(_block)\n"),
    "disk-workdir": (
        "_block = b'x' * (64 * 1024**2)\n"
        "for _index in range(32):\n"
        "    with open(f'filler-{_index}', 'wb') as _out:\n"
        "        _out.write(_block)\n"),
}
NAMED = {"memory-one-block": "memory limit of 2 GiB reached", "memory-forked": "memory limit of 2 GiB reached",
         "processes": "process limit of 1,024 reached", "disk-tmp": "disk limit of 1 GiB reached",
         "disk-workdir": "disk limit of 1 GiB reached"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> dict[str, dict]:
    if any(m.name in ("memory", "processes") for m in limits.missing()):
        pytest.fail("cgroup limits are not in force on this machine: " + str(limits.missing()))
    root = copy_repo(tmp_path_factory.mktemp("limits") / "repo")
    env = tito_env(root) | {"TINYTORCH_CELL_TIMEOUT": "15"}
    generated = run_tito(root, "nbgrader", "generate", MODULE, env=env)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    correct = factory.solved(root)
    harness.plant(root / "nbgrader", HONEST, correct)
    for name, code in ATTACKS.items():
        harness.plant(root / "nbgrader", name, factory.edit(correct, "dropout", "def _check_probability",
                                                            code + "\n\ndef _check_probability"))
    report = root / "report.json"
    result = run_tito(root, "nbgrader", "autograde", MODULE, "--json", str(report), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return {entry["student"]: entry for entry in json.loads(report.read_text())}


def flags(report: dict, kind: str) -> list[str]:
    return [flag["message"] for flag in report["flags"] if flag["kind"] == kind]


def test_the_honest_student_keeps_full_marks(batch):
    assert batch[HONEST]["score"] == 100, batch[HONEST]
    assert batch[HONEST]["flags"] == [], batch[HONEST]["flags"]


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_resource_attack_stops_at_its_limit_with_a_flag(batch, attack):
    report = batch[attack]
    assert report["graded"], report
    reached = flags(report, "resource_limit")
    assert any(NAMED[attack] in message for message in reached), report["flags"]
    assert report["score"] == WITHOUT_DROPOUT, [(c["grade_id"], c["score"], c["reason"]) for c in report["cells"]]
    dropout = next(cell for cell in report["cells"] if cell["grade_id"] == "test-dropout")
    if attack != "memory-forked":  # there the student's own error ends the cell; the cgroup saw the limit
        assert NAMED[attack] in dropout["reason"], dropout


def test_the_out_of_memory_killer_is_reported_by_the_cgroup(batch):
    """RLIMIT_AS cannot stop memory spread over processes: only the cgroup sees the sum."""
    messages = flags(batch["memory-forked"], "resource_limit")
    assert any("out-of-memory killer stopped a process" in message for message in messages), messages


def test_limits_in_force_carry_no_warning_flag(batch):
    for student, report in batch.items():
        assert not flags(report, "limits_not_in_force"), (student, report["flags"])
