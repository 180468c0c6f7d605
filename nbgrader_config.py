"""nbgrader configuration for the TinyTorch course (read by nbgrader and by `tito`).

The course directory is `nbgrader/`: `source/` is built from `src/` by
`tito nbgrader generate`, students' work goes in `submitted/<student>/<module>/`.
"""

import os

c = get_config()  # noqa: F821  (injected by traitlets when this file is loaded)

c.CourseDirectory.course_id = "tinytorch"
c.CourseDirectory.root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nbgrader")

# Instructor sources (.py with solutions) must never reach students.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py"]

# Gradebook: a sqlite file in the course directory. Several graders working at once need
# a server database: export TINYTORCH_GRADEBOOK_URL=postgresql://user@host/tinytorch
_gradebook = os.environ.get("TINYTORCH_GRADEBOOK_URL")
if _gradebook:
    c.CourseDirectory.db_url = _gradebook

# What a student sees where the solution was.
c.ClearSolutions.code_stub = {
    "python": (
        "# YOUR CODE HERE: follow the TODO and APPROACH in the docstring above.\n"
        'raise NotImplementedError("Not implemented yet: replace this line with your code")'
    )
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A cell that runs longer than this (seconds) is interrupted; grading carries on with the
# next cell. TINYTORCH_CELL_TIMEOUT overrides it (the test suite uses a short one).
_timeout = int(os.environ.get("TINYTORCH_CELL_TIMEOUT", "60"))
c.ExecutePreprocessor.timeout = _timeout
c.Execute.timeout = _timeout

# Graded cells that a student deleted are put back from the gradebook and graded.
c.OverwriteCells.add_missing_cells = True
c.Autograde.create_student = True

# Grading kernels: no history file, and no start-up log lines on the grader's terminal.
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]
