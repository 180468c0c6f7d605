"""`tito release student`: the edition students clone and Binder builds, with no answers.

The edition is built from a throw-away copy of this repository. Every file and every git
object is scanned for solution and hidden-test lines; a planted leak stops the release. A
student then works in it as a student would: start, test, complete 01 → 02 → 03 with their
own code, and `git pull` a newer edition over the finished workspace."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from factory import solved, write
from helpers import commit_all, copy_repo, git, run_tito, tito_env

from tito.course.paths import Paths
from tito.workflows.instructor import edition

MODULES = ["01_tensor", "02_activations", "03_layers"]
NOTEBOOKS = {"01_tensor": "tensor.ipynb", "02_activations": "activations.ipynb", "03_layers": "layers.ipynb"}
# Solution and hidden-test lines of the sources (the scan below uses all of them; these
# few are spelled out so that the test visibly checks real answers).
KNOWN_SECRETS = ["seen.add(id(tensor))", "output = x.data * np.float32(1.0 / keep)",
                 "Linear(np.int32(5), np.uint16(3))"]


@pytest.fixture(scope="module")
def instructor(tmp_path_factory) -> Path:
    return commit_all(copy_repo(tmp_path_factory.mktemp("instructor") / "repo"))


@pytest.fixture(scope="module")
def published(instructor, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("published") / "tinytorch-student"
    result = run_tito(instructor, "release", "student", "--to", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def test_the_edition_holds_what_a_student_needs_and_nothing_else(published):
    files = set(git(published, "ls-files").split())
    for slug, name in NOTEBOOKS.items():
        assert f".course/{slug}/{name}" in files and f"tests/{slug}/test_{slug.split('_', 1)[1]}.py" in files or \
            any(f.startswith(f"tests/{slug}/") for f in files)
    assert {"README.md", "binder/postBuild", "binder/requirements.txt", "pyproject.toml", ".gitignore",
            "tinytorch/core/__init__.py", "tito/cli/main.py", "tito/workflows/student.py"} <= files
    assert not [f for f in files if f.startswith(("src/", "nbgrader/", "tests/sources/", "tests/nbgrader/",
                                                  "tests/hostile/", "modules/"))]
    assert not {"tito/workflows/instructor/assignments.py", "tito/workflows/instructor/edition.py",
                "tito/workflows/instructor/distributed.py", "tito/cli/instructor.py"} & files
    assert not [f for f in files if f.startswith("tinytorch/core/") and f != "tinytorch/core/__init__.py"], \
        "no graded module's build ships"
    assert len(git(published, "log", "--format=%H").split()) == 1, "fresh history: one commit"


def test_no_file_and_no_git_object_holds_an_answer(instructor, published):
    secrets = edition.secret_lines(Paths(instructor), set())
    assert all(any(known in line for line in secrets) for known in KNOWN_SECRETS), "the scan knows real answers"
    for path in published.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert not edition.leak_in(path.read_text(errors="replace"), secrets), path
    objects = edition.git_objects_text(published)
    assert objects and not edition.leak_in(objects, secrets)
    for known in KNOWN_SECRETS:
        assert known not in objects


def test_a_planted_leak_stops_the_release_and_names_the_file(instructor, tmp_path):
    leaky = copy_repo(tmp_path / "leaky")
    test_file = leaky / "tests/03_layers/test_layers.py"
    test_file.write_text(test_file.read_text() + "\n\ndef helper(seen, tensor):\n    seen.add(id(tensor))\n")
    target = tmp_path / "edition"
    result = run_tito(leaky, "release", "student", "--to", str(target))
    assert result.returncode == 1, result.stdout
    assert "tests/03_layers/test_layers.py" in result.stderr and "solution line of 03_layers" in result.stderr
    assert not target.exists(), "nothing was written"


def test_the_same_sources_give_the_same_tree_and_commit(instructor, published, tmp_path):
    again = tmp_path / "again"
    assert run_tito(instructor, "release", "student", "--to", str(again)).returncode == 0
    assert git(again, "rev-parse", "HEAD") == git(published, "rev-parse", "HEAD")


def test_only_student_commands_exist_in_the_edition(published, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(published), str(clone))
    env = tito_env(clone)
    assert "{module,system}" in run_tito(clone, "--help", env=env).stdout
    for args in (["nbgrader", "generate", "03_layers"], ["src", "export"], ["release", "student", "--to", "x"],
                 ["module", "test", "03_layers", "--reference"]):
        result = run_tito(clone, *args, env=env)
        assert result.returncode == 2 and "invalid choice" in result.stderr or "unrecognized" in result.stderr, args


@pytest.mark.slow
def test_a_student_completes_every_module_with_their_own_code(instructor, published, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(published), str(clone))
    env = tito_env(clone)
    assert run_tito(clone, "module", "list", env=env).stdout.count("not started") == 3
    for slug in MODULES:
        notebook = solved(instructor, slug, marker=f"written by student 4711 for {slug}")
        if slug == "01_tensor":  # their own Tensor, recognisable by what the later modules see
            cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "tensor-class")
            cell.source += "\n\nTensor.made_by = 'student 4711'\n"
        if slug == "03_layers":  # the layers module checks, when imported, that it runs on that Tensor
            cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "layer-base")
            cell.source += "\n\nassert getattr(Tensor, 'made_by', None) == 'student 4711'\n"
        write(notebook, clone / "modules" / slug / NOTEBOOKS[slug])
        result = run_tito(clone, "module", "complete", slug, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        build = clone / "tinytorch/core/_completed" / f"{slug.split('_', 1)[1]}.py"
        assert f"written by student 4711 for {slug}" in build.read_text()
    listing = run_tito(clone, "module", "list", env=env).stdout
    assert listing.count("completed with 100/100") == 3, listing
    assert git(clone, "status", "--porcelain") == "", "nothing git tracks changed"
    check = subprocess.run([sys.executable, "-c", "import tinytorch.core.layers as l; print(l.Tensor.made_by)"],
                           cwd=clone, env=env, capture_output=True, text=True)
    assert check.stdout.strip() == "student 4711", check.stderr


@pytest.mark.slow
def test_git_pull_of_a_newer_edition_keeps_the_students_work(instructor, tmp_path):
    published = tmp_path / "published"
    assert run_tito(instructor, "release", "student", "--to", str(published)).returncode == 0
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(published), str(clone))
    env = tito_env(clone)
    write(solved(instructor, "01_tensor", marker="my own tensor"), clone / "modules/01_tensor/tensor.ipynb")
    assert run_tito(clone, "module", "complete", "01_tensor", env=env).returncode == 0
    work = {p: p.read_bytes() for p in [clone / "modules/01_tensor/tensor.ipynb",
                                        clone / "tinytorch/core/_completed/tensor.py", clone / ".tito/progress.json"]}

    source = instructor / "src/01_tensor/01_tensor.py"  # the instructor improves the course
    source.write_text(source.read_text().replace("# # Module 01: Tensor", "# # Module 01: Tensor (2nd edition)"))
    git(instructor, "commit", "-q", "-am", "second edition")
    assert run_tito(instructor, "release", "student", "--to", str(published)).returncode == 0
    assert len(git(published, "log", "--format=%H").split()) == 2

    pulled = subprocess.run(["git", "-C", str(clone), "pull", "-q", "--ff-only"], capture_output=True, text=True)
    assert pulled.returncode == 0, pulled.stderr
    assert "2nd edition" in (clone / ".course/01_tensor/tensor.ipynb").read_text()
    assert {p: p.read_bytes() for p in work} == work, "the student's notebook, build and records are untouched"
    assert "completed" in run_tito(clone, "module", "list", env=env).stdout


def test_provided_modules_ship_their_reference_build(instructor, tmp_path):
    target = tmp_path / "with-tensor"
    result = run_tito(instructor, "release", "student", "--to", str(target), "--provide", "01")
    assert result.returncode == 0, result.stderr
    assert (target / "tinytorch/core/tensor.py").is_file() and not (target / "tinytorch/core/layers.py").exists()
    manifest = json.loads((target / ".course/course.json").read_text())
    assert [m["provided"] for m in manifest["modules"]] == [True, False, False]


@pytest.fixture(scope="module")
def provided(instructor, tmp_path_factory) -> Path:
    """An edition for Module 03, with 01 and 02 provided (as the Binder link assumes)."""
    target = tmp_path_factory.mktemp("provided") / "tinytorch-student"
    result = run_tito(instructor, "release", "student", "--to", str(target), "--provide", "01", "02")
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def test_the_readme_starts_where_the_course_starts(published, provided):
    assert "tito module start 01_tensor " in (published / "README.md").read_text()
    readme = (provided / "README.md").read_text()
    assert "tito module start 03_layers " in readme and "tito module start 01_tensor" not in readme, readme
    assert "01_tensor and 02_activations are provided" in readme, readme
    row = next(line for line in readme.splitlines() if line.startswith("| 01_tensor "))
    assert "provided" in row and "not graded" in row, row


def test_the_points_table_reads_plainly(provided):
    readme = (provided / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| 03_layers "))
    assert "0 on visible tests" not in row and "also depend on" not in row, row
    assert "every test cell runs here" in row or "visible tests:" in row, row


def test_module_list_shows_the_provided_modules(provided, tmp_path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(provided), str(clone))
    listing = run_tito(clone, "module", "list", env=tito_env(clone), check=True).stdout
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in listing.splitlines()
            if line.startswith("│ 0")}
    assert rows == {"01_tensor": "provided (instructor's build)", "02_activations": "provided (instructor's build)",
                    "03_layers": "not started"}, listing


def test_the_notebook_says_its_prerequisites_are_provided(published, provided):
    def intro(edition_root: Path) -> str:
        notebook = json.loads((edition_root / ".course/03_layers/layers.ipynb").read_text())
        return next("".join(c["source"]) for c in notebook["cells"] if "**Prerequisites:**" in "".join(c["source"]))

    assert "tito module complete 01_tensor" in intro(published)
    text = intro(provided)
    assert "Module 01 and Module 02 are provided" in text and "tito module complete 01_tensor" not in text, text


def test_an_update_keeps_the_provided_builds_unless_withdrawn(instructor, tmp_path):
    target = tmp_path / "edition"
    run_tito(instructor, "release", "student", "--to", str(target), "--provide", "01", "02", check=True)

    def provided() -> list[bool]:
        return [m["provided"] for m in json.loads((target / ".course/course.json").read_text())["modules"]]

    again = run_tito(instructor, "release", "student", "--to", str(target), check=True)  # a typo fixed, say
    assert provided() == [True, True, False] and (target / "tinytorch/core/tensor.py").is_file()
    assert "kept from the current edition" in again.stdout, again.stdout
    withdrawn = run_tito(instructor, "release", "student", "--to", str(target), "--withdraw", "01", check=True)
    assert provided() == [False, True, False] and not (target / "tinytorch/core/tensor.py").exists()
    assert "withdrawn: students who pull lose its build" in withdrawn.stdout, withdrawn.stdout
