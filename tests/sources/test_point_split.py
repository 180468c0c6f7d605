"""Points follow what matters (issue 20, item 11): in each module, every part that refuses
bad input has its behaviour test and, beside it, a smaller test of the errors and their
messages; behaviour carries most of each part's points, and the notebook's text states
the points of every graded cell."""

from __future__ import annotations

from pathlib import Path

import pytest

from tito.course import notebooks
from tito.course.paths import Paths
from tito.course.registry import discover

ROOT = Path(__file__).resolve().parents[2]
MODULES = {module.slug: module for module in discover(Paths(ROOT))}

# The split, cell by cell, in notebook order: (grade_id, points).
SPLIT = {
    "01_tensor": [("test-creation", 16), ("test-creation-errors", 4), ("test-arithmetic", 20),
                  ("test-matmul", 16), ("test-matmul-errors", 4), ("test-shape", 12), ("test-shape-errors", 3),
                  ("test-reductions", 15), ("test-integration", 10)],
    "02_activations": [("test-relu", 17), ("test-relu-errors", 3), ("test-sigmoid", 17), ("test-sigmoid-errors", 3),
                       ("test-tanh", 13), ("test-tanh-errors", 2), ("test-gelu", 13), ("test-gelu-errors", 2),
                       ("test-softmax", 17), ("test-softmax-errors", 3), ("test-integration", 10)],
    "03_layers": [("test-layer-base", 8), ("test-layer-base-errors", 2), ("test-linear-creation", 12),
                  ("test-linear-creation-errors", 3), ("test-linear-forward", 12), ("test-linear-forward-errors", 3),
                  ("test-dropout", 16), ("test-dropout-errors", 4), ("test-sequential", 17),
                  ("test-sequential-errors", 3), ("test-integration", 20)],
}


def graded(slug: str) -> list[tuple[str, int]]:
    cells = notebooks.read_source(MODULES[slug]).cells
    return [(notebooks.grade_id(c), c.metadata["nbgrader"]["points"]) for c in cells
            if c.metadata.get("nbgrader", {}).get("grade")]


def test_every_module_is_listed():
    assert set(SPLIT) == set(MODULES)


@pytest.mark.parametrize("slug", sorted(SPLIT))
def test_the_cells_and_their_points(slug):
    assert graded(slug) == SPLIT[slug]
    assert sum(points for _, points in SPLIT[slug]) == 100


@pytest.mark.parametrize("slug", sorted(SPLIT))
def test_each_errors_cell_follows_its_part_and_is_worth_at_most_a_quarter_of_it(slug):
    cells = SPLIT[slug]
    errors = [(i, grade_id, points) for i, (grade_id, points) in enumerate(cells) if grade_id.endswith("-errors")]
    assert len(errors) >= 3
    for index, grade_id, points in errors:
        part, part_points = cells[index - 1]
        assert part == grade_id.removesuffix("-errors"), (grade_id, part)
        assert points <= (points + part_points) / 4, (grade_id, points, part_points)


@pytest.mark.parametrize("slug", sorted(SPLIT))
def test_the_notebook_text_states_the_points_of_every_cell(slug):
    text = "\n".join(c.source for c in notebooks.read_source(MODULES[slug]).cells if c.cell_type == "markdown")
    for grade_id, points in SPLIT[slug]:
        assert f"{points} (`{grade_id}`)" in text, (grade_id, points)
