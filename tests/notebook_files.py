"""Reading the committed lessons in tests, without a kernel: one loader, one cell reader.

The cell readers are the student-edition tool's (``tools/editions.py``), so every test reads
a cell exactly as the edition does.
"""

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.editions import is_solution, source_of  # noqa: E402

__all__ = ["ROOT", "NOTEBOOKS", "MAX_CELL_LINES", "lesson_cells", "code_sources", "load_script",
           "is_solution", "source_of"]

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_CELL_LINES = 25
"""No cell of a lesson, code or markdown, is longer: an instructor talks over each one."""


def lesson_cells(number: str) -> list[dict]:
    """The cells of lesson ``number`` (e.g. ``"02"``) as committed, outputs included."""
    (path,) = [p for p in NOTEBOOKS if p.name.startswith(f"{number}_")]
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def code_sources(cells: list[dict]) -> list[str]:
    """The source of every code cell, in order."""
    return [source_of(c) for c in cells if c["cell_type"] == "code"]


def load_script(relative_path: str) -> ModuleType:
    """A script of the repository (e.g. ``"benchmarks/reference_bands.py"``) as a module."""
    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
