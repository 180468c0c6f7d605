"""The hostile submissions of attacks.py against the real engine: every one must score 0.

Expected to FAIL against the undefended engine (see the table in attacks.py); they are
the acceptance tests of "Trustworthy grading". Slow: one autograde batch with every attack
as its own student, then `tito module test` and `tito module complete` per attack in two
shared student checkouts run side by side (in each, whatever an attack leaves behind is
seen by the next). `pytest -k` selects attacks; HOSTILE_LANES and HOSTILE_MODULE_TIMEOUT
tune the run.

tito runs on a throw-away interpreter and HOME (harness.py): attacks that write into
site-packages or ~/.ipython only ever touch those.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import attacks
import factory
import harness
import pytest
from helpers import REPO, commit_all, copy_repo

pytestmark = pytest.mark.slow

ALL = attacks.names()
PERSISTENT = [a.name for a in attacks.ATTACKS.values() if a.persistent]
CORRECT = "ada"  # a correct submission in the same batch
UNTOUCHED = "untouched"


# -- reading the JSON report (today: `error` and string flags; the new engine: `reason`
#    and {"kind", "message"} flags) ---------------------------------------------------------
def load_reports(path: Path) -> dict[str, dict]:
    return {entry["student"]: entry for entry in json.loads(path.read_text(encoding="utf-8"))}


def total(report: dict) -> float:
    return sum(float(cell["score"]) for cell in report.get("cells", []))


def maximum(report: dict) -> float:
    return sum(float(cell["max_score"]) for cell in report.get("cells", []))


def passed_cells(report: dict) -> list[str]:
    return [cell["grade_id"] for cell in report.get("cells", []) if float(cell["score"]) > 0]


def reason(cell: dict) -> str:
    return cell.get("reason", cell.get("error", ""))


def flag_texts(report: dict) -> list[str]:
    return [f"{f['kind']}: {f.get('message', '')}" if isinstance(f, dict) else str(f)
            for f in report.get("flags", [])]


def graded_total(output: str) -> str:
    """The total of a score table printed by `tito module test/complete` ("total │ 85/100")."""
    found = re.findall(r"total\s*│\s*([\d.]+/[\d.]+)", output)
    return f"(graded {found[-1]})" if found else "(no score table)"


def describe(report: dict) -> str:
    cells = ", ".join(f"{c['grade_id']} {float(c['score']):g}/{float(c['max_score']):g}"
                      + (f" ({reason(c)[:60]})" if reason(c) else "") for c in report.get("cells", []))
    return f"{total(report):g}/{maximum(report):g}; cells: {cells}; flags: {flag_texts(report)}"


# -- one autograde batch -----------------------------------------------------------------------
@dataclass
class Batch:
    base: Path
    root: Path
    python: Path
    env: dict
    reports: dict[str, dict]
    output: str
    killed_daemons: list[int]
    heard_by_accomplice: list[bytes]


@pytest.fixture(scope="module")
def accomplice():
    server = harness.Accomplice(harness.reference_answer(REPO))
    if server.server is None:
        pytest.fail(f"none of the accomplice's ports {attacks.ACCOMPLICE_PORTS} is free: "
                    "stop what listens there (`ss -ltnp`) and run again")
    yield server
    server.close()


@pytest.fixture(scope="module")
def batch(tmp_path_factory, accomplice) -> Batch:
    """Generate the course, plant `ada` (correct) and every attack as its own student, and
    autograde them all in one run; wait for the attacks' daemons before reading anything."""
    base = tmp_path_factory.mktemp("hostile-batch")
    root = copy_repo(base / "repo")
    commit_all(root)
    python = harness.overlay_venv(base / "venv")
    env = harness.hostile_env(root, base / "home", python)
    generated = harness.run_tito(root, python, env, "nbgrader", "generate", harness.MODULE, timeout=300)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    course = root / "nbgrader"
    harness.plant(course, CORRECT, factory.solved(root))
    for name in ALL:
        harness.plant(course, name, attacks.ATTACKS[name].build(root))
    heard = len(accomplice.received)
    result = harness.run_tito(root, python, env, "nbgrader", "autograde", harness.MODULE, "--json", "report.json",
                              timeout=900)
    killed = harness.wait_for_daemons(str(base))
    assert result.returncode == 0, result.stdout + result.stderr
    reports = load_reports(root / "report.json")
    yield Batch(base, root, python, env, reports, result.stdout, killed, accomplice.received[heard:])
    harness.wait_for_daemons(str(base), limit=0)


@pytest.mark.parametrize("name", ALL)
def test_autograde_gives_zero(batch, name):
    attack = attacks.ATTACKS[name]
    report = batch.reports.get(name)
    if report is None:
        pytest.fail(f"{name} is missing from the report")
    if total(report) != 0:
        pytest.fail(f"{name} ({attack.family}: {attack.description}) scored {describe(report)}")


