"""The committed notebooks are the self-study edition: they must read on GitHub.

These checks look at the files as committed (no kernel is started): every code
cell executed, in order, without unexpected errors, outputs of a sane size, and
the series' conventions (title cell, key takeaways, the exercise pattern).
Executing the notebooks themselves is nbval's job (see pyproject.toml).
"""

import json
import re

import pytest
from notebook_files import MAX_CELL_LINES, NOTEBOOKS, ROOT, source_of

MAX_CELL_OUTPUT_BYTES = 2_000_000
MAX_NOTEBOOK_BYTES = 3_000_000


def _code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code" and source_of(c).strip()]


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
            assert not errors, f"error output in cell:\n{source_of(cell)[:300]}"


def test_outputs_are_a_sane_size(notebook):
    path, nb = notebook
    assert path.stat().st_size < MAX_NOTEBOOK_BYTES, f"{path.name} is too large to render well"
    for cell in _code_cells(nb):
        size = len(json.dumps(cell.get("outputs", [])))
        assert size < MAX_CELL_OUTPUT_BYTES, (
            f"cell output of {size} bytes:\n{source_of(cell)[:200]}")


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
    text = source_of(first)
    assert text.startswith("# "), "first cell starts with the lesson title"
    for needed in ("learn", "Prerequisites", "Run time"):
        assert needed in text, f"first cell mentions {needed!r}"


def test_key_takeaways_and_exercises(notebook):
    _, nb = notebook
    markdown = "\n".join(source_of(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "Key takeaways" in markdown
    assert "Exercise" in markdown


CHECK_CALL = re.compile(r"^(check_\w+)\((\w+)\)$")


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _defines(cell, name):
    return cell["cell_type"] == "code" and re.search(
        rf"^\s*(def|class)\s+{re.escape(name)}\b", source_of(cell), re.M) is not None


def _errors(cell):
    return [o for o in cell.get("outputs", []) if o["output_type"] == "error"]


def _stream_text(cell):
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", [])
                   if o["output_type"] == "stream")


def test_exercise_pattern(notebook):
    """stub -> check (an nbgrader test cell, tagged raises-exception, showing the stub's
    hint) -> the reference solution under another name, in a collapsed nbgrader solution
    cell that ends with the same check on it, which passes. No cell redefines the
    learner's function, so after Run All the learner's check still tests the learner's code.
    """
    _, nb = notebook
    cells = nb["cells"]
    checks = [i for i, c in enumerate(cells) if c["cell_type"] == "code"
              and not _nbgrader(c).get("solution") and CHECK_CALL.match(source_of(c).strip())]
    assert checks, "at least one exercise check"
    grade_ids = [_nbgrader(c)["grade_id"] for c in cells if _nbgrader(c)]
    assert len(grade_ids) == len(set(grade_ids)), "nbgrader grade_ids are unique"
    for i in checks:
        cell = cells[i]
        check, learner = CHECK_CALL.match(source_of(cell).strip()).groups()
        assert "raises-exception" in _tags(cell), f"{check}({learner}) is tagged raises-exception"
        meta = _nbgrader(cell)
        assert meta.get("grade") and meta.get("locked") and meta.get("points", 0) > 0, (
            f"{check}({learner}) is an nbgrader test cell")
        assert meta.get("solution") is False and meta.get("schema_version") == 3
        definers = [j for j, c in enumerate(cells) if _defines(c, learner)]
        assert len(definers) == 1 and definers[0] < i, (
            f"{learner} is defined once, before its check (never by a solution)")
        errors = _errors(cell)
        hint = errors and errors[0]["ename"] == "ExerciseError" and "Hint:" in errors[0]["evalue"]
        assert hint, f"{check}({learner}) shows the hint for the unwritten stub, it does not pass"
        pattern = re.compile(rf"^{check}\((reference_\w+|Reference\w+)\)$", re.M)
        refs = [c for c in cells[i + 1 :] if _nbgrader(c).get("solution")
                and pattern.search(source_of(c))]
        assert refs, f"a reference solution follows {check}({learner}) and is checked"
        ref = refs[0]
        source = source_of(ref).strip()
        assert source.startswith("### BEGIN SOLUTION") and source.endswith("### END SOLUTION")
        assert _source_hidden(ref), "the reference solution is collapsed"
        assert not _errors(ref) and "Correct!" in _stream_text(ref), (
            f"the reference passes {check}")


def test_solution_marks_only_in_solution_cells(notebook):
    _, nb = notebook
    for cell in nb["cells"]:
        text = source_of(cell)
        if "BEGIN SOLUTION" in text or "END SOLUTION" in text:
            assert _nbgrader(cell).get("solution"), f"a solution region in:\n{text[:200]}"
        meta = _nbgrader(cell)
        if meta.get("solution"):
            assert meta.get("schema_version") == 3 and meta.get("grade_id")
            # nbgrader: code solutions are not graded themselves (their checks are), and a
            # written answer (markdown) must be a graded cell
            assert bool(meta.get("grade")) == (cell["cell_type"] == "markdown")
            assert "points" in meta or not meta.get("grade")


def test_every_question_has_an_answer(notebook):
    """A "Think about it" cell is followed by its answers, in solution cells (left out of
    the student edition)."""
    _, nb = notebook
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown" and "Think about it" in source_of(cell):
            answers = cells[i + 1] if i + 1 < len(cells) else {}
            assert _nbgrader(answers).get("solution") and answers["cell_type"] == "markdown", (
                "the questions are followed by an answer cell")
            assert "Answers" in source_of(answers)


def test_no_machine_paths_in_outputs(notebook):
    """Committed outputs must not leak the paths of the machine that executed them."""
    _, nb = notebook
    for cell in _code_cells(nb):
        text = json.dumps(cell.get("outputs", []))
        for marker in ("/work/", "/home/", "/tmp/", "/root/", "site-packages"):
            assert marker not in text, f"{marker!r} in the output of:\n{source_of(cell)[:200]}"


def test_run_time_in_the_header_agrees_with_the_readme(notebook):
    """The first cell's 'Run time: about N s' is the README lesson table's measured N s."""
    path, nb = notebook
    header = re.search(r"\*\*Run time:\*\* about (\d+) s", source_of(nb["cells"][0]))
    assert header, "the first cell states the run time as '**Run time:** about N s'"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| {path.name[:2]} \| \[.*\| (\d+) s \|$", readme, re.MULTILINE)
    assert row, f"README's lesson table has a row for {path.name} ending in its run time"
    assert header.group(1) == row.group(1), (
        f"{path.name}: header says about {header.group(1)} s, README {row.group(1)} s")


def test_every_cell_is_short_enough_to_talk_over(notebook):
    """No cell, code or markdown, solution or not, is over 25 lines (the README's promise)."""
    path, nb = notebook
    long = [(i, n) for i, cell in enumerate(nb["cells"])
            if (n := len(source_of(cell).splitlines())) > MAX_CELL_LINES]
    assert not long, f"{path.name}: cells over {MAX_CELL_LINES} lines (index, lines): {long}"
