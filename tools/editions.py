"""The student edition of the lessons, made from the committed (instructor) notebooks.

The lessons mark their solutions the way nbgrader does, so one source gives both editions:

- a *solution cell* has ``"nbgrader": {"solution": true, ...}`` in its metadata; in a code
  cell the solution lies between a ``### BEGIN SOLUTION`` and a ``### END SOLUTION`` line;
  a markdown solution cell (the answers to "Think about it") is an answer as a whole;
- a *test cell* (``"grade": true``) is an exercise check: ``check_...(learner_function)``.

The student edition, cell by cell:

- a solution cell that is a solution as a whole (a reference solution with its check, the
  answers to the questions) is left out, with its outputs;
- a solution region inside other code is replaced by nbgrader's stub,
  ``# YOUR CODE HERE`` / ``raise NotImplementedError()``;
- a test cell keeps its source and loses its outputs (the learner's run shows them);
- every other cell is kept as it is, outputs included.

nbgrader itself (``nbgrader generate_assignment``) reads the same marks, but it keeps a
whole-cell solution as a stub cell instead of leaving it out, needs a course directory and
a database, and adds five packages to the install; this module needs only ``nbformat``.

Usage::

    python tools/editions.py student [--source notebooks] [--out student] [--force]

Existing files in ``--out`` are kept (they may hold a learner's work) unless ``--force``.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path
from typing import Any

import nbformat

BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
CODE_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]
LESSONS = "[0-9][0-9]_*.ipynb"


def nbgrader(cell: Any) -> dict:
    """The cell's nbgrader metadata (empty if it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_solution(cell: Any) -> bool:
    return bool(nbgrader(cell).get("solution", False))


def is_test(cell: Any) -> bool:
    return bool(nbgrader(cell).get("grade", False)) and not is_solution(cell)


def source_of(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def split_solution(source: str) -> tuple[list[str], list[list[str]]]:
    """Split a cell's lines into the lines outside the solution regions, with a ``None``
    placeholder for each region, and the regions' lines (markers excluded).

    Raises:
        ValueError: a region that is nested, not closed, or closed without being opened.
    """
    outside: list[Any] = []
    regions: list[list[str]] = []
    inside = False
    for line in source.split("\n"):
        if BEGIN in line:
            if inside:
                raise ValueError(f"nested {BEGIN!r} in:\n{source}")
            inside = True
            regions.append([])
            outside.append((None, re.match(r"\s*", line).group(0)))
        elif END in line:
            if not inside:
                raise ValueError(f"{END!r} without {BEGIN!r} in:\n{source}")
            inside = False
        elif inside:
            regions[-1].append(line)
        else:
            outside.append(line)
    if inside:
        raise ValueError(f"{BEGIN!r} without {END!r} in:\n{source}")
    return outside, regions


def solution_lines(cell: Any) -> list[str]:
    """The lines of a solution cell that the student edition must not contain."""
    source = source_of(cell)
    if cell["cell_type"] != "code":
        return source.split("\n")
    _, regions = split_solution(source)
    return [line for region in regions for line in region]


def student_cell(cell: Any) -> Any | None:
    """The cell as the student edition has it, or ``None`` if it is left out."""
    source = source_of(cell)
    if not is_solution(cell):
        if BEGIN in source or END in source:
            raise ValueError(f"a solution region outside a solution cell:\n{source}")
        if not is_test(cell):
            return cell
        cell = copy.deepcopy(cell)
        cell["outputs"], cell["execution_count"] = [], None
        return cell
    if cell["cell_type"] != "code":
        return None
    outside, regions = split_solution(source)
    kept = [line for line in outside if isinstance(line, str)]
    if not regions or not "".join(kept).strip():
        return None  # a solution as a whole: a reference solution and its check
    cell = copy.deepcopy(cell)
    lines = []
    for line in outside:
        if isinstance(line, str):
            lines.append(line)
        else:
            lines.extend(line[1] + stub for stub in CODE_STUB)
    cell["source"] = "\n".join(lines)
    cell["outputs"], cell["execution_count"] = [], None
    cell["metadata"].get("jupyter", {}).pop("source_hidden", None)
    return cell


def student_notebook(nb: Any) -> Any:
    """The student edition of one notebook (a new notebook; ``nb`` is not changed)."""
    student = copy.deepcopy(nb)
    student["cells"] = [c for c in (student_cell(cell) for cell in nb["cells"]) if c is not None]
    return student


def write_student_edition(source: Path, out: Path, force: bool = False) -> list[Path]:
    """Write the student edition of every lesson in ``source`` to ``out``; return the files
    written. A file that already exists is kept unless ``force``."""
    lessons = sorted(source.glob(LESSONS))
    if not lessons:
        raise ValueError(f"no lessons ({LESSONS}) in {source}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in lessons:
        target = out / path.name
        if target.exists() and not force:
            print(f"kept {target} (it may hold your work; delete it, or use --force, to "
                  "make it again)")
            continue
        nb = nbformat.read(path, as_version=4)
        student = student_notebook(nb)
        nbformat.validate(student)
        nbformat.write(student, target)
        written.append(target)
        print(f"wrote {target}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("edition", choices=["student"])
    parser.add_argument("--source", type=Path, default=Path("notebooks"))
    parser.add_argument("--out", type=Path, default=Path("student"))
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args(argv)
    write_student_edition(args.source, args.out, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
