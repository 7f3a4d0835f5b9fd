"""Build the lessons as a static website with Sphinx and myst-nb, from their committed outputs.

Usage::

    python book/build.py [--source notebooks] [--out build/book]

Nothing is executed: the pages show the outputs stored in the notebooks. The script writes

- ``OUT/src/``: the book's pages: ``index.md``, made from README's title, introduction and
  lesson table, with a sidebar (toctree) of every ``NN_*.ipynb`` lesson in ``--source`` in
  lesson order, and a copy of each lesson in which every exercise solution is collapsed
  (nbgrader solution cells: a code cell's source is hidden behind a "show" toggle, its
  output stays visible; a markdown answer goes into a closed dropdown). The notebooks in
  ``--source`` are only read.
- ``OUT/html/``: the website (``index.html``), readable offline and publishable as it is on
  any static host. Sphinx's settings are in ``book/conf.py``.

The student edition (``tools/editions.py student --out build/student``, then
``--source build/student``) has no solution cells, so its book has no solutions.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
LESSONS = "[0-9][0-9]_*.ipynb"
HIDE_INPUT = "hide-input"
# Repository files that lessons and README link to, and their pages in the book.
PAGES = {"README.md": "readme.md", "benchmarks/RESULTS.md": "results.md"}
PAGE_TITLES = {"readme.md": "The series' README", "results.md": "Benchmark results"}
REPO_LINK = re.compile(
    r"\]\((?:\.\./|\./)?(README\.md|benchmarks/RESULTS\.md|notebooks/[^)#\s]+\.ipynb)(#[^)\s]*)?\)"
)


def relink(markdown: str) -> str:
    """Links to repository files, rewritten to their pages in the book."""

    def page(match: re.Match) -> str:
        path, anchor = match.group(1), match.group(2) or ""
        return f"]({PAGES.get(path, path.removeprefix('notebooks/'))}{anchor})"

    return REPO_LINK.sub(page, markdown)


def lessons_in(source: Path) -> list[Path]:
    """Every lesson notebook in ``source``, in lesson order (by its number)."""
    return sorted(source.glob(LESSONS))


def is_solution(cell) -> bool:
    return bool((cell.get("metadata", {}).get("nbgrader") or {}).get("solution", False))


def book_notebook(nb):
    """A copy of ``nb`` for the book: every solution cell collapsed, links to the
    repository's files pointed at their pages in the book."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = relink(cell.source)
        if not is_solution(cell):
            continue
        if cell.cell_type == "code":
            tags = cell.metadata.setdefault("tags", [])
            if HIDE_INPUT not in tags:
                tags.append(HIDE_INPUT)
        elif cell.cell_type == "markdown":
            body = cell.source.strip("\n")
            fence = "`" * max(4, 1 + max((len(m) for m in re.findall(r"`{3,}", body)), default=0))
            cell.source = f"{fence}{{dropdown}} Answers (click to show)\n{body}\n{fence}"
    return nb


def readme_parts(readme: str) -> tuple[str, str, list[str]]:
    """README's title, its introduction (before the first ``##``) and its lesson table."""
    lines = readme.splitlines()
    title = next(line[2:].strip() for line in lines if line.startswith("# "))
    start = next(i for i, line in enumerate(lines) if line.startswith("# ")) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("## "))
    intro = "\n".join(lines[start:end]).strip()
    table: list[str] = []
    in_lessons = False
    for line in lines:
        if line.startswith("## "):
            in_lessons = line.strip() == "## Lessons"
        elif in_lessons and line.startswith("|"):
            table.append(line)
        elif in_lessons and table:
            break
    return title, intro, table


def index_page(readme: str, lessons: list[Path]) -> str:
    """The landing page: README's title, introduction and lesson table, then the sidebar."""
    title, intro, table = readme_parts(readme)
    names = {path.name for path in lessons}
    rows = []
    for row in table:
        linked = re.search(r"\]\((?:\./)?notebooks/([^)]+\.ipynb)\)", row)
        if linked and linked.group(1) not in names:
            continue  # a lesson missing from this edition
        rows.append(relink(row))
    toctree = "\n".join(path.stem for path in lessons)
    about = "\n".join(f"{PAGE_TITLES[page]} <{Path(page).stem}>" for page in PAGES.values())
    return (
        f"# {title}\n\n{relink(intro)}\n\n## Lessons\n\n" + "\n".join(rows) + "\n\n"
        "```{toctree}\n:maxdepth: 1\n:caption: Lessons\n:hidden:\n\n" + toctree + "\n```\n\n"
        "```{toctree}\n:maxdepth: 1\n:caption: About the series\n:hidden:\n\n" + about + "\n```\n"
    )


def write_sources(source: Path, src: Path) -> list[Path]:
    """Write the book's pages into ``src``; return the lessons they came from."""
    lessons = lessons_in(source)
    if not lessons:
        raise SystemExit(f"no lessons ({LESSONS}) in {source}")
    src.mkdir(parents=True, exist_ok=True)
    wanted = {"index.md", *PAGES.values()} | {path.name for path in lessons}
    for stale in src.iterdir():
        if stale.is_file() and stale.name not in wanted:
            stale.unlink()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (src / "index.md").write_text(index_page(readme, lessons), encoding="utf-8")
    if (ROOT / "docs").is_dir():  # README's pictures
        shutil.copytree(ROOT / "docs", src / "docs", dirs_exist_ok=True)
    for path, page in PAGES.items():
        text = relink((ROOT / path).read_text(encoding="utf-8"))
        (src / page).write_text(text, encoding="utf-8")
    for path in lessons:
        nb = book_notebook(nbformat.read(path, as_version=4))
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        (src / path.name).write_text(text, encoding="utf-8")
    return lessons


def build(source: Path, out: Path, quiet: bool = True) -> Path:
    """Build the book of the lessons in ``source`` into ``out``; return the HTML folder."""
    from sphinx.cmd.build import build_main

    src, html = out / "src", out / "html"
    write_sources(source, src)
    # -E: every page read anew, so that each sidebar lists the lessons there are now.
    args = ["-b", "html", "-E", "-c", str(ROOT / "book"), "-d", str(out / "doctrees")]
    args += ["-q"] if quiet else []
    status = build_main([*args, str(src), str(html)])
    if status:
        raise SystemExit(f"sphinx-build failed with status {status}")
    return html


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    args = parser.parse_args(argv)
    html = build(args.source, args.out, quiet=not args.verbose)
    print(f"The book is in {html}/: open {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
