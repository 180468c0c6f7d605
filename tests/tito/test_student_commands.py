"""The student commands, run as a student would (`python -m tito ...`) in repository copies."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import nbformat
import pytest
from factory import edit, fresh, solved, without, write
from helpers import run_tito, tito_env

LAYERS = "modules/03_layers/layers.ipynb"
PACKAGE = "tinytorch/core/layers.py"
COMPLETED = "tinytorch/core/_completed/layers.py"


def _no_traceback(result):
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


# -- no kernel needed ---------------------------------------------------------------------
def test_list_shows_every_module_and_state(repo):
    result = run_tito(repo, "module", "list", check=True)
    for slug in ("01_tensor", "02_activations", "03_layers"):
        assert slug in result.stdout
    assert result.stdout.count("not started") == 3
    run_tito(repo, "module", "start", "03_layers", "--no-lab", check=True)
    assert run_tito(repo, "module", "status", check=True).stdout.count("not started") == 3, "opened, not edited"
    path = repo / LAYERS
    path.write_text(path.read_text().replace("YOUR CODE HERE", "MY FIRST LINE"))
    assert "in progress" in run_tito(repo, "module", "status", check=True).stdout


@pytest.mark.parametrize("name", ["03_layers", "03", "3", "layers", "modules/03_layers/layers.ipynb"])
def test_module_names_are_accepted_in_every_form(repo, name):
    result = run_tito(repo, "module", "start", name, "--no-lab", check=True)
    assert "Created modules/03_layers/layers.ipynb" in result.stdout


def test_unknown_module_is_a_clear_error(repo):
    result = run_tito(repo, "module", "test", "99_magic")
    assert result.returncode == 1
    assert "Unknown module '99_magic'" in result.stderr and "03_layers" in result.stderr
    _no_traceback(result)


def test_a_mistyped_module_or_command_gets_a_suggestion(repo):
    result = run_tito(repo, "module", "test", "layer")
    assert result.returncode == 1 and "Did you mean 03_layers?" in " ".join(result.stderr.split()), result.stderr
    assert "Did you mean" not in run_tito(repo, "module", "test", "99_magic").stderr, "no guess for nonsense"
    for args, meant in [(("moduel", "list"), "module"), (("module", "tset", "03"), "test"),
                        (("nbgrader", "autogarde", "03"), "autograde")]:
        result = run_tito(repo, *args)
        assert result.returncode == 2 and f"did you mean '{meant}'?" in result.stderr, result.stderr
        _no_traceback(result)


def test_every_command_has_help_with_an_example(repo):
    commands = [("module", "list"), ("module", "start"), ("module", "test"), ("module", "complete"),
                ("module", "reset"), ("system", "doctor"), ("src", "export"), ("course", "build"),
                ("nbgrader", "generate"), ("nbgrader", "autograde"), ("nbgrader", "feedback"),
                ("nbgrader", "export"), ("release", "student")]
    for args in commands:
        text = run_tito(repo, *args, "--help", check=True).stdout
        assert f"example:\n  tito {' '.join(args)}" in text, text
    assert "03_layers, 03 or layers" in run_tito(repo, "module", "test", "--help", check=True).stdout
    assert "never replaced without --force" in " ".join(run_tito(repo, "nbgrader", "export", "--help",
                                                                 check=True).stdout.split())
    assert "alias: status" in run_tito(repo, "module", "--help", check=True).stdout or \
        "status" in run_tito(repo, "module", "list", "--help", check=True).stdout


def test_version(repo):
    result = run_tito(repo, "--version", check=True)
    assert re.fullmatch(r"tito \d+\.\d+\.\d+ \(tinytorch-layers, course at (.+)\)\n", result.stdout), result.stdout
    assert result.stdout.rstrip().endswith(f"course at {repo})")


def test_outside_a_course_tito_says_which_course_it_uses(repo, tmp_path):
    env = tito_env(repo)
    del env["TITO_ROOT"]
    result = subprocess.run([sys.executable, "-m", "tito", "module", "list"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    said = " ".join(result.stderr.split())
    assert result.returncode == 0 and "not inside a course folder: using the course at" in said, result.stderr
    inside = subprocess.run([sys.executable, "-m", "tito", "module", "list"], cwd=repo, env=env,
                            capture_output=True, text=True, timeout=120)
    assert "not inside" not in inside.stderr


def test_debug_shows_the_traceback(repo):
    result = run_tito(repo, "--debug", "module", "test", "99_magic")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_start_creates_a_solution_free_notebook_and_never_overwrites(repo):
    run_tito(repo, "module", "start", "03_layers", "--no-lab", check=True)
    path = repo / LAYERS
    text = path.read_text()
    assert "### BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "seen.add(id(tensor))" not in text and "weight *= np.float32(scale)" not in text
    assert "NotImplementedError" in text
    path.write_text(text.replace("YOUR CODE HERE", "MY OWN WORK"))
    edited = path.read_bytes()
    result = run_tito(repo, "module", "start", "03_layers", "--no-lab", check=True)
    assert "left as it is" in result.stdout and path.read_bytes() == edited


def test_start_here_names_the_first_part_still_to_write(repo):
    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.workflows import student

    module = resolve(Paths(repo), "03_layers")
    write(fresh(repo), repo / LAYERS)
    assert student.start_here(module) == student.StartHere("Part 1: the `Layer` base class", "layer-base")
    write(solved(repo, only={"layer-base"}), repo / LAYERS)
    here = student.start_here(module)
    assert here is not None and here.part.startswith("Part 2") and here.cell != "layer-base", here
    write(solved(repo), repo / LAYERS)
    assert student.start_here(module) is None


def test_a_newer_copy_of_the_notebook_is_named(repo):
    import os

    from tito.course.paths import Paths
    from tito.course.registry import resolve
    from tito.workflows import student

    module = resolve(Paths(repo), "03_layers")
    write(fresh(repo), repo / LAYERS)
    copy = repo / "modules/03_layers/layers-Copy1.ipynb"
    write(fresh(repo), copy)
    os.utime(repo / LAYERS, (1_000_000_000, 1_000_000_000))
    assert student.newer_copies(module) == [copy]
    os.utime(copy, (900_000_000, 900_000_000))
    assert student.newer_copies(module) == [], "an older copy is not news"


def test_start_checks_prerequisites(repo):
    (repo / "tinytorch/core/activations.py").unlink()
    result = run_tito(repo, "module", "start", "03_layers", "--no-lab")
    assert result.returncode == 1 and "needs 02_activations" in result.stderr
    assert "tito module complete 02_activations" in result.stderr
    assert not (repo / LAYERS).exists()
    _no_traceback(result)


def test_corrupt_notebook_is_reported_and_left_alone(repo):
    path = repo / LAYERS
    path.parent.mkdir(parents=True)
    path.write_text('{"cells": [ this is not json')
    before = path.read_bytes()
    package = (repo / PACKAGE).read_bytes()
    for command in ("test", "complete"):
        result = run_tito(repo, "module", command, "03_layers")
        assert result.returncode == 1 and "not a valid notebook" in result.stderr
        assert "tito module reset 03_layers" in result.stderr
        _no_traceback(result)
    assert path.read_bytes() == before and (repo / PACKAGE).read_bytes() == package


def test_missing_kernel_is_a_clear_error(repo):
    write(fresh(repo), repo / LAYERS)
    env = tito_env(repo) | {"TITO_KERNEL_NAME": "no-such-kernel"}
    result = run_tito(repo, "module", "test", "03_layers", env=env)
    assert result.returncode == 1 and "kernel 'no-such-kernel'" in result.stderr
    assert "ipykernel install" in result.stderr
    _no_traceback(result)


def test_reset_keeps_a_backup_and_restores_a_fresh_copy(repo):
    path = write(fresh(repo), repo / LAYERS)
    path.write_text(path.read_text().replace("YOUR CODE HERE", "HALF-DONE WORK"))
    work = path.read_bytes()
    result = run_tito(repo, "module", "reset", "03_layers", "--yes", check=True)
    backups = list((repo / ".tito/backups/03_layers").glob("layers-*.ipynb"))
    assert len(backups) == 1 and backups[0].read_bytes() == work
    assert str(backups[0].relative_to(repo)) in result.stdout
    assert b"HALF-DONE WORK" not in path.read_bytes()
    assert nbformat.reads(path.read_text(), as_version=4).cells


def test_reset_package_backs_up_and_removes_the_students_build(repo):
    write(fresh(repo), repo / LAYERS)
    shipped = (repo / PACKAGE).read_bytes()
    build = repo / COMPLETED
    build.parent.mkdir(parents=True)
    build.write_text("# a student's export\n")
    result = run_tito(repo, "module", "reset", "03_layers", "--yes", "--package", check=True)
    assert not build.exists() and (repo / PACKAGE).read_bytes() == shipped
    saved = list((repo / ".tito/backups/03_layers").glob("layers-*.py"))
    assert [p.read_text() for p in saved] == ["# a student's export\n"]
    assert "gives the build shipped with the course" in result.stdout


def test_src_export_check_detects_stale_files_and_export_fixes_them(repo):
    assert run_tito(repo, "src", "export", "--check").returncode == 0
    target = repo / "tinytorch/core/tensor.py"
    target.write_text(target.read_text() + "# hand edit\n")
    (repo / "tinytorch/core/activations.py").unlink()
    result = run_tito(repo, "src", "export", "--check")
    assert result.returncode == 1
    assert "tinytorch/core/tensor.py" in result.stderr and "tinytorch/core/activations.py" in result.stderr
    assert "layers.py" not in result.stderr
    run_tito(repo, "src", "export", check=True)
    assert run_tito(repo, "src", "export", "--check").returncode == 0


def test_generation_is_deterministic(repo):
    first = {p.name: p.read_bytes() for p in (repo / "tinytorch/core").glob("*.py")}
    run_tito(repo, "src", "export", check=True)
    assert first == {p.name: p.read_bytes() for p in (repo / "tinytorch/core").glob("*.py")}
    assert nbformat.writes(fresh(repo)) == nbformat.writes(fresh(repo))
    ids = [c.id for c in fresh(repo).cells]
    assert "linear" in ids and "test-dropout" in ids and len(set(ids)) == len(ids)


def test_doctor_reports_a_healthy_environment(repo):
    result = run_tito(repo, "system", "doctor")
    assert result.returncode == 0, result.stdout
    assert "import tinytorch.core.layers" in result.stdout and "missing" not in result.stdout


def test_doctor_says_how_to_fix_a_broken_package(repo):
    (repo / "tinytorch/core/tensor.py").write_text("raise ImportError('broken on purpose')\n")
    result = run_tito(repo, "system", "doctor")
    assert result.returncode == 1 and "tito src export 01_tensor" in result.stdout


# -- with a real kernel -----------------------------------------------------------------------
def package_state(root):
    """Every file of the package, by content: complete must change it only when it succeeds."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "tinytorch").rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def progress_of(root, slug="03_layers"):
    path = root / ".tito/progress.json"
    return json.loads(path.read_text()).get(slug, {}) if path.exists() else {}


