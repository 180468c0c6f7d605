"""nbgrader configuration for the TinyTorch course (read by nbgrader and by `tito`).

The course directory is `nbgrader/`: `source/` is built from `src/` by
`tito nbgrader generate`, students' work goes in `submitted/<student>/<module>/`.
nbgrader's own commands (`nbgrader autograde`, formgrader) get the same protections as
`tito nbgrader autograde`: sandboxed kernels, the clean-room re-check, and feedback that
does not show hidden tests' source.
"""

import os

from tito.grading.pipeline import FEEDBACK_PREPROCESSORS, NBGRADER_AUTOGRADE_PREPROCESSORS, sanitize_preprocessors
from tito.grading.sanitize import EXPORTER_FILTERS
from tito.inline import STUB_MESSAGE
from tito.sandbox.kernel import GRADING_ARGUMENTS

c = get_config()  # noqa: F821  (injected by traitlets when this file is loaded)

here = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "tinytorch"
c.CourseDirectory.root = os.path.join(here, "nbgrader")

# Instructor sources (.py with solutions) must never reach students.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py"]

# Gradebook: a sqlite file in the course directory. Several graders on several machines
# need a server database, e.g. PostgreSQL (pip install -e ".[postgres]"):
#   export TINYTORCH_GRADEBOOK_URL=postgresql://user:password@host/tinytorch
_gradebook = os.environ.get("TINYTORCH_GRADEBOOK_URL")
if _gradebook:
    c.CourseDirectory.db_url = _gradebook

# What a student sees where the solution was.
c.ClearSolutions.code_stub = {
    "python": (
        "# YOUR CODE HERE: follow the TODO and APPROACH in the docstring above.\n"
        f'raise NotImplementedError("{STUB_MESSAGE}: replace this line with your code")'
    )
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A cell that runs longer than this (seconds) is interrupted; grading carries on with the
# next cell. TINYTORCH_CELL_TIMEOUT overrides it (the test suite uses a short one).
_timeout = int(os.environ.get("TINYTORCH_CELL_TIMEOUT", "60"))
c.ExecutePreprocessor.timeout = _timeout
c.Execute.timeout = _timeout

# One submission may take at most this long in all (seconds: notebook run and clean room,
# however its code treats signals and timers); past it, its kernel and sandboxed programs
# are killed, the report gets a timeout flag and the cells not graded score 0.
# TINYTORCH_SUBMISSION_TIMEOUT overrides it.
c.GradingLimits.submission_timeout = float(os.environ.get("TINYTORCH_SUBMISSION_TIMEOUT", "600"))

# Graded cells that a student deleted are put back from the gradebook and graded.
c.OverwriteCells.add_missing_cells = True
c.Autograde.create_student = True

# Student code runs in a bubblewrap sandbox (tito.sandbox), and every graded test is run
# again against the student's exported code alone (tito.grading.preprocessors.CleanRoomCheck).
c.TinyTorchSandbox.repo_root = here
# What each sandboxed process tree (a kernel, a clean room, a package-test run) may use, like
# PrairieLearn's graders: memory without swap (cgroup, with RLIMIT_AS as a backstop), processes
# and threads (cgroup), the sandbox's /tmp holding its home and working folder (bwrap --size,
# also the largest file it may write) and open files. `tito system doctor` shows which of
# these this machine enforces; a report says when one was reached, or could not be applied.
c.TinyTorchSandbox.memory_limit = 2 * 1024**3
c.TinyTorchSandbox.process_limit = 1024
c.TinyTorchSandbox.disk_limit = 1 * 1024**3
c.TinyTorchSandbox.open_files_limit = 1024
# nbgrader's own autograde also writes tito-report.json beside each autograded notebook, as
# `tito nbgrader autograde` does, and marks flagged submissions in the gradebook; untouched
# test cells raise no false checksum alarm (nbgrader #1961): tito.grading.pipeline says how.
c.Autograde.autograde_preprocessors = NBGRADER_AUTOGRADE_PREPROCESSORS
c.Autograde.sanitize_preprocessors = sanitize_preprocessors()

# Student outputs are data: every HTML page nbconvert makes from a notebook here (formgrader's
# submission page, nbgrader's and tito's feedback) shows cleaned HTML and markdown and runs no
# JavaScript output (tito.grading.sanitize; autograde also stores sanitized notebooks).
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = EXPORTER_FILTERS

# Each output is cut at this many characters (nbgrader's LimitOutput only counts lines).
# A large output can arrive more than nbclient's default 4 s after its cell finished (a
# 100 MB line on a busy machine), and nbgrader then fails the whole submission: wait longer.
c.LimitOutputChars.max_chars = 1_000_000
c.Execute.iopub_timeout = 30

# Feedback shows each hidden check's result and message, not its code
# (c.HideHiddenTests.show_source = True shows the code, as plain nbgrader does).
# The page leads with the reasons: a summary of the cells that fell short (each with the
# terminal table's reason and a link), and under each test cell's heading its result, then its
# code, collapsed (tito.grading.feedback.FeedbackSummary and FeedbackExporter's template).
c.GenerateFeedback.preprocessors = FEEDBACK_PREPROCESSORS
c.GenerateFeedback.exporter_class = "tito.grading.feedback.FeedbackExporter"

# Grading kernels: no history file, and no start-up log lines on the grader's terminal.
c.Execute.extra_arguments = GRADING_ARGUMENTS

# Formgrader, for a course with or without nbgrader's exchange: no exchange folder means nothing
# released through it yet (tito.coursedir.exchange), not an error on every page. Its "Current
# configuration" panel is off: the Jupyter server's own settings in it cannot be shown as JSON,
# and formgrader would log "Formgrader config is not serializable" at every visit.
c.ExchangeFactory.list = "tito.coursedir.exchange.CourseExchangeList"
c.FormgradeExtension.debug = False

# Cells tagged "skip-when-grading" (the notebooks' timing and memory demonstrations, which
# nobody reads in an autograded copy and which score nothing) are not run when grading:
# about 0.6 s of kernel time per submission. Graded and solution cells always run.
c.Execute.skip_cells_with_tag = "skip-when-grading"
