"""Plots every lesson uses: episode durations, static and updating live in a notebook."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

__all__ = ["moving_average", "plot_durations", "LivePlot", "in_notebook"]


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (fewer at the start).

    Element ``i`` is the mean of ``values[max(0, i - window + 1) : i + 1]``, so the
    curve starts at the first episode instead of after ``window`` episodes.
    """
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be an integer >= 1, got {window!r}")
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {x.shape}")
    if x.size == 0:
        return x
    csum = np.cumsum(np.insert(x, 0, 0.0))
    idx = np.arange(1, x.size + 1)
    start = np.maximum(0, idx - window)
    return (csum[idx] - csum[start]) / (idx - start)


def plot_durations(
    durations: Sequence[float],
    window: int = 100,
    ax: Axes | None = None,
    title: str = "Episode durations",
    threshold: float | None = None,
    label: str | None = None,
) -> Axes:
    """Plot episode durations and their ``window``-episode moving average.

    Args:
        durations: length of each episode, in steps (for CartPole, also the return).
        window: width of the moving average.
        ax: axes to draw on; a new figure is made when ``None``.
        title: the plot's title.
        threshold: if given, a dashed horizontal line (e.g. CartPole's solved score 475).
        label: prefix for the legend entries (useful when overlaying runs).

    Returns:
        The axes drawn on.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    episodes = np.arange(1, len(durations) + 1)
    prefix = f"{label}: " if label else ""
    (raw,) = ax.plot(episodes, durations, alpha=0.35, lw=1, label=f"{prefix}duration")
    if len(durations):
        ax.plot(
            episodes,
            moving_average(durations, window),
            color=raw.get_color(),
            lw=2,
            label=f"{prefix}{window}-episode mean",
        )
    if threshold is not None:
        ax.axhline(threshold, color="k", ls="--", lw=1, label=f"solved ({threshold:g})")
    ax.set_title(title)
    ax.set_xlabel("Episode")
    ax.set_ylabel("Duration (steps)")
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def in_notebook() -> bool:
    """True when running inside a Jupyter kernel (where inline figures can update)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with Jupyter
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class LivePlot:
    """One inline figure of episode durations that redraws itself during training.

    Use it as the ``callback`` of a training loop: call it with the list of
    durations after each episode. Every ``every`` episodes it redraws the same
    figure through an IPython display handle, so the notebook shows one plot that
    changes -- no stream of new figures, no flicker from clearing the output.
    Call :meth:`close` at the end to draw the final state; that last picture
    stays in the cell's output (and in the committed notebook).

    Outside a notebook (a script, a test) nothing is displayed; the figure is
    still kept up to date in :attr:`fig` so it can be saved with ``fig.savefig``.
    """

    def __init__(
        self,
        every: int = 10,
        window: int = 100,
        title: str = "Training: episode durations",
        threshold: float | None = None,
    ) -> None:
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        self.every = every
        self.window = window
        self.title = title
        self.threshold = threshold
        self.fig, self.ax = plt.subplots(figsize=(8, 4))
        self._durations: list[float] = []
        self._handle = None
        if in_notebook():
            from IPython.display import display

            self._handle = display(self.fig, display_id=True)
        # Detach the figure from pyplot so the inline backend does not show it a
        # second time at the end of the cell; we display it ourselves.
        plt.close(self.fig)

    def __call__(self, episode: int, durations: Sequence[float]) -> None:
        """Record ``durations`` (all episodes so far); redraw every ``every`` episodes."""
        self._durations = list(durations)
        if (episode + 1) % self.every == 0:
            self.redraw()

    def redraw(self) -> None:
        self.ax.clear()
        plot_durations(
            self._durations, window=self.window, ax=self.ax, title=self.title,
            threshold=self.threshold,
        )
        self.fig.tight_layout()
        if self._handle is not None:
            self._handle.update(self.fig)

    def close(self) -> None:
        """Draw the final state; the figure stays in the output."""
        self.redraw()
