"""The student edition: made from the committed notebooks by tools/editions.py, it keeps
every stub and check, and no line of any solution.

These tests convert in memory (no kernel); `make test-student` executes the edition.
"""

import copy
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))

from tools.editions import (  # noqa: E402
    is_solution,
    is_test,
    solution_lines,
    source_of,
    split_solution,
    student_cell,
    student_notebook,
    write_student_edition,
)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MIN_LEAK_LENGTH = 12  # shorter lines ("return Q", "done = False") are common to any code


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS], scope="module")
def editions(request):
    nb = nbformat.read(request.param, as_version=4)
    return nb, student_notebook(nb)


def _outputs_text(cell):
    return json.dumps(cell.get("outputs", []), ensure_ascii=False)


def _solution_specific_lines(nb):
    """Lines of the solutions that appear nowhere else in the instructor edition."""
    solution, elsewhere = set(), set()
    for cell in nb.cells:
        if is_solution(cell):
            solution.update(line.strip() for line in solution_lines(cell))
            if cell.cell_type == "code":
                outside, _ = split_solution(source_of(cell))
                elsewhere.update(line.strip() for line in outside if isinstance(line, str))
        else:
            elsewhere.update(line.strip() for line in source_of(cell).split("\n"))
    return {line for line in solution - elsewhere if len(line) >= MIN_LEAK_LENGTH}


def test_every_lesson_marks_its_solutions(editions):
    nb, _ = editions
    assert any(is_solution(c) for c in nb.cells), "no nbgrader solution cell"
    assert any(is_test(c) for c in nb.cells), "no nbgrader test cell (exercise check)"


def test_no_solution_line_leaks_into_the_student_edition(editions):
    nb, student = editions
    secret = _solution_specific_lines(nb)
    for cell in student.cells:
        text = source_of(cell) + "\n" + _outputs_text(cell)
        for line in text.split("\n"):
            assert line.strip() not in secret, f"solution line in the student edition: {line!r}"
        outputs = _outputs_text(cell)
        for secret_line in secret:
            assert secret_line not in outputs, f"solution text in an output: {secret_line!r}"


def test_student_edition_has_no_solution_cells_marks_or_references(editions):
    _, student = editions
    for cell in student.cells:
        text = source_of(cell) + _outputs_text(cell)
        assert not is_solution(cell)
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        # (benchmarks/reference_bands.py, the reference runs' script, is no solution)
        pattern = r"\breference_(?!bands\b)\w+|\bReference[A-Z]\w*"
        assert re.search(pattern, source_of(cell)) is None, (
            f"a later cell uses a reference solution the student edition does not have:\n"
            f"{source_of(cell)[:300]}")


def test_student_edition_keeps_stubs_and_checks_with_outputs_cleared(editions):
    nb, student = editions
    tests = [c for c in nb.cells if is_test(c)]
    student_tests = [c for c in student.cells if is_test(c)]
    assert [source_of(c) for c in student_tests] == [source_of(c) for c in tests]
    for cell in student_tests:
        assert cell.outputs == [] and cell.execution_count is None
        assert "raises-exception" in cell.metadata.get("tags", [])
    kept = [c for c in nb.cells if not is_solution(c)]
    assert len(student.cells) == len(kept)
    for original, cell in zip(kept, student.cells, strict=True):
        assert source_of(original) == source_of(cell)
        if not is_test(original):
            assert original.get("outputs") == cell.get("outputs"), "other outputs are kept"


def test_student_edition_is_a_valid_notebook_and_stable(editions):
    _, student = editions
    nbformat.validate(student)
    assert student_notebook(student) == student


# --- the converter on small notebooks ---------------------------------------------------------

SOLUTION = {"grade": False, "grade_id": "ref", "locked": False, "schema_version": 3,
            "solution": True, "task": False}
TEST = {"grade": True, "grade_id": "check", "locked": True, "points": 1, "schema_version": 3,
        "solution": False, "task": False}


def _code(source, nbgrader=None, outputs=()):
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = dict(nbgrader)
    cell.outputs = [nbformat.v4.new_output("stream", text=text) for text in outputs]
    cell.execution_count = 1 if outputs else None
    return cell


def test_a_solution_region_inside_code_becomes_the_stub():
    cell = _code("def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    return 2 * x\n"
                 "    ### END SOLUTION", SOLUTION, ["out"])
    cell.metadata["jupyter"] = {"source_hidden": True}
    student = student_cell(cell)
    assert source_of(student) == ('def f(x):\n    """Doc."""\n    # YOUR CODE HERE\n'
                                  "    raise NotImplementedError()")
    assert student.outputs == [] and "source_hidden" not in student.metadata["jupyter"]
    assert source_of(cell).count("SOLUTION") == 2, "the instructor's cell is not changed"


def test_whole_solution_cells_and_answers_are_left_out():
    reference = _code("### BEGIN SOLUTION\ndef reference_f(x):\n    return 2 * x\n\n\n"
                      "check_f(reference_f)\n### END SOLUTION", SOLUTION, ["Correct!"])
    answer = nbformat.v4.new_markdown_cell("**Answers.** Because.")
    answer.metadata["nbgrader"] = dict(SOLUTION)
    assert student_cell(reference) is None and student_cell(answer) is None


def test_test_cells_lose_their_outputs_only():
    check = _code("check_f(f)", TEST, ["Not yet"])
    check.metadata["tags"] = ["raises-exception"]
    student = student_cell(check)
    assert source_of(student) == "check_f(f)" and student.outputs == []
    assert student.metadata == check.metadata and check.outputs, "a copy, the original kept"
    plain = _code("print(1)", None, ["1"])
    assert student_cell(plain) is plain


@pytest.mark.parametrize("source, nbgrader", [
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", None),  # a region in an unmarked cell
    ("### BEGIN SOLUTION\nx = 1", SOLUTION),  # not closed
    ("x = 1\n### END SOLUTION", SOLUTION),  # closed, never opened
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION", SOLUTION),  # nested
])
def test_malformed_solution_marks_are_errors(source, nbgrader):
    with pytest.raises(ValueError):
        student_cell(_code(source, nbgrader))


def test_written_editions_keep_a_learners_work(tmp_path):
    source = tmp_path / "lessons"
    source.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [_code("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", SOLUTION),
                _code("check_f(f)", TEST, ["hint"])]
    nbformat.write(nb, source / "01_lesson.ipynb")
    out = tmp_path / "student"
    assert write_student_edition(source, out) == [out / "01_lesson.ipynb"]
    written = nbformat.read(out / "01_lesson.ipynb", as_version=4)
    assert [source_of(c) for c in written.cells] == ["check_f(f)"]
    mine = copy.deepcopy(written)
    mine.cells[0].source = "check_f(f)  # my work"
    nbformat.write(mine, out / "01_lesson.ipynb")
    assert write_student_edition(source, out) == []  # kept
    assert "my work" in (out / "01_lesson.ipynb").read_text()
    assert write_student_edition(source, out, force=True) == [out / "01_lesson.ipynb"]
    assert "my work" not in (out / "01_lesson.ipynb").read_text()