@pytest.mark.slow
def test_test_scores_an_untouched_notebook_zero(repo):
    run_tito(repo, "module", "start", "03_layers", "--no-lab", check=True)
    result = run_tito(repo, "module", "test", "03_layers")
    assert result.returncode == 1
    assert "0/100" in result.stdout
    stubbed = re.findall(r"(test-(?!integration)[a-z-]+)\b.*?is not implemented yet", result.stdout)
    parts = ["test-layer-base", "test-linear-creation", "test-linear-forward", "test-dropout", "test-sequential"]
    errors = [f"{part}-errors" for part in parts]  # each unit cell fails on its own stub, errors cells too
    assert sorted(stubbed) == sorted(parts + errors), result.stdout
    table_text = " ".join(result.stdout.replace("│", " ").split())
    assert "falling short, got 4" in table_text, result.stdout  # and integration, on all four parts
    assert progress_of(repo)["tested"]["score"] == 0
    said = " ".join(result.stdout.split())
    assert "Start here: Part 1: the `Layer` base class: the cell 'layer-base'" in said, result.stdout


@pytest.mark.slow
def test_complete_exports_the_students_own_code_and_records_progress(repo):
    write(solved(repo, marker="solved by student 4711"), repo / LAYERS)
    shipped = (repo / PACKAGE).read_bytes()
    result = run_tito(repo, "module", "complete", "03_layers")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "100/100" in result.stdout and "Completed 03_layers" in result.stdout
    exported = (repo / COMPLETED).read_text()
    assert "solved by student 4711" in exported and "BEGIN SOLUTION" not in exported
    assert exported.startswith("# AUTOGENERATED from modules/03_layers/layers.ipynb")
    assert (repo / PACKAGE).read_bytes() == shipped, "the shipped (tracked) build is never changed"
    completed = progress_of(repo)["completed"]
    assert completed["score"] == 100 and completed["max_score"] == 100
    assert "completed" in run_tito(repo, "module", "list", check=True).stdout
    imported = subprocess.run([sys.executable, "-c", "import tinytorch.core.layers as m; print(m.__file__)"],
                              cwd=repo, env=tito_env(repo), capture_output=True, text=True, check=True)
    assert imported.stdout.strip().endswith(COMPLETED), "import gives the student's build"


