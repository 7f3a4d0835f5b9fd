"""Lesson 02 as committed: teachable cells, exercises before their reveal, bootstrapping
defined before it is used, figures and widgets that read well without a kernel.

These look at the file only (no kernel); nbval executes the lesson.
"""

import json
import re

import pytest
from notebook_files import is_solution, lesson_cells, source_of


@pytest.fixture(scope="module")
def cells():
    return lesson_cells("02")


def _first(cells, predicate, what):
    for i, cell in enumerate(cells):
        if predicate(cell):
            return i
    raise AssertionError(f"no cell with {what}")


def test_exercise_1_comes_before_the_update_is_shown(cells):
    stub = _first(cells, lambda c: c["cell_type"] == "code"
                  and re.search(r"^def q_learning_update\(", source_of(c), re.M), "the stub")
    reveal = "td_target = reward if terminated else reward + gamma * Q[next_state].max()"
    shown = [i for i, c in enumerate(cells) if reveal in source_of(c) and not is_solution(c)]
    assert shown, "the lesson shows the update in code"
    assert stub < min(shown), "the exercise comes before the lesson prints the update's code"


def test_bootstrapping_is_defined_before_q_learning(cells):
    definition = _first(cells, lambda c: c["cell_type"] == "markdown"
                        and "**bootstrapping**" in source_of(c)
                        and "from another estimate" in source_of(c), "the definition")
    q_learning = _first(cells, lambda c: c["cell_type"] == "markdown"
                        and "The Q-learning update, term by term" in source_of(c), "section 2")
    used = [i for i, c in enumerate(cells) if i > 0 and c["cell_type"] == "markdown"
            and "bootstrap" in source_of(c).lower()]                  # the objectives aside
    assert definition < q_learning and definition == min(used)


def test_td_prediction_reproduces_sutton_barto_figure_6_2(cells):
    """The section runs S&B's step sizes and asserts TD below MC with a standard error."""
    code = "\n".join(source_of(c) for c in cells if c["cell_type"] == "code")
    assert "[0.05, 0.1, 0.15], [0.01, 0.02, 0.03, 0.04]" in code
    assert "assert z.min() > 4" in code
    outputs = json.dumps([c.get("outputs", []) for c in cells])
    assert "standard errors" in outputs


def test_titles_have_no_max_subscript_that_drops_below_the_line(cells):
    """Matplotlib sets the subscript of \\max under it, below the title's baseline."""
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for line in source_of(cell).splitlines():
            if re.search(r"title|label", line):
                assert r"\max_" not in line and r"\\max_" not in line, line


def test_widgets_have_a_readable_text_fallback(cells):
    for cell in cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                text = "".join(data.get("text/plain", ""))
                assert text.strip() and not text.startswith("interactive("), text[:80]


def test_no_machine_timings_in_prose(cells):
    prose = "\n".join(source_of(c) for c in cells if c["cell_type"] == "markdown")
    title_rest = prose.split("**Run time:**", 1)[-1].split("\n", 1)[-1]  # the header's line aside
    assert not re.search(r"\b\d+(\.\d+)?x faster|\b\d+\.\d+ s\b", title_rest)
