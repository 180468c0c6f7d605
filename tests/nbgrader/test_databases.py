"""A gradebook that cannot be used is an error with a clear message and a non-zero exit,
never a batch of students graded 0, and never a traceback."""

from __future__ import annotations

import json

import pytest
from course_batch import MODULE, course_env, generate, write_submissions
from helpers import copy_repo, run_tito

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A generated course (sqlite) with submissions, for autograde runs against bad databases."""
    root = copy_repo(tmp_path_factory.mktemp("db") / "repo")
    generate(root)
    write_submissions(root)
    return root


def _autograde(course, url: str):
    report = course / "report.json"
    report.unlink(missing_ok=True)
    result = run_tito(course, "nbgrader", "autograde", MODULE, "--student", "correct", "only_linear",
                      "--json", str(report), env=course_env(course) | {"TINYTORCH_GRADEBOOK_URL": url})
    return result, report


def _nothing_graded(course, report) -> None:
    assert not report.exists(), "no report: nobody was graded"
    assert not (course / "nbgrader" / "autograded").exists()


def test_a_wrong_password_is_a_login_error(course, postgres):
    url = postgres.url(postgres.new_database(), password="not-the-password")
    result, report = _autograde(course, url)
    assert result.returncode == 1 and "Cannot log in to the gradebook" in result.stderr, result.stderr
    assert "not-the-password" not in result.stderr + result.stdout, "the password is never printed"
    assert "Traceback" not in result.stderr
    _nothing_graded(course, report)


def test_a_stopped_server_is_unreachable(course, postgres):
    url = postgres.url("course").replace(f":{postgres.port}/", ":9/")  # nothing listens on port 9
    result, report = _autograde(course, url)
    assert result.returncode == 1 and "Cannot reach the gradebook" in result.stderr, result.stderr
    _nothing_graded(course, report)


def test_a_missing_driver_names_the_package_to_install(course):
    result, report = _autograde(course, "postgresql+pg8000://user:pw@127.0.0.1:5432/course")
    assert result.returncode == 1 and "needs the database driver `pg8000`" in result.stderr, result.stderr
    assert "pip install pg8000" in result.stderr
    assert "Traceback" not in result.stderr
    _nothing_graded(course, report)


def test_export_and_generate_report_the_database_too(course, postgres):
    env = course_env(course) | {"TINYTORCH_GRADEBOOK_URL": postgres.url("no_such_database")}
    exported = run_tito(course, "nbgrader", "export", "--to", str(course / "grades.csv"), env=env)
    assert exported.returncode == 1 and "does not exist" in exported.stderr, exported.stderr
    assert not (course / "grades.csv").exists()
    generated = run_tito(course, "nbgrader", "generate", MODULE, env=env)
    assert generated.returncode == 1 and "gradebook" in generated.stderr and "Traceback" not in generated.stderr


def test_the_same_course_grades_on_postgres(course, postgres):
    """A fresh PostgreSQL gradebook for an existing course: generate records the
    assignment there, then autograde stores every grade."""
    url = postgres.url(postgres.new_database())
    env = course_env(course) | {"TINYTORCH_GRADEBOOK_URL": url}
    assert run_tito(course, "nbgrader", "generate", MODULE, env=env).returncode == 0
    result, report = _autograde(course, url)
    assert result.returncode == 0, result.stderr
    scores = {r["student"]: r["score"] for r in json.loads(report.read_text())}
    assert scores == {"correct": 100, "only_linear": 30}
