"""Notebook output that reads well everywhere: progress bars and widgets with a text fallback.

A widget (a progress bar, a slider) is stored in a saved notebook as a reference to widget
state plus a ``text/plain`` fallback. JupyterLab draws the widget; GitHub, nbviewer and
``nbconvert --to html`` without the widget scripts show only the fallback. By default that
fallback is what the widget looked like when it was first displayed -- ``0%| | 0/3`` for a
progress bar, ``interactive(children=(FloatSlider(...`` for ``interact`` -- which reads as
junk. The two functions here give every widget a fallback that says something:

- :func:`progress_bar` is tqdm's bar whose saved text is the *final* bar line
  (``env steps: 100%|##########| 15000/15000 [...]``), and which ends green at 100 % when the
  work ended normally, even when it ended early (a run that stopped once solved);
- :func:`show_widget` displays any widget with a text you choose.

Outside a notebook (a script, a test) :func:`progress_bar` is the plain text tqdm bar.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["progress_bar", "finish", "show_widget"]

_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# The saved line: e.g. "env steps: 100%|##########| 15000/15000, episode 212, ..."
_SAVED_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt}{postfix}"


def _in_notebook() -> bool:
    from helpers.plotting import in_notebook

    return in_notebook()


def show_widget(widget: Any, text: str) -> None:
    """Display ``widget`` with ``text`` as what non-interactive viewers show instead.

    Use it for ``ipywidgets.interactive(...)`` and other widgets whose saved output
    would otherwise read ``interactive(children=(FloatSlider(...``. When the widget draws
    a plot, follow it with a static figure of its default setting, so readers without a
    kernel see the picture too.

    Raises:
        ValueError: if ``text`` is not a non-empty string or ``widget`` is not a widget.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be a non-empty string, got {text!r}")
    bundle = getattr(widget, "_repr_mimebundle_", None)
    data = bundle() if callable(bundle) else None
    if not isinstance(data, dict) or _WIDGET_VIEW not in data:
        raise ValueError(f"widget must be an ipywidgets widget, got {type(widget).__name__}")
    from IPython.display import display

    display({_WIDGET_VIEW: data[_WIDGET_VIEW], "text/plain": text}, raw=True)


def _notebook_bar_class() -> type:
    from tqdm.notebook import tqdm as notebook_tqdm

    class NotebookBar(notebook_tqdm):
        """tqdm's widget bar, displayed with a display id so its text fallback is updated."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["display"] = False  # we display it ourselves, below
            super().__init__(*args, **kwargs)
            self._handle = None
            if not self.disable:
                from IPython.display import display

                self._handle = display(self._bundle(), raw=True, display_id=True)
                self.displayed = True

        def _bundle(self, final: bool = False) -> dict[str, Any]:
            data = self.container._repr_mimebundle_()
            text = self.container.__repr__(True)
            if final:  # what the work did, without this machine's seconds and rates
                spec = {**self.format_dict, "bar_format": _SAVED_FORMAT}
                text = self.format_meter(**spec)
            return {_WIDGET_VIEW: data[_WIDGET_VIEW], "text/plain": text}

        def close(self) -> None:
            if self.disable or getattr(self, "_closed", False):
                return
            self._closed = True
            super().close()
            if self._handle is not None:  # the saved text: the bar's last line
                self._handle.update(self._bundle(final=True), raw=True)

    return NotebookBar


def progress_bar(
    iterable: Iterable[Any] | None = None,
    total: int | None = None,
    desc: str = "",
    unit: str = "step",
    **kwargs: Any,
) -> Any:
    """A tqdm progress bar whose saved notebook output is its final line.

    Use it like ``tqdm``: ``for run in progress_bar(runs, desc="runs", unit="run")``, or
    ``with progress_bar(total=n, desc="env steps") as bar: ... bar.update(1)``.
    Call :func:`finish` (or ``bar.total = bar.n`` before closing) when the work ends
    normally before ``total``, so the bar ends green at 100 % instead of red.

    Args:
        iterable: what to iterate over (``total`` defaults to its length).
        total: how many units the work has; ``None`` when unknown.
        desc: the label in front of the bar, e.g. ``"env steps"``.
        unit: the unit counted, e.g. ``"step"``, ``"run"``.
        **kwargs: passed to tqdm (``mininterval`` defaults to 0.5 s).

    Raises:
        ValueError: if ``total`` is not a non-negative integer or ``None``.
    """
    from helpers.validation import as_int

    total = as_int(total, "total", 0, none_ok=True)
    kwargs.setdefault("mininterval", 0.5)
    if _in_notebook():
        bar_class = _notebook_bar_class()
    else:
        from tqdm.auto import tqdm as bar_class  # looked up now: tests may replace it
    return bar_class(iterable, total=total, desc=desc, unit=unit, **kwargs)


def finish(bar: Any) -> None:
    """Close ``bar`` as complete: its total becomes what was done, so it ends at 100 %."""
    if getattr(bar, "total", None) is not None and bar.n < bar.total:
        bar.total = bar.n
        if hasattr(bar, "container"):  # the widget's maximum follows
            bar.container.children[1].max = max(bar.n, 1)
    bar.close()
