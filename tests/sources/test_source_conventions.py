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

from tito.course import notebooks
from tito.course.paths import Paths
from tito.course.registry import discover
from tito.coursedir import release

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
    student = release.student_version(copy.deepcopy(source))
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
    student = release.student_version(source)
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


def message_problems(source: str) -> tuple[list[str], int]:
    """Problems with the assertion messages of one graded cell, and how many it has."""
    problems, count = [], 0
    tree, hidden = ast.parse(source), _hidden_line_numbers(source)
    for line, message in _messages(tree):
        count += 1
        if message is None:
            problems.append(f"line {line}: an assertion without a (literal) message")
        elif "got" not in message:
            problems.append(f"line {line}: the message should say what was got: {message!r}")
        elif not message.startswith("{}") and message.startswith("hidden check: ") != (line in hidden):
            problems.append(f"line {line}: 'hidden check: ' starts exactly the hidden messages: {message!r}")
    for line, texts in _helper_calls(tree, _prefixing_helpers(tree)):
        marked = [text for text in texts if text.startswith("hidden check: ")]
        if line in hidden and not marked:
            problems.append(f"line {line}: a helper called in a hidden block needs a 'hidden check: ' text: {texts}")
        if line not in hidden and marked:
            problems.append(f"line {line}: a visible check must not say 'hidden check: ': {texts}")
    return problems, count


def structure_problems(source: str) -> list[str]:
    """Problems with the shape of one graded cell: one test function, a plain call at the
    end, no `if __name__` guard, one ✅ line that says whether hidden checks exist."""
    tree = ast.parse(source)
    functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    if len(functions) != 1:
        return [f"one test function per graded cell, got {functions}"]
    problems = []
    last = tree.body[-1]
    if not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and not last.value.args
            and getattr(last.value.func, "id", None) == functions[0]):
        problems.append(f"the cell must end with a plain `{functions[0]}()` call")
    if re.search(r"\bif\s+__name__", source) or any(isinstance(node, ast.If) for node in tree.body):
        problems.append("no `if __name__ == ...` guard (no top-level if)")
    passed = [line for line in source.splitlines() if "✅" in line]
    if len(passed) != 1:
        return problems + [f"one ✅ line, got {len(passed)}"]
    pass_text = source[source.index("✅"):].split(")\n", 1)[0]
    if "### BEGIN HIDDEN TESTS" in source:
        if not ("visible checks passed" in pass_text and "hidden checks" in pass_text):
            problems.append(f"the ✅ line should say the visible checks passed and hidden ones exist: {pass_text!r}")
    elif "hidden" in pass_text or "passed" not in pass_text:
        problems.append(f"the ✅ line of a cell without hidden checks: {pass_text!r}")
    return problems


@pytest.mark.parametrize("slug", sorted(MODULES))
def test_every_assertion_says_what_was_expected_and_what_was_got(sources, slug):
    total = 0
    for cell in _graded_cells(sources, slug):
        problems, count = message_problems(cell.source)
        assert problems == [], f"{slug} {notebooks.grade_id(cell)}: {problems}"
        total += count
    assert total >= 30


@pytest.mark.parametrize("slug", sorted(MODULES))
def test_graded_cells_end_with_a_plain_call_and_say_whether_hidden_checks_run(sources, slug):
    for cell in _graded_cells(sources, slug):
        assert structure_problems(cell.source) == [], notebooks.grade_id(cell)


GOOD_CELL = """def test_unit_x():
    value = 3
    assert value == 3, f"value should be 3, got {value}"
    ### BEGIN HIDDEN TESTS
    assert value > 0, f"hidden check: value should be positive, got {value}"
    ### END HIDDEN TESTS
    print("✅ x: visible checks passed. tito module test adds hidden checks.")


test_unit_x()
"""


@pytest.mark.parametrize("planted, complaint", [
    ('assert value == 3, f"value should be 3, got {value}"', None),
    ("assert value == 3", "without a (literal) message"),
    ('assert value == 3, "value should be 3"', "should say what was got"),
    ('assert value > 0, f"hidden check: value should be positive, got {value}"', "exactly the hidden messages"),
])
def test_the_message_check_can_fail(planted, complaint):
    source = GOOD_CELL.replace('assert value == 3, f"value should be 3, got {value}"', planted)
    problems, _ = message_problems(source)
    assert (problems == []) if complaint is None else (len(problems) == 1 and complaint in problems[0])


def test_the_hidden_prefix_check_can_fail():
    unmarked = GOOD_CELL.replace('f"hidden check: value should', 'f"value should')
    assert "exactly the hidden messages" in message_problems(unmarked)[0][0]
    leaking = GOOD_CELL.replace('f"value should be 3', 'f"hidden check: value should be 3')
    assert "exactly the hidden messages" in message_problems(leaking)[0][0]


@pytest.mark.parametrize("change, complaint", [
    (("\n\ntest_unit_x()\n", '\n\nif __name__ == "__main__":\n    test_unit_x()\n'), "plain `test_unit_x()` call"),
    (("visible checks passed. tito module test adds hidden checks.", "all good"), "hidden ones exist"),
    (("\n\ntest_unit_x()\n", "\n"), "plain `test_unit_x()` call"),
])
def test_the_structure_check_can_fail(change, complaint):
    assert structure_problems(GOOD_CELL) == []
    problems = structure_problems(GOOD_CELL.replace(*change))
    assert any(complaint in problem for problem in problems), problems


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


# -- the package tests ship in the student edition ---------------------------------------------
def test_package_tests_hold_no_hidden_test_or_solution_line():
    """tests/NN_name/*.py go to students (`tito release student`): no line of them may be a
    hidden test or a solution line of any module, by the edition's own check."""
    from tito.workflows.instructor import edition

    paths = Paths(ROOT)
    files = {path.relative_to(ROOT).as_posix(): path.read_bytes()
             for slug in MODULES for path in sorted((ROOT / "tests" / slug).glob("*.py"))}
    assert len(files) >= 4
    assert edition.find_leaks(paths, files, provided=set()) == []


def test_the_package_test_leak_check_can_fail():
    from tito.workflows.instructor import edition

    paths = Paths(ROOT)
    hidden = next(line for line in sources_hidden_lines() if len(line) > 30)
    assert edition.find_leaks(paths, {"tests/03_layers/x.py": f"    {hidden}\n".encode()}, provided=set())


def sources_hidden_lines() -> list[str]:
    lines, inside = [], False
    for line in MODULES["03_layers"].source.read_text(encoding="utf-8").splitlines():
        if _HIDDEN.match(line):
            inside = "BEGIN" in line
        elif inside and line.strip():
            lines.append(line.strip())
    return lines