@pytest.mark.slow
def test_complete_runs_the_package_tests_on_the_students_build(repo):
    # a package test that only the student's build can fail: complete must run it against that build
    (repo / "tests/03_layers/test_planted.py").write_text(
        "import tinytorch.core.layers as layers\n\n\n"
        "def test_build_is_not_marked():\n"
        "    assert 'marked by the test' not in open(layers.__file__).read()\n")
    write(solved(repo, marker="marked by the test"), repo / LAYERS)
    before = package_state(repo)
    result = run_tito(repo, "module", "complete", "03_layers")
    assert result.returncode == 1 and "100/100" in result.stdout
    assert "package tests in tests/03_layers fail" in result.stderr
    assert "test_build_is_not_marked" in result.stderr
    assert package_state(repo) == before
    assert not progress_of(repo).get("completed")


@pytest.mark.slow
def test_complete_on_a_partial_notebook_exports_nothing(repo):
    write(solved(repo, only={"layer-base", "linear"}), repo / LAYERS)
    before = package_state(repo)
    result = run_tito(repo, "module", "complete", "03_layers")
    assert result.returncode == 1
    assert "40/100" in result.stdout and "nothing was exported" in result.stderr
    assert package_state(repo) == before
    assert not progress_of(repo).get("completed")


@pytest.mark.slow
def test_tampered_locked_cell_is_restored_and_flagged(repo):
    notebook = solved(repo, only={"layer-base", "linear"})
    notebook = edit(notebook, "test-dropout", "def test_unit_dropout():",
                    "def test_unit_dropout():\n    return  # assert True")
    write(notebook, repo / LAYERS)
    result = run_tito(repo, "module", "test", "03_layers")
    assert result.returncode == 1
    assert "tampered: locked cell edited, restored for grading: test-dropout" in result.stdout
    assert "40/100" in result.stdout  # the real Dropout test ran, and failed