def test_correct_submission_in_the_same_batch_gets_full_marks(batch):
    report = batch.reports[CORRECT]
    assert total(report) == maximum(report) == 100, describe(report)


def test_no_attack_daemon_outlived_its_grading(batch):
    assert not batch.killed_daemons, f"attack daemons still alive 75 s after grading: {batch.killed_daemons}"


def test_the_gradebook_holds_no_grade_written_by_an_attacker(batch):
    """After the batch, and after every daemon has finished trying: no extra credit, no
    manual score, and no cell scored higher in the gradebook than in the grader's report
    (a score the grader did not measure was written by someone else)."""
    from nbgrader.api import Gradebook, MissingEntry

    problems = []
    with Gradebook(f"sqlite:///{batch.root / 'nbgrader' / 'gradebook.db'}", course_id="tinytorch") as gradebook:
        for student in [CORRECT, *ALL]:
            try:
                notebook = gradebook.find_submission_notebook("layers", harness.MODULE, student)
            except MissingEntry:
                continue  # never graded: nothing written either
            reported = {c["grade_id"]: float(c["score"]) for c in batch.reports.get(student, {}).get("cells", [])}
            written = []
            for grade in notebook.grades:
                if grade.extra_credit:
                    written.append(f"extra_credit {grade.extra_credit:g} on {grade.name}")
                if grade.manual_score is not None:
                    written.append(f"manual_score {grade.manual_score:g} on {grade.name}")
                if grade.auto_score is not None and grade.auto_score > reported.get(grade.name, 0.0):
                    written.append(f"auto_score {grade.auto_score:g} on {grade.name} "
                                   f"(reported {reported.get(grade.name, 0.0):g})")
            if written:
                problems.append(f"{student}: " + ", ".join(written))
    if problems:
        pytest.fail("grades the grader did not measure:\n" + "\n".join(problems))


def test_nothing_reached_the_network(batch):
    if batch.heard_by_accomplice:
        pytest.fail(f"the accomplice on 127.0.0.1 received: {harness.leaked(batch.heard_by_accomplice)}")


def test_later_untouched_notebook_scores_zero(batch):
    """Persistence: after the batch graded the persistence attacks (and every other one),
    a later, separate autograde run on the same course grades an untouched notebook: 0."""
    assert set(PERSISTENT) <= set(batch.reports)
    harness.plant(batch.root / "nbgrader", UNTOUCHED, factory.fresh(batch.root))
    result = harness.run_tito(batch.root, batch.python, batch.env, "nbgrader", "autograde", harness.MODULE,
                              "--student", UNTOUCHED, "--json", "later.json")
    harness.wait_for_daemons(str(batch.base))
    assert result.returncode == 0, result.stdout + result.stderr
    report = load_reports(batch.root / "later.json")[UNTOUCHED]
    if total(report) != 0:
        pytest.fail(f"an untouched notebook graded after the batch (persistent attacks: {', '.join(PERSISTENT)}) "
                    f"scored {describe(report)}")


# -- tito module test / complete, in shared student checkouts ------------------------------------
# The attacks run one after the other in each of LANES checkouts (attack i in lane i % LANES),
# each lane with its own HOME and interpreter that every attack of the lane shares, so that
# what one leaves behind is seen by the next; the lanes run side by side on the two cores.
LANES = int(os.environ.get("HOSTILE_LANES", "2"))


@dataclass
class Lane:
    base: Path
    root: Path
    python: Path
    env: dict
    names: list[str] = field(default_factory=list)


def _new_lane(base: Path) -> Lane:
    root = copy_repo(base / "repo")
    commit_all(root)
    python = harness.overlay_venv(base / "venv")
    return Lane(base, root, python, harness.hostile_env(root, base / "home", python))


