"""Hidden checks' code stays out of a feedback page even when a later cell prints it:
IPython keeps every executed cell's source in `In`, hidden tests included, so a student's
cell after a test cell can print that test whole. Pages rendered from small notebooks."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from tito.grading import feedback as pages

HIDDEN = "    assert secret_function(3) == 42, 'hidden check: three'"
TEST = ("def test_unit_x():\n    assert True\n    ### BEGIN HIDDEN TESTS\n" + HIDDEN + "\n    ### END HIDDEN TESTS\n"
        "    print('✅ x passed')\ntest_unit_x()")


def _page(later_text: str) -> str:
    test = new_code_cell(TEST, metadata={"nbgrader": {"grade": True, "grade_id": "test-x", "locked": True,
                                                      "points": 5, "solution": False, "schema_version": 3,
                                                      "score": 5}})
    test.outputs = [new_output("stream", name="stdout", text="✅ x passed\n")]
    later = new_code_cell("print(In[1])\nIn[1]")
    later.outputs = [new_output("stream", name="stdout", text=later_text),
                     new_output("execute_result", data={"text/plain": repr(later_text)}, execution_count=2)]
    notebook = new_notebook(cells=[test, later], metadata={"kernelspec": {"name": "python3", "display_name": "P"}})
    job = pages.FeedbackJob("mallory", nbformat.writes(notebook), {
        "student": "mallory", "assignment": "03_layers", "notebook": "layers", "score": 5, "max_score": 5,
        "late_penalty": 0, "reasons": {}})
    return pages.page_text(pages.render({}, job))


def test_a_later_cells_own_output_is_shown():
    text = _page("my loss went down: 0.25\n")
    assert "my loss went down: 0.25" in text and "secret_function" not in text


def test_a_later_cell_cannot_print_the_hidden_checks():
    text = _page(TEST + "\n")
    assert "secret_function" not in text and "removed: it quotes the hidden checks" in text
    assert "hidden check: three" in text  # the check's message is shown anyway (the summary lists it)
