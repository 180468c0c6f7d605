"""Grade each attack on its own and print the table kept in attacks.py's docstring.

    python tests/hostile/observe.py [ATTACK ...] [--jobs 2]

Each attack gets a fresh copy of a generated course (autograde) and a fresh repository
copy (`tito module test`, then `tito module complete`), with its own throw-away HOME and
virtual environment, so no attack profits from another. Not a test: a measuring tool.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent.parent)]

import attacks  # noqa: E402
import factory  # noqa: E402
import harness  # noqa: E402
from helpers import commit_all, copy_repo  # noqa: E402


def _template(base: Path) -> Path:
    root = copy_repo(base / "template")
    commit_all(root)
    python = harness.overlay_venv(base / "template-venv")
    env = harness.hostile_env(root, base / "template-home", python)
    result = harness.run_tito(root, python, env, "nbgrader", "generate", harness.MODULE)
    if result.returncode != 0:
        raise SystemExit(result.stdout + result.stderr)
    return root


def observe(name: str, template: Path, base: Path, accomplice: harness.Accomplice) -> dict:
    attack = attacks.ATTACKS[name]
    work = base / name
    row = {"name": name, "family": attack.family, "description": attack.description}

    course_root = work / "course"
    shutil.copytree(template, course_root, symlinks=True)
    python = harness.overlay_venv(work / "venv-a")
    env = harness.hostile_env(course_root, work / "home-a", python)
    harness.plant(course_root / "nbgrader", name, attack.build(course_root))
    harness.plant(course_root / "nbgrader", "ada", factory.solved(course_root))  # a classmate to copy from
    started = time.perf_counter()
    result = harness.run_tito(course_root, python, env, "nbgrader", "autograde", harness.MODULE,
                              "--json", "report.json", timeout=600)
    harness.wait_for_daemons(str(work))
    try:
        report = next(r for r in json.loads((course_root / "report.json").read_text()) if r["student"] == name)
        row["score"] = f"{report['score']:g}"
    except (OSError, ValueError, StopIteration, KeyError):
        row["score"] = f"error (exit {result.returncode})"
    row["gradebook"] = f"{_gradebook_score(course_root / 'nbgrader' / 'gradebook.db', name):g}"
    if attack.persistent:  # does an untouched notebook graded later profit?
        harness.plant(course_root / "nbgrader", "untouched", factory.fresh(course_root))
        harness.run_tito(course_root, python, env, "nbgrader", "autograde", harness.MODULE, "--student", "untouched",
                         "--json", "later.json", timeout=600)
        try:
            later = json.loads((course_root / "later.json").read_text())[0]
            row["later"] = f"later untouched: autograde {later['score']:g}"
        except (OSError, ValueError, IndexError, KeyError):
            row["later"] = "later untouched: autograde error"
    row["autograde_s"] = round(time.perf_counter() - started, 1)

    student_root = copy_repo(work / "student")
    commit_all(student_root)
    python = harness.overlay_venv(work / "venv-s")
    env = harness.hostile_env(student_root, work / "home-s", python)
    harness.write_student_notebook(student_root, attack.build(student_root))
    package = harness.tree_hashes(student_root / "tinytorch", skip=())
    test = harness.run_tito(student_root, python, env, "module", "test", harness.MODULE)
    complete = harness.run_tito(student_root, python, env, "module", "complete", harness.MODULE)
    harness.wait_for_daemons(str(work))
    exported = harness.tree_hashes(student_root / "tinytorch", skip=()) != package
    row["test"] = f"{'passed' if test.returncode == 0 else 'failed'} {_total(test.stdout)}"
    row["complete"] = ("exported" if complete.returncode == 0 and exported else
                       "exit 0, not exported" if complete.returncode == 0 else
                       "package changed" if exported else
                       "hung (killed)" if complete.returncode == harness.KILLED else "refused")
    row["complete"] += f" {_total(complete.stdout)}"
    if attack.persistent:
        harness.write_student_notebook(student_root, factory.fresh(student_root))
        later = harness.run_tito(student_root, python, env, "module", "test", harness.MODULE)
        row["later"] += f", module test {_total(later.stdout)}"
    progress = student_root / ".tito" / "progress.json"
    if progress.is_file() and json.loads(progress.read_text()).get(harness.MODULE, {}).get("completed"):
        row["complete"] += " (progress says completed)"
    mine = [data for data in accomplice.received if str(work).encode() in data]
    if mine:
        row["complete"] += f" [accomplice got {len(mine)}x: {harness.leaked(mine[:1])}]"
    shutil.rmtree(work, ignore_errors=True)
    return row


def _total(output: str) -> str:
    """The graded total from a printed score table ("total │ 85/100")."""
    found = re.findall(r"total\s*│\s*([\d.]+/[\d.]+)", output)
    return f"(graded {found[-1]})" if found else "(no table)"


def _gradebook_score(db: Path, student: str) -> float:
    """The student's total in the gradebook after every daemon is done (nbgrader's API)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{db}", course_id="tinytorch") as gradebook:
        try:
            return float(gradebook.find_submission_notebook("layers", harness.MODULE, student).score)
        except MissingEntry:
            return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    names = args.names or attacks.names()
    with tempfile.TemporaryDirectory(prefix="hostile-observe-") as scratch:
        base = Path(scratch)
        template = _template(base)
        accomplice = harness.Accomplice(harness.reference_answer(template))
        try:
            with ThreadPoolExecutor(args.jobs) as pool:
                rows = list(pool.map(lambda n: observe(n, template, base, accomplice), names))
        finally:
            accomplice.close()
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        print(f"{row['name']:<{width}}  {row['family']:<26} {row['score']:>5} (gradebook {row['gradebook']:>3})  "
              f"test {row['test']:<25} complete {row['complete']}  {row.get('later', '')}")


if __name__ == "__main__":
    main()
