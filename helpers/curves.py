"""Learning curves over environment steps (lesson 03 onwards).

Episodes of different learners last very different numbers of steps, so curves drawn
against the episode number compare unequal amounts of experience. These functions put
the episode durations of a run on the axis of **environment steps** instead:

- :func:`durations_vs_steps` -- the mean duration of the episodes that ended in a window
  of env steps before each point of a grid (a learning curve);
- :func:`last_episodes` -- the complete episodes that ended in the last window of a run;
- :func:`first_steps` -- the durations of a run's first ``n_steps`` env steps;
- :func:`returns_to_go` -- the discounted return from every state the episodes visited;
- :func:`moving_average` -- the mean of every ``window`` consecutive values;
- :func:`plot_mean_and_range` -- the mean (line) and min-max (band) over seeds of
  :func:`durations_vs_steps`.

A run's ``durations`` are its episode lengths in order, the last one possibly cut short by
the run's step budget, so they add up to the run's env steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from helpers.validation import as_float, as_int

__all__ = [
    "durations_vs_steps",
    "last_episodes",
    "first_steps",
    "returns_to_go",
    "moving_average",
    "plot_mean_and_range",
]


def _durations(durations: Any, name: str = "durations") -> np.ndarray:
    """``durations`` as a 1-D integer array of positive episode lengths."""
    try:
        array = np.asarray(durations)
    except (TypeError, ValueError):
        array = None
    if (array is None or array.ndim != 1 or array.size == 0
            or not np.issubdtype(array.dtype, np.number)
            or not np.all(np.isfinite(array)) or np.any(array < 1)
            or np.any(array != np.round(array))):
        raise ValueError(f"{name} must be a non-empty 1-D sequence of episode lengths "
                         f"(whole numbers >= 1), got {durations!r:.80}")
    return array.astype(np.int64)


def durations_vs_steps(durations: Sequence[int], step_grid: Sequence[int],
                       window: int = 1_000) -> np.ndarray:
    """The learning curve of one run on an env-step axis.

    Args:
        durations: the run's episode lengths, in order.
        step_grid: env steps at which to evaluate the curve (each >= 1).
        window: how many env steps each point looks back over.

    Returns:
        An array like ``step_grid``: at grid step ``k``, the mean duration of the episodes
        that ended in env steps ``(k - window, k]``; NaN where none ended there.

    Raises:
        ValueError: for durations that are not episode lengths, an empty or non-integer
            grid, or a window below 1.
    """
    lengths = _durations(durations)
    window = as_int(window, "window", 1)
    grid = np.asarray(step_grid)
    if (grid.ndim != 1 or grid.size == 0 or not np.issubdtype(grid.dtype, np.integer)
            or grid.min() < 1):
        raise ValueError(f"step_grid must be a non-empty 1-D sequence of integers >= 1, "
                         f"got {step_grid!r:.80}")
    ends = np.cumsum(lengths)  # the env step at which each episode ended
    curve = np.full(grid.shape, np.nan)
    for i, k in enumerate(grid):
        ended = lengths[(ends > k - window) & (ends <= k)]
        if ended.size:
            curve[i] = ended.mean()
    return curve


def last_episodes(durations: Sequence[int], n_steps: int, window: int = 1_000) -> np.ndarray:
    """The complete episodes that ended in the last ``window`` of a run's ``n_steps`` env steps.

    The run's last episode is left out: the step budget cut it short.

    Raises:
        ValueError: for durations that are not episode lengths, or ``n_steps`` or
            ``window`` below 1.
    """
    lengths = _durations(durations)[:-1]
    n_steps = as_int(n_steps, "n_steps", 1)
    window = as_int(window, "window", 1)
    ends = np.cumsum(lengths)
    return lengths[(ends > n_steps - window) & (ends <= n_steps)]


def first_steps(durations: Sequence[int], n_steps: int) -> list[int]:
    """The episode lengths of a run's first ``n_steps`` env steps (the last one cut short).

    Raises:
        ValueError: for durations that are not episode lengths, or ``n_steps`` outside
            ``[1, sum(durations)]``.
    """
    lengths = _durations(durations)
    n_steps = as_int(n_steps, "n_steps", 1, int(lengths.sum()), why="the run's env steps")
    ends = np.cumsum(lengths)
    kept = lengths[: int(np.searchsorted(ends, n_steps)) + 1].tolist()
    kept[-1] -= sum(kept) - n_steps
    return kept


def returns_to_go(durations: Sequence[int], gamma: float) -> np.ndarray:
    """The discounted return from every visited state, one per env step of the run.

    Every step earns +1, so in an episode that ends after ``T`` steps the state at step
    ``t`` has return ``(1 - gamma**(T - t)) / (1 - gamma)``. For an episode cut short (by
    a time limit or the step budget) this counts only the rewards up to the cut.

    Raises:
        ValueError: for durations that are not episode lengths, or ``gamma`` outside [0, 1).
    """
    lengths = _durations(durations)
    gamma = as_float(gamma, "gamma", 0.0, 1.0, high_open=True)
    return np.concatenate([(1 - gamma ** np.arange(t, 0, -1)) / (1 - gamma) for t in lengths])


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """The mean of every ``window`` consecutive values (``len(values) - window + 1`` of them).

    Raises:
        ValueError: for values that are not a 1-D sequence of numbers, or ``window``
            outside ``[1, len(values)]``.
    """
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim != 1 or array.size == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence of numbers, got {values!r:.80}")
    window = as_int(window, "window", 1, array.size, why="the number of values")
    return np.convolve(array, np.ones(window) / window, mode="valid")


def plot_mean_and_range(ax: Any, runs: Sequence[Sequence[int]], label: str, color: str,
                        step_grid: Sequence[int], window: int = 1_000) -> np.ndarray:
    """Draw the mean (line) and min-max (band) over runs of their ``durations_vs_steps``.

    Args:
        ax: a matplotlib ``Axes``.
        runs: the episode durations of each run (one run per seed).
        label: the learner's name, for the legend.
        color: a matplotlib colour.
        step_grid, window: as for :func:`durations_vs_steps`.

    Returns:
        The curves, shape ``(n_runs, len(step_grid))``.

    Raises:
        ValueError: for no runs, an empty label, or a bad run, grid or window.
    """
    if not isinstance(runs, Sequence) or isinstance(runs, str) or len(runs) == 0:
        raise ValueError("runs must be a non-empty sequence of episode-duration lists, "
                         f"got {runs!r:.80}")
    if not isinstance(label, str) or not label:
        raise ValueError(f"label must be a non-empty string, got {label!r}")
    curves = np.array([durations_vs_steps(d, step_grid, window) for d in runs])  # (n_runs, n_grid)
    ax.plot(step_grid, curves.mean(axis=0), color=color, lw=2, label=f"{label} (mean)")
    ax.fill_between(step_grid, curves.min(axis=0), curves.max(axis=0), color=color,
                    alpha=0.2, label=f"{label} (min-max over {len(runs)} seeds)")
    return curves
