"""Conventions of the three course sources that grading and teaching rely on:

- hints guide without giving lines: no solution line of 25 characters or more appears
  verbatim anywhere in the student notebook;
- exercise docstrings: a plain API summary first, then exactly `TODO:`, `APPROACH:`,
  `EXAMPLE:` and `HINTS:` section lines;
- graded cells: every assertion says what was expected and what was got (its message
  contains "got"), messages of hidden checks start with "hidden check: ", the ✅ line says
  whether hidden checks exist, and the cell ends with a plain call of its test function;
- nbgrader headers: the required keys only, 100 points per module.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path

import pytest

from tito import notebooks
from tito.paths import Paths
from tito.registry import discover

ROOT = Path(__file__).resolve().parents[2]
MODULES = {module.slug: module for module in discover(Paths(ROOT))}
MIN_LEAK = 25
HEADER_KEYS = {"grade", "grade_id", "locked", "schema_version", "solution"}
_BEGIN, _END = "### BEGIN SOLUTION", "### END SOLUTION"
_HIDDEN = re.compile(r"^\s*### (BEGIN|END) HIDDEN TESTS\s*$")


def test_the_three_course_modules_are_checked():
    assert set(MODULES) == {"01_tensor", "02_activations", "03_layers"}


# -- hints do not give solution lines --------------------------------------------------------
def solution_lines(source) -> set[str]:
    """Stripped lines of 25 characters or more inside ### BEGIN/END SOLUTION blocks."""
    lines, inside = set(), False
    for cell in source.cells:
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped == _BEGIN:
                inside = True
            elif stripped == _END:
                inside = False
            elif inside and len(stripped) >= MIN_LEAK:
                lines.add(stripped)
    return lines


def leaked_lines(source, student) -> list[str]:
    """Solution lines that appear verbatim (as a substring) anywhere in the student notebook."""
    shown = "\n".join(cell.source for cell in student.cells)
    squeezed = re.sub(r"\s+", " ", shown)
    return sorted(line for line in solution_lines(source)
                  if line in shown or re.sub(r"\s+", " ", line) in squeezed)


@pytest.fixture(scope="module")
def sources():
    return {slug: notebooks.read_source(module) for slug, module in MODULES.items()}


@pytest.mark.parametrize("slug", sorted(MODULES))
def test_no_solution_line_appears_in_the_student_notebook(sources, slug):
    source = sources[slug]
    assert len(solution_lines(source)) >= 5, "the check has solution lines to look for"
    student = notebooks.student_version(copy.deepcopy(source))
    assert leaked_lines(source, student) == []


@pytest.mark.parametrize("where", ["markdown", "docstring"])
def test_a_planted_leak_is_caught(sources, where):
    source = copy.deepcopy(sources["03_layers"])
    secret = "output = x.data @ self.weight.data"
    assert secret in solution_lines(source)
    if where == "markdown":
        cell = next(c for c in source.cells if c.cell_type == "markdown" and "Part 2" in c.source)
        cell.source += f"\n# Hint: start with `{secret}` and go on."
    else:
        cell = next(c for c in source.cells if notebooks.grade_id(c) == "linear")
        cell.source = cell.source.replace("        HINTS:\n", f"        HINTS:\n        - Try {secret}.\n", 1)
    student = notebooks.student_version(source)
    assert leaked_lines(source, student) == [secret]


# -- docstrings of the exercises -------------------------------------------------------------
SECTIONS = ["TODO:", "APPROACH:", "EXAMPLE:", "HINTS:"]


def _exercise_functions(slug: str, sources) -> list[tuple[str, ast.FunctionDef, str]]:
    found = []
    for cell in sources[slug].cells:
        if not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.startswith("#|"))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.FunctionDef):
                body = ast.get_source_segment(code, node) or ""
                if _BEGIN in body:
                    found.append((node.name, node, body))
    return found


@pytest.mark.parametrize("slug", sorted(MODULES))
def test_exercise_docstrings_have_a_summary_then_the_four_sections(sources, slug):
    exercises = _exercise_functions(slug, sources)
    assert len(exercises) >= 5
    for name, node, _body in exercises:
        docstring = ast.get_docstring(node, clean=False)
        assert docstring, f"{slug}: {name} has no docstring"
        summary = docstring.strip().split("\n\n")[0]
        assert summary and not any(summary.lstrip().startswith(s.rstrip(":")) for s in SECTIONS), \
            f"{slug}: {name}: the first paragraph should be a plain API summary, got {summary!r}"
        indent = " " * (node.col_offset + 4)
        lines = docstring.splitlines()
        headers = [line for line in lines if line.strip() in SECTIONS]
        assert [h.strip() for h in headers] == SECTIONS, f"{slug}: {name}: sections {headers}"
        assert all(h == indent + h.strip() for h in headers), \
            f"{slug}: {name}: section lines must be exactly {SECTIONS} at the docstring's indentation"
        for line in lines:
            assert not re.match(r"^\s*(TODO|APPROACH|EXAMPLE|HINTS):\s*\S", line), \
                f"{slug}: {name}: a section line must hold only its name, got {line.strip()!r}"
        for header, following in zip(SECTIONS, SECTIONS[1:] + [None], strict=True):
            start = lines.index(indent + header) + 1
            end = lines.index(indent + following) if following else len(lines)
            assert any(line.strip() for line in lines[start:end]), f"{slug}: {name}: empty {header} section"


