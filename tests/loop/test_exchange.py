"""A course on JupyterHub keeps nbgrader's exchange: the instructor releases with `nbgrader
release_assignment`, the student checks with `tito module submit` (which finds the exchange
and prints the `nbgrader submit` command) and runs that command, the instructor runs
`nbgrader collect`, and `tito nbgrader autograde` grades what nbgrader collected, with the
exchange's timestamp. The exchange is a folder under tmp_path, set as nbgrader's
`c.Exchange.root` in a Jupyter config folder (as /etc/jupyter/nbgrader_config.py does on a hub)."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys

import pytest
from helpers import run_tito
from loop_course import MODULE, NOTEBOOK, TOTALS, copy_course, course_env, notebooks

pytestmark = pytest.mark.slow


def _nbgrader(cwd, env, *args):
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_nbgrader_s_exchange_then_tito_s_autograde(generated, tmp_path):
    from factory import write

    exchange, config = tmp_path / "exchange", tmp_path / "jupyter"
    config.mkdir()
    (config / "nbgrader_config.py").write_text(f"c = get_config()  # noqa: F821\nc.Exchange.root = {str(exchange)!r}\n")
    instructor = copy_course(generated, tmp_path / "instructor")
    student = copy_course(generated, tmp_path / "student")
    env = course_env(instructor) | {"JUPYTER_CONFIG_DIR": str(config)}
    released = _nbgrader(instructor, env, "release_assignment", MODULE)
    assert released.returncode == 0, released.stdout + released.stderr
    assert (exchange / "tinytorch" / "outbound" / MODULE / NOTEBOOK).is_file()

    write(notebooks(student)["alan"], student / "modules" / MODULE / NOTEBOOK)
    student_env = course_env(student) | {"JUPYTER_CONFIG_DIR": str(config)}
    checked = run_tito(student, "module", "submit", MODULE, env=student_env)
    output = checked.stdout + checked.stderr
    assert checked.returncode == 0, output
    command = f"cd modules/hand-in && nbgrader submit {MODULE} --course tinytorch"
    assert f"Next: hand it in through your course's nbgrader exchange:\n  {command}" in output, output
    folder, submit = command.removeprefix("cd ").split(" && ")
    submitted = _nbgrader(student / folder, student_env, *submit.split()[1:])
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr

    collected = _nbgrader(instructor, env, "collect", MODULE)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    who = getpass.getuser()  # nbgrader's exchange names the student by their account
    folder = instructor / "nbgrader" / "submitted" / who / MODULE
    assert (folder / NOTEBOOK).is_file() and (folder / "timestamp.txt").is_file()
    stamp = (folder / "timestamp.txt").read_text().strip()

    report = tmp_path / "autograde.json"
    graded = run_tito(instructor, "nbgrader", "autograde", MODULE, "--json", str(report), env=env)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert [(r["student"], r["score"]) for r in json.loads(report.read_text())] == [(who, TOTALS["alan"])]
    from nbgrader.api import Gradebook

    from tito.coursedir import intake

    with Gradebook(f"sqlite:///{instructor / 'nbgrader' / 'gradebook.db'}", "tinytorch") as book:
        assert book.find_submission(MODULE, who).timestamp == intake.parse_utc(stamp)
