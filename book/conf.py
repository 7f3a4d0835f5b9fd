"""Sphinx settings of the book (``make book``; the pages are written by ``book/build.py``).

The site is built from the notebooks' committed outputs and reads fully offline: MathJax is
served from the site itself, and nothing (scripts, fonts, widgets) comes from a CDN.
"""

project = "Value-Based Reinforcement Learning"
author = "The value-rl-series authors"
copyright = "the value-rl-series authors, MIT License"

extensions = [
    "myst_nb",  # the notebooks, with their stored outputs
    "sphinx_design",  # dropdowns for the collapsed answers
    "sphinx-mathjax-offline",  # MathJax copied into the site instead of loaded from a CDN
]

# Never execute: the pages show the outputs committed with the notebooks.
nb_execution_mode = "off"
# MyST in the markdown cells: $...$ and $$...$$ math, amsmath environments, ::: fences.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
# Widgets need a running kernel: no ipywidgets scripts from a CDN, and a widget output shows
# its text/plain fallback (its final state, e.g. a finished progress bar's line).
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [("*", "application/vnd.jupyter.widget-view+json", None)]
nb_merge_streams = True

html_theme = "sphinx_book_theme"
html_title = project
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,  # each lesson's .ipynb, from the site itself
    "home_page_in_toc": True,
    "navigation_with_keys": False,
}
html_show_sourcelink = False
html_last_updated_fmt = None

exclude_patterns = ["**.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type"]