# -- graded cells ----------------------------------------------------------------------------
def _graded_cells(sources, slug):
    return [c for c in sources[slug].cells if c.metadata.get("nbgrader", {}).get("grade")]


def _hidden_line_numbers(source: str) -> set[int]:
    numbers, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if _HIDDEN.match(line):
            inside = "BEGIN" in line
        elif inside:
            numbers.add(number)
    return numbers


def _message_text(node) -> str | None:
    """The literal text of a message node (f-string parts joined, values as {})."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _message_text(node.left), _message_text(node.right)
        return None if left is None or right is None else left + right
    return None


def _messages(tree):
    """(line, message text or None) of every assert and every raise AssertionError(...)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            yield node.lineno, None if node.msg is None else _message_text(node.msg)
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                and getattr(node.exc.func, "id", None) == "AssertionError":
            yield node.lineno, _message_text(node.exc.args[0]) if node.exc.args else None


def _prefixing_helpers(tree) -> set[str]:
    """Helpers defined in a test whose messages start with a value the caller passes (for
    example f"{what} should ..."): the caller's text decides the prefix."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("test_"):
            if any(message and message.startswith("{}") for _, message in _messages(node)):
                names.add(node.name)
    return names


def _helper_calls(tree, helpers):
    """(line, the string arguments' texts) of every call of one of `helpers`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in helpers:
            texts = [_message_text(arg) for arg in node.args]
            yield node.lineno, [text for text in texts if text is not None]


@pytest.mark.parametrize("slug", sorted(MODULES))
def test_every_assertion_says_what_was_expected_and_what_was_got(sources, slug):
    checked = 0
    for cell in _graded_cells(sources, slug):
        tree, hidden = ast.parse(cell.source), _hidden_line_numbers(cell.source)
        for line, message in _messages(tree):
            where = f"{slug} {notebooks.grade_id(cell)} line {line}"
            assert message is not None, f"{where}: an assertion without a (literal) message"
            assert "got" in message, f"{where}: the message should say what was got: {message!r}"
            if not message.startswith("{}"):  # a helper's message: its callers are checked below
                assert message.startswith("hidden check: ") == (line in hidden), \
                    f"{where}: messages start with 'hidden check: ' exactly inside hidden blocks: {message!r}"
            checked += 1
        helpers = _prefixing_helpers(tree)
        for line, texts in _helper_calls(tree, helpers):
            where = f"{slug} {notebooks.grade_id(cell)} line {line}"
            marked = [text for text in texts if text.startswith("hidden check: ")]
            if line in hidden:
                assert marked, f"{where}: a helper called in a hidden block needs a 'hidden check: ' text, got {texts}"
            else:
                assert not marked, f"{where}: a visible check must not say 'hidden check: ', got {texts}"
    assert checked >= 30


@pytest.mark.parametrize("slug", sorted(MODULES))
def test_graded_cells_end_with_a_plain_call_and_say_whether_hidden_checks_run(sources, slug):
    for cell in _graded_cells(sources, slug):
        name = notebooks.grade_id(cell)
        tree = ast.parse(cell.source)
        functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
        assert len(functions) == 1, f"{slug} {name}: one test function per graded cell, got {functions}"
        last = tree.body[-1]
        assert isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and not last.value.args \
            and getattr(last.value.func, "id", None) == functions[0], \
            f"{slug} {name}: the cell must end with a plain `{functions[0]}()` call"
        assert not re.search(r"\bif\s+__name__", cell.source), f"{slug} {name}: no `if __name__ == ...` guard"
        assert not any(isinstance(node, ast.If) for node in tree.body), f"{slug} {name}: no top-level if"
        passed = [line for line in cell.source.splitlines() if "✅" in line]
        assert len(passed) == 1, f"{slug} {name}: one ✅ line"
        has_hidden = "### BEGIN HIDDEN TESTS" in cell.source
        pass_text = cell.source[cell.source.index("✅"):].split(")\n", 1)[0]
        if has_hidden:
            assert "visible checks passed" in pass_text and "hidden checks" in pass_text, (slug, name, pass_text)
        else:
            assert "hidden" not in pass_text and "passed" in pass_text, (slug, name, pass_text)


@pytest.mark.parametrize("slug", sorted(MODULES))
def test_nbgrader_headers_and_points(sources, slug):
    total = 0
    for cell in sources[slug].cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        expected = HEADER_KEYS | ({"points"} if meta["grade"] else set())
        assert set(meta) == expected and meta["schema_version"] == 3, (slug, meta)
        total += meta.get("points", 0)
    assert total == 100


@pytest.mark.parametrize("slug", sorted(MODULES))
def test_header_lines_in_the_percent_source_are_json(slug):
    text = MODULES[slug].source.read_text(encoding="utf-8")
    headers = re.findall(r"^# %% nbgrader=(\{.*\})$", text, re.MULTILINE)
    assert len(headers) >= 7
    for header in headers:
        json.loads(header)
