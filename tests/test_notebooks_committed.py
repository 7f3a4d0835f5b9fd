"""The committed notebooks are the self-study edition: they must read on GitHub.

These checks look at the files as committed (no kernel is started): every code
cell executed, in order, without unexpected errors, outputs of a sane size, and
the series' conventions (title cell, key takeaways, the exercise pattern).
Executing the notebooks themselves is nbval's job (see pyproject.toml).
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_CELL_OUTPUT_BYTES = 2_000_000
MAX_NOTEBOOK_BYTES = 3_000_000


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and _source(c).strip()]


def _source_hidden(cell):
    return cell.get("metadata", {}).get("jupyter", {}).get("source_hidden", False)


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request):
    path = request.param
    return path, json.loads(path.read_text(encoding="utf-8"))


def test_series_has_notebooks():
    assert NOTEBOOKS, "no lessons found in notebooks/"


def test_kernelspec_is_python3(notebook):
    _, nb = notebook
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_all_code_cells_executed_in_order(notebook):
    _, nb = notebook
    counts = [c.get("execution_count") for c in _code_cells(nb)]
    assert None not in counts, "some code cells were not executed: run `make execute`"
    assert counts == list(range(1, len(counts) + 1)), "cells were not run top to bottom once"


def test_no_unexpected_errors(notebook):
    _, nb = notebook
    for cell in _code_cells(nb):
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        if "raises-exception" not in _tags(cell):
            assert not errors, f"error output in cell:\n{_source(cell)[:300]}"


def test_outputs_are_a_sane_size(notebook):
    path, nb = notebook
    assert path.stat().st_size < MAX_NOTEBOOK_BYTES, f"{path.name} is too large to render well"
    for cell in _code_cells(nb):
        size = len(json.dumps(cell.get("outputs", [])))
        assert size < MAX_CELL_OUTPUT_BYTES, f"cell output of {size} bytes:\n{_source(cell)[:200]}"


def test_has_inline_figure(notebook):
    _, nb = notebook
    images = [
        o for c in _code_cells(nb) for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert images, "every lesson shows at least one plot"


def test_title_cell_conventions(notebook):
    _, nb = notebook
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown"
    text = _source(first)
    assert text.startswith("# "), "first cell starts with the lesson title"
    for needed in ("learn", "Prerequisites", "Run time"):
        assert needed in text, f"first cell mentions {needed!r}"


def test_key_takeaways_and_exercises(notebook):
    _, nb = notebook
    markdown = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "Key takeaways" in markdown
    assert "Exercise" in markdown


def test_exercise_pattern(notebook):
    """stub -> check (raises-exception) -> hidden solution -> the same check, passing."""
    _, nb = notebook
    cells = nb["cells"]
    first_checks = [i for i, c in enumerate(cells) if "raises-exception" in _tags(c)]
    assert first_checks, "at least one exercise check cell tagged raises-exception"
    for i in first_checks:
        check = _source(cells[i]).strip()
        assert "check_" in check, "the tagged cell calls a check from helpers.checks"
        rest = cells[i + 1 :]
        hidden = [
            j for j, c in enumerate(rest)
            if c["cell_type"] == "code" and _source_hidden(c)
        ]
        assert hidden, f"a collapsed reference solution follows the check {check!r}"
        after = rest[hidden[0] + 1 :]
        again = [c for c in after if c["cell_type"] == "code" and _source(c).strip() == check]
        assert again, f"the check {check!r} is repeated after the solution"
        for output in again[0].get("outputs", []):
            assert output["output_type"] != "error", f"the repeated check {check!r} must pass"


def test_no_machine_paths_in_outputs(notebook):
    """Committed outputs must not leak the paths of the machine that executed them."""
    _, nb = notebook
    for cell in _code_cells(nb):
        text = json.dumps(cell.get("outputs", []))
        for marker in ("/work/", "/home/", "/tmp/", "/root/", "site-packages"):
            assert marker not in text, f"{marker!r} in the output of:\n{_source(cell)[:200]}"