@pytest.mark.slow
def test_deleted_graded_cell_is_restored_for_grading_but_blocks_completion(repo):
    write(without(solved(repo), "test-sequential"), repo / LAYERS)
    before = package_state(repo)
    result = run_tito(repo, "module", "complete", "03_layers")
    assert result.returncode == 1
    assert "missing: cells missing from the submission: test-sequential" in result.stdout
    assert package_state(repo) == before


@pytest.mark.slow
def test_reference_grades_full_marks(repo):
    result = run_tito(repo, "module", "test", "03_layers", "--reference")
    assert result.returncode == 0 and "100/100" in result.stdout


def test_reset_asks_on_a_terminal_and_no_keeps_everything(repo):
    import pexpect

    path = write(fresh(repo), repo / LAYERS)
    path.write_text(path.read_text().replace("YOUR CODE HERE", "WORK IN PROGRESS"))
    before = path.read_bytes()
    child = pexpect.spawn(sys.executable, ["-m", "tito", "module", "reset", "03_layers"], cwd=str(repo),
                          env=tito_env(repo), encoding="utf-8", timeout=120)
    child.expect(r"a backup is kept\)\? \[y/N\]")
    child.sendline("n")
    child.expect("Nothing changed")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1 and path.read_bytes() == before
    assert not (repo / ".tito/backups").exists()


def test_instructor_commands_reject_bad_arguments_clearly(repo):
    result = run_tito(repo, "nbgrader", "export", "--to", str(repo / "no-such-folder" / "grades.csv"))
    assert result.returncode == 1 and "does not exist" in result.stderr
    _no_traceback(result)
    assert not (repo / "no-such-folder").exists()
    result = run_tito(repo, "nbgrader", "autograde", "03_layers", "--jobs", "0")
    assert result.returncode == 2 and "at least 1" in result.stderr
    result = run_tito(repo, "nbgrader", "feedback", "03_layers")
    assert result.returncode == 1 and "tito nbgrader generate 03_layers" in result.stderr
    _no_traceback(result)


# -- the student's work stays theirs, and the list tells the truth -------------------------------
def _states(repo) -> dict[str, str]:
    rows = {}
    for line in run_tito(repo, "module", "list", check=True).stdout.splitlines():
        for slug in ("01_tensor", "02_activations", "03_layers"):
            if line.startswith(f"│ {slug}"):
                cells = [cell.strip() for cell in line.strip("│").split("│")]
                rows[slug] = cells[1]
    return rows