def _completed(root: Path) -> bool:
    try:
        progress = json.loads((root / ".tito" / "progress.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(progress.get(harness.MODULE, {}).get("completed"))


def _heard(accomplice, lane: Lane) -> list[bytes]:
    """What the accomplice received from this lane (its HOME is in the environment sent)."""
    return [data for data in list(accomplice.received) if str(lane.base).encode() in data]


def _attack_in_lane(lane: Lane, name: str, accomplice) -> list[str]:
    """Write the attack as the student's notebook, run `tito module test` and `complete`;
    returns what went wrong (nothing, once the defence works)."""
    root = lane.root
    harness.write_student_notebook(root, attacks.ATTACKS[name].build(root))
    package_before = harness.tree_hashes(root / "tinytorch", skip=())
    checkout_before = harness.tree_hashes(root)
    heard = len(_heard(accomplice, lane))

    test = harness.run_tito(root, lane.python, lane.env, "module", "test", harness.MODULE)
    complete = harness.run_tito(root, lane.python, lane.env, "module", "complete", harness.MODULE)
    killed = harness.wait_for_daemons(str(lane.base))
    with open(lane.base / "outcomes.tsv", "a", encoding="utf-8") as record:  # for reading after a run
        record.write(f"{name}\ttest exit {test.returncode} {graded_total(test.stdout)}"
                     f"\tcomplete exit {complete.returncode} {graded_total(complete.stdout)}\n")

    problems = []
    for command, result in (("test", test), ("complete", complete)):
        if graded_total(result.stdout) == "(no score table)":  # it must fail by grading, not by breaking
            last = (result.stderr.strip().splitlines() or result.stdout.strip().splitlines() or ["no output"])[-1]
            problems.append(f"`tito module {command}` graded nothing (exit {result.returncode}): {last}")
        if result.returncode == 0:
            problems.append(f"`tito module {command}` exited 0 {graded_total(result.stdout)}")
        elif result.returncode == harness.KILLED:
            problems.append(f"`tito module {command}` hung: killed after {harness.MODULE_TIMEOUT:g} s "
                            f"{graded_total(result.stdout)}")
    package = harness.differences(package_before, harness.tree_hashes(root / "tinytorch", skip=()), "tinytorch/")
    if package:
        problems.append("the package changed: " + ", ".join(package))
    elsewhere = [d for d in harness.differences(checkout_before, harness.tree_hashes(root))
                 if " tinytorch/" not in d]
    if elsewhere:
        problems.append("the checkout changed: " + ", ".join(elsewhere))
    if _completed(root):
        problems.append(".tito/progress.json says 03_layers is completed")
    if killed:
        problems.append(f"daemons still alive 75 s later: {killed}")
    leaked = _heard(accomplice, lane)[heard:]
    if leaked:
        problems.append(f"the accomplice on 127.0.0.1 received: {harness.leaked(leaked)}")
    if package or elsewhere or _completed(root):
        _restore(root)  # so that the next attack starts from the course's own files
    return problems


def _restore(root: Path) -> None:
    fresh = copy_repo(root.parent / "pristine")
    for name in ("tinytorch", "tito", "src", "tests"):
        shutil.rmtree(root / name)
        shutil.copytree(fresh / name, root / name)
    for path in root.iterdir():
        if path.is_file() and not (fresh / path.name).exists():
            path.unlink()
    for path in fresh.iterdir():
        if path.is_file():
            shutil.copy2(path, root / path.name)
    (root / ".tito" / "progress.json").unlink(missing_ok=True)
    shutil.rmtree(fresh)


def _untouched_in_lane(lane: Lane) -> list[str]:
    harness.write_student_notebook(lane.root, factory.fresh(lane.root))
    result = harness.run_tito(lane.root, lane.python, lane.env, "module", "test", harness.MODULE)
    if result.returncode == 0:
        return [f"after {', '.join(lane.names) or 'no attack'}: an untouched notebook passed `tito module test` "
                f"{graded_total(result.stdout)}"]
    return []


def _run_lane(lane: Lane, accomplice) -> dict[str, list[str]]:
    results = {name: _attack_in_lane(lane, name, accomplice) for name in lane.names}
    results[UNTOUCHED] = _untouched_in_lane(lane)
    return results


@pytest.fixture(scope="module")
def module_results(request, tmp_path_factory, accomplice) -> list[dict[str, list[str]]]:
    """Every selected attack through `tito module test` and `complete`, then an untouched
    notebook, in each lane; the problems found, by attack, per lane."""
    wanted = [item.callspec.params["name"] for item in request.session.items
              if getattr(item, "originalname", "") == "test_module_test_and_complete_fail"]
    lanes = [_new_lane(tmp_path_factory.mktemp(f"hostile-student-{index}")) for index in range(LANES)]
    for index, name in enumerate(wanted):
        lanes[index % LANES].names.append(name)
    try:
        with ThreadPoolExecutor(LANES) as pool:
            yield list(pool.map(lambda lane: _run_lane(lane, accomplice), lanes))
    finally:
        for lane in lanes:
            harness.wait_for_daemons(str(lane.base), limit=0)


@pytest.mark.parametrize("name", ALL)
def test_module_test_and_complete_fail(module_results, name):
    attack = attacks.ATTACKS[name]
    problems = next(lane[name] for lane in module_results if name in lane)
    if problems:
        pytest.fail(f"{name} ({attack.family}: {attack.description}):\n" + "\n".join(problems))


def test_untouched_notebook_fails_after_every_attack(module_results):
    """After the attacks of a lane, in the same checkout, HOME and interpreter: whatever
    they left behind must not make an untouched notebook pass."""
    problems = [problem for lane in module_results for problem in lane[UNTOUCHED]]
    if problems:
        pytest.fail("\n".join(problems))