@pytest.mark.slow
def test_list_follows_the_student_through_every_step(repo):
    assert _states(repo)["03_layers"] == "not started"
    run_tito(repo, "module", "start", "03_layers", "--no-lab", check=True)
    assert _states(repo)["03_layers"] == "not started", "opening a notebook is not progress"
    write(solved(repo, only={"layer-base", "linear"}), repo / LAYERS)
    assert _states(repo)["03_layers"] == "in progress: not tested yet"
    run_tito(repo, "module", "test", "03_layers")
    assert _states(repo)["03_layers"] == "in progress: last test 40/100"
    write(solved(repo), repo / LAYERS)
    assert run_tito(repo, "module", "complete", "03_layers").returncode == 0
    assert _states(repo)["03_layers"] == "completed with 100/100"
    run_tito(repo, "module", "reset", "03_layers", "--yes", check=True)
    assert _states(repo)["03_layers"] == "completed with 100/100", "the build is still theirs"
    run_tito(repo, "module", "reset", "03_layers", "--yes", "--package", check=True)
    assert _states(repo)["03_layers"] == "not started"


@pytest.mark.slow
def test_course_build_and_src_export_leave_a_completed_build_alone(repo):
    write(solved(repo, marker="my own layers"), repo / LAYERS)
    assert run_tito(repo, "module", "complete", "03_layers").returncode == 0
    build = (repo / COMPLETED).read_bytes()
    (repo / PACKAGE).write_text("# stale shipped build\n")  # something for export to regenerate
    exported = run_tito(repo, "src", "export", check=True)
    assert "updated tinytorch/core/layers.py" in exported.stdout
    assert "tinytorch/core/_completed/layers.py was left as it is" in exported.stdout
    assert "tito module reset 03_layers --package" in exported.stdout
    built = run_tito(repo, "course", "build", "03_layers")
    assert built.returncode == 0, built.stdout + built.stderr
    assert (repo / COMPLETED).read_bytes() == build and b"my own layers" in build
    assert "completed" in _states(repo)["03_layers"]


def _children_running(parent: int, text: str) -> bool:
    """Does a direct child of `parent` (the sandbox's bwrap) run a command containing `text`?"""
    listing = subprocess.run(["ps", "-eww", "-o", "ppid=,args="], capture_output=True, text=True).stdout
    return any(line.split(None, 1)[0] == str(parent) and text in line for line in listing.splitlines())


def _interrupt(repo, command: str) -> subprocess.CompletedProcess:
    """Start `tito module <command> 03_layers` on a notebook whose first solution never ends,
    press Ctrl-C once grading is under way (SIGINT to its process group, as a terminal does)."""
    import os
    import signal
    import time

    notebook = edit(solved(repo), "layer-base", "class Layer:", "while True:\n    pass\n\n\nclass Layer:")
    write(notebook, repo / LAYERS)
    process = subprocess.Popen([sys.executable, "-m", "tito", "module", command, "03_layers"], cwd=repo,
                               env=tito_env(repo) | {"TINYTORCH_CELL_TIMEOUT": "120"}, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not _children_running(process.pid, "ipykernel_launcher") and time.monotonic() < deadline:
        time.sleep(0.2)  # wait until this grading's sandboxed kernel runs the notebook
    time.sleep(2)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["test", "complete"])
def test_ctrl_c_records_nothing_and_exits_130(repo, command):
    before, progress = package_state(repo), dict(progress_of(repo))
    result = _interrupt(repo, command)
    assert result.returncode == 130, result.stdout + result.stderr
    assert "Interrupted: nothing was recorded" in result.stderr and "Fix the failing" not in result.stderr
    assert "Traceback" not in result.stderr
    assert package_state(repo) == before and progress_of(repo) == progress


@pytest.mark.slow
def test_a_missing_prerequisite_is_named_as_the_cause(repo):
    write(solved(repo), repo / LAYERS)
    (repo / "tinytorch/core/tensor.py").unlink()  # module 01 is neither shipped nor completed
    result = run_tito(repo, "module", "test", "03_layers")
    assert result.returncode == 1
    text = " ".join(result.stdout.split())
    assert "missing_prerequisite:" in text and "tinytorch.core.tensor" in text
    assert "because of an earlier problem: a module this one builds on cannot be imported" in text
