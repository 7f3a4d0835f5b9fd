"""Plots the lessons share: episode durations (static and updating live in a notebook) and
grid-world value heatmaps with policy arrows."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from helpers.validation import as_float, as_int, one_of

if TYPE_CHECKING:
    from helpers.bands import Band

__all__ = [
    "moving_average",
    "plot_durations",
    "LivePlot",
    "in_notebook",
    "plot_grid_values",
    "FROZENLAKE_ARROWS",
    "CLIFFWALKING_ARROWS",
    "plot_q_triangles",  # lesson 01
]


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (fewer at the start).

    Element ``i`` is the mean of ``values[max(0, i - window + 1) : i + 1]``, so the
    curve starts at the first episode instead of after ``window`` episodes.

    Each window is summed on its own, so a NaN or a huge value affects only the
    windows that contain it (a running cumulative sum would carry a NaN into every
    later window, and a 1e17 would swamp the rounding of its neighbours').
    """
    window = as_int(window, "window", 1)
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {x.shape}")
    if x.size == 0:
        return x
    ends = np.arange(1, x.size + 1)  # window i is x[starts[i] : ends[i]]
    starts = np.maximum(0, ends - window)
    # np.add.reduceat(y, [a0, b0, a1, b1, ...]) returns sum(y[a0:b0]), (something from
    # b0 to a1), sum(y[a1:b1]), ...: every other entry is a window's sum, in one C loop.
    # The 0 appended to x only makes the last index, x.size, a valid one.
    sums = np.add.reduceat(np.append(x, 0.0), np.stack([starts, ends], axis=1).ravel())[::2]
    return sums / (ends - starts)


def plot_durations(
    durations: Sequence[float],
    window: int = 100,
    ax: Axes | None = None,
    title: str = "Episode durations",
    threshold: float | None = None,
    label: str | None = None,
    x: str = "steps",
    reference: Band | None = None,
) -> Axes:
    """Plot episode durations and their ``window``-episode moving average.

    With a ``reference`` band (:func:`helpers.bands.load_band`), the band of 20 reference
    runs is drawn underneath, and the smooth line is the same statistic as the band's: the
    mean duration of the episodes that ended in the last ``reference.window`` env steps,
    so your run and the band compare like for like.

    Args:
        durations: length of each episode, in steps (for CartPole, also the return).
        window: width of the moving average, in episodes.
        ax: axes to draw on; a new figure is made when ``None``.
        title: the plot's title.
        threshold: if given, a dashed horizontal line (e.g. CartPole's solved score 475).
        label: prefix for the legend entries (useful when overlaying runs).
        x: ``"steps"`` (default) puts each episode at the env step at which it ended, the
            x-axis every DQN training plot of the series uses (runs of different episode
            lengths line up, and a budget is counted in env steps); ``"episodes"`` numbers
            the episodes 1, 2, ...
        reference: a :class:`helpers.bands.Band` to draw underneath (needs ``x="steps"``).

    Returns:
        The axes drawn on.

    Raises:
        ValueError: if ``x`` is neither ``"steps"`` nor ``"episodes"``, or a reference band
            is asked for with ``x="episodes"``.
    """
    x = one_of(x, "x", ("steps", "episodes"))
    if reference is not None and x != "steps":
        raise ValueError('x must be "steps" when a reference band is drawn (bands are over '
                         "env steps)")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    values = np.asarray(durations, dtype=float)
    if x == "steps":
        positions = np.cumsum(values)
        ax.set_xlabel("Environment step")
    else:
        positions = np.arange(1, len(values) + 1)
        ax.set_xlabel("Episode")
    prefix = f"{label}: " if label else ""
    if reference is not None:
        reference.draw(ax)
    (raw,) = ax.plot(positions, values, alpha=0.35, lw=1, label=f"{prefix}episode duration")
    if len(values) and reference is None:
        ax.plot(
            positions,
            moving_average(values, window),
            color=raw.get_color(),
            lw=2,
            label=f"{prefix}mean of the last {window} episodes",
        )
    elif len(values):
        from helpers.curves import durations_vs_steps

        last = int(positions[-1])
        grid = np.arange(min(int(reference.steps[0]), last), last + 1,
                         int(reference.steps[1] - reference.steps[0]))
        ax.plot(grid, durations_vs_steps(values.astype(np.int64), grid, reference.window),
                color=raw.get_color(), lw=2,
                label=f"{prefix}mean over the last {reference.window:,} env steps")
    if threshold is not None:
        ax.axhline(threshold, color="k", ls="--", lw=1, label=f"solved ({threshold:g})")
    ax.set_title(title)
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

    Use it as the ``callback`` of a training loop: call it with the list of durations
    after each episode. About every ``interval`` seconds it redraws the same figure
    through an IPython display handle, so the notebook shows one plot that changes --
    no stream of new figures, no flicker from clearing the output. Redrawing costs time
    (about a tenth of a second), so it never takes more than a tenth of the training
    time: when a redraw is slow, the next waits longer. Call :meth:`close` at the end to
    draw the final state; that last picture stays in the cell's output (and in the
    committed notebook). The x-axis is env steps, as in :func:`plot_durations`.

    Outside a notebook (a script, a test) nothing is displayed; the figure is
    still kept up to date in :attr:`fig` so it can be saved with ``fig.savefig``.

    Args:
        interval: seconds between redraws (at least).
        window: width of the moving average, in episodes.
        title: the plot's title.
        threshold: a dashed horizontal line, e.g. CartPole's solved score 475.
        every: redraw every this many episodes instead of on a time cadence (for
            tests and for loops whose episodes take long).
        reference: a :class:`helpers.bands.Band` drawn under the run, so you see at once
            whether your run is typical (see :func:`plot_durations`).
    """

    def __init__(
        self,
        interval: float = 1.0,
        window: int = 100,
        title: str = "Training: episode durations",
        threshold: float | None = None,
        every: int | None = None,
        reference: Band | None = None,
    ) -> None:
        self.interval = as_float(interval, "interval", 0.0)
        self.every = as_int(every, "every", 1, none_ok=True)
        self.window = as_int(window, "window", 1)
        self.title = title
        self.threshold = threshold
        self.reference = reference
        self.fig, self.ax = plt.subplots(figsize=(8, 4))
        self._durations: list[float] = []
        self._handle = None
        self._next_redraw = time.perf_counter() + self.interval
        self.redraws = 0
        if in_notebook():
            from IPython.display import display

            self._handle = display(self.fig, display_id=True)
        # Detach the figure from pyplot so the inline backend does not show it a
        # second time at the end of the cell; we display it ourselves.
        plt.close(self.fig)

    def __call__(self, episode: int, durations: Sequence[float]) -> None:
        """Record ``durations`` (all episodes so far); redraw when it is time."""
        self._durations = list(durations)
        if self.every is not None:
            due = (episode + 1) % self.every == 0
        else:
            due = time.perf_counter() >= self._next_redraw
        if due:
            self.redraw()

    def redraw(self) -> None:
        start = time.perf_counter()
        self.ax.clear()
        plot_durations(
            self._durations, window=self.window, ax=self.ax, title=self.title,
            threshold=self.threshold, reference=self.reference,
        )
        if self.reference is not None:  # the whole budget of the reference runs in view
            right = max(self.reference.max_steps, sum(self._durations))
            self.ax.set_xlim(0, right)
        self.fig.tight_layout()
        if self._handle is not None:
            self._handle.update(self.fig)
        self.redraws += 1
        cost = time.perf_counter() - start
        self._next_redraw = time.perf_counter() + max(self.interval, 9.0 * cost)

    def close(self) -> None:
        """Draw the final state; the figure stays in the output."""
        self.redraw()


# Action index -> direction drawn by :func:`plot_grid_values`. The toy-text grid worlds
# disagree on the encoding, so pass the mapping that matches the environment.
FROZENLAKE_ARROWS: dict[int, str] = {0: "left", 1: "down", 2: "right", 3: "up"}
CLIFFWALKING_ARROWS: dict[int, str] = {0: "up", 1: "right", 2: "down", 3: "left"}

# Direction -> (dx, dy) in image coordinates, where rows grow downwards.
_DIRECTIONS: dict[str, tuple[float, float]] = {
    "left": (-1.0, 0.0),
    "down": (0.0, 1.0),
    "right": (1.0, 0.0),
    "up": (0.0, -1.0),
}


def _grid_shape(shape: Any) -> tuple[int, int]:
    """``(n_rows, n_cols)`` as two Python ints, or a ValueError naming ``shape``."""
    if (
        len(shape) != 2
        or not all(isinstance(n, (int, np.integer)) and n >= 1 for n in shape)
    ):
        raise ValueError(f"shape must be two positive integers (n_rows, n_cols), got {shape!r}")
    return int(shape[0]), int(shape[1])


def _text_colour(shade: Sequence[float]) -> str:
    """Black on a light cell colour, white on a dark one (by the colour's luminance)."""
    luminance = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2]
    return "black" if luminance > 0.5 else "white"


def _label_grid_axes(ax: Axes, n_rows: int, n_cols: int, title: str) -> None:
    """Ticks at every row and column, axis labels and the title of a grid-world plot."""
    ax.set_xticks(range(n_cols))
    ax.set_yticks(range(n_rows))
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    ax.set_title(title)


def plot_grid_values(
    values: np.ndarray,
    shape: tuple[int, int],
    policy: np.ndarray | None = None,
    ax: Axes | None = None,
    title: str = "",
    cmap: str = "viridis",
    annotate: bool = True,
    special: Mapping[int, str] | None = None,
    action_arrows: Mapping[int, str] = FROZENLAKE_ARROWS,
    no_arrow: Iterable[int] = (),
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    fmt: str = ".2f",
    state_labels: bool = False,
) -> Axes:
    """Draw state values of a grid world as a heatmap, optionally with the policy as arrows.

    State ``s`` sits in row ``s // n_cols`` and column ``s % n_cols`` (the row-major
    numbering of gymnasium's FrozenLake and CliffWalking), row 0 at the top.

    Args:
        values: one value per state, shape ``(n_rows * n_cols,)`` (e.g. ``V`` or
            ``Q.max(axis=1)``), or already shaped ``(n_rows, n_cols)``.
        shape: ``(n_rows, n_cols)`` of the grid, e.g. ``(4, 4)`` for FrozenLake 4x4,
            ``(4, 12)`` for CliffWalking.
        policy: the action to draw in each state, shape ``(n_states,)`` of integers
            (``-1`` means "no arrow here"), or a policy table ``(n_states, n_actions)``
            such as :func:`helpers.tabular.greedy_policy` returns, of which the
            most probable action is drawn. ``None`` draws no arrows.
        ax: axes to draw on; a new figure is made when ``None``.
        title: the plot's title.
        cmap: matplotlib colour map for the values.
        annotate: write each state's value in its cell.
        special: labels for notable states, e.g. ``{0: "S", 5: "H", 15: "G"}``; drawn
            in bold in the cell's top-left corner.
        action_arrows: action index -> direction (``"left"``, ``"down"``, ``"right"``,
            ``"up"``). Defaults to FrozenLake's encoding (:data:`FROZENLAKE_ARROWS`,
            0=left, 1=down, 2=right, 3=up); pass :data:`CLIFFWALKING_ARROWS`
            (0=up, 1=right, 2=down, 3=left) for CliffWalking.
        no_arrow: states that get no arrow whatever the policy says (terminal
            states: holes, the goal, the cliff).
        vmin, vmax: limits of the colour scale (share them across subplots to compare).
        colorbar: add a colour bar labelled "value".
        fmt: format spec for the annotated values.
        state_labels: write each state's index (``s = 6``: "6") small in the cell's
            bottom-left corner, so prose that names states can be followed on the plot.

    Returns:
        The axes drawn on.

    Raises:
        ValueError: if ``shape`` is not two positive integers, ``values`` or ``policy``
            do not have one entry per state, or a policy action has no arrow in
            ``action_arrows``.
    """
    n_rows, n_cols = _grid_shape(shape)
    n_states = n_rows * n_cols
    grid = np.asarray(values, dtype=float)
    if grid.size != n_states or grid.ndim not in (1, 2):
        raise ValueError(
            f"values must hold one value per state ({n_states} for shape {shape}), "
            f"got shape {grid.shape}"
        )
    grid = grid.reshape(n_rows, n_cols)
    for direction in action_arrows.values():
        if direction not in _DIRECTIONS:
            raise ValueError(
                f"action_arrows values must be one of {sorted(_DIRECTIONS)}, got {direction!r}"
            )

    actions = None
    if policy is not None:
        table = np.asarray(policy)
        if table.ndim == 2 and table.shape[0] == n_states:
            actions = table.argmax(axis=1)
        elif table.ndim == 1 and table.shape[0] == n_states:
            actions = table.astype(int)
            if not np.array_equal(actions, table):
                raise ValueError("policy given per state must hold integer action indices")
        else:
            raise ValueError(
                f"policy must have shape ({n_states},) or ({n_states}, n_actions), "
                f"got {table.shape}"
            )
        unknown = sorted({int(a) for a in actions if a >= 0} - set(action_arrows))
        if unknown:
            raise ValueError(
                f"policy uses actions {unknown} that action_arrows does not map "
                f"(it maps {sorted(action_arrows)})"
            )

    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 0.9 * n_cols + 1.5), max(3.0, 0.9 * n_rows + 0.5)))
    image = ax.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax)
    norm, colours = image.norm, image.get_cmap()

    hidden = {int(s) for s in no_arrow}
    if actions is not None:
        xs, ys, dxs, dys = [], [], [], []
        for s, a in enumerate(actions):
            if a < 0 or s in hidden:
                continue
            dx, dy = _DIRECTIONS[action_arrows[int(a)]]
            row, col = divmod(s, n_cols)
            # centre the arrow in the upper part of the cell, leaving room for the value
            y0 = row - 0.12 if annotate else row
            xs.append(col - 0.2 * dx)
            ys.append(y0 - 0.2 * dy)
            dxs.append(0.4 * dx)
            dys.append(0.4 * dy)
        if xs:
            ax.quiver(
                xs, ys, dxs, dys, angles="xy", scale_units="xy", scale=1, units="xy",
                width=0.06, headwidth=3.2, headlength=2.8, headaxislength=2.5,
                color="white", edgecolor="black", linewidth=0.6, zorder=3,
            )

    for s in range(n_states):
        row, col = divmod(s, n_cols)
        if annotate:
            ax.text(
                col, row + (0.28 if actions is not None else 0.0), format(grid[row, col], fmt),
                ha="center", va="center", fontsize="small",
                color=_text_colour(colours(norm(grid[row, col]))), zorder=4,
            )
        if state_labels:
            ax.text(
                col - 0.45, row + 0.45, str(s), ha="left", va="bottom", fontsize="x-small",
                color="black", zorder=5,
                bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "alpha": 0.6, "lw": 0},
            )
        if special and s in special:
            ax.text(
                col - 0.42, row - 0.42, special[s], ha="left", va="top", fontsize="small",
                fontweight="bold", color="black", zorder=5,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.8, "lw": 0},
            )

    _label_grid_axes(ax, n_rows, n_cols, title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="value")
    return ax


# lesson 01 ------------------------------------------------------------------------------


def plot_q_triangles(
    q_values: np.ndarray,
    shape: tuple[int, int],
    ax: Axes | None = None,
    title: str = "",
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    special: Mapping[int, str] | None = None,
    action_arrows: Mapping[int, str] = FROZENLAKE_ARROWS,
    terminal: Iterable[int] = (),
    colorbar: bool = True,
    fmt: str = ".2f",
    state_labels: bool = True,
    tol: float = 1e-9,
) -> Axes:
    """Draw action values of a grid world: each cell cut into one triangle per action.

    The triangle of action ``a`` points the way ``a`` pushes the agent (``action_arrows``)
    and is coloured and labelled with ``Q(s, a)``; the best action (all of them, when
    several are within ``tol`` of the best) is outlined and written in bold. Where
    :func:`plot_grid_values` shows one number per state (``V``), this shows the
    ``n_actions`` numbers ``V`` is made from. States are laid out as there (row-major).

    Args:
        q_values: shape ``(n_rows * n_cols, n_actions)``.
        shape: ``(n_rows, n_cols)`` of the grid.
        ax: axes to draw on; a new figure is made when ``None``.
        title: the plot's title.
        cmap, vmin, vmax: colour map and limits of its scale.
        special: labels for notable states, e.g. ``{0: "S", 5: "H", 15: "G"}``; drawn
            in bold in the cell's top-left corner.
        action_arrows: action index -> direction (``"left"``, ``"down"``, ``"right"``,
            ``"up"``); every action needs one. FrozenLake's encoding by default.
        terminal: states drawn grey with no values (their ``Q`` is 0 by definition).
        colorbar: add a colour bar labelled "action value Q(s, a)".
        fmt: format spec for the values.
        state_labels: write each state's index in the centre of its cell.
        tol: actions within ``tol`` of a state's best value count as best, >= 0.

    Returns:
        The axes drawn on.

    Raises:
        ValueError: if ``shape`` is not two positive integers, ``q_values`` is not
            ``(n_rows * n_cols, n_actions)``, an action has no direction in
            ``action_arrows``, or ``tol`` is negative.
    """
    from matplotlib.collections import PolyCollection

    n_rows, n_cols = _grid_shape(shape)
    q = np.asarray(q_values, dtype=float)
    if q.ndim != 2 or q.shape[0] != n_rows * n_cols or q.shape[1] < 1:
        raise ValueError(
            f"q_values must have shape ({n_rows * n_cols}, n_actions) for shape {shape}, "
            f"got {q.shape}"
        )
    tol = as_float(tol, "tol", 0)
    directions = []
    for a in range(q.shape[1]):
        if a not in action_arrows or action_arrows[a] not in _DIRECTIONS:
            raise ValueError(
                f"action_arrows must map every action 0..{q.shape[1] - 1} to one of "
                f"{sorted(_DIRECTIONS)}, got {dict(action_arrows)!r}"
            )
        directions.append(_DIRECTIONS[action_arrows[a]])
    terminal_states = {int(s) for s in terminal}

    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 1.3 * n_cols + 1.5), max(3.0, 1.3 * n_rows + 0.5)))
    triangles, values, best_triangles, greys = [], [], [], []
    for s in range(n_rows * n_cols):
        row, col = divmod(s, n_cols)
        for a, (dx, dy) in enumerate(directions):
            # the centre and the two corners of the cell's edge on the side a pushes to
            corners = [(col + 0.5 * (dx - dy), row + 0.5 * (dy + dx)),
                       (col + 0.5 * (dx + dy), row + 0.5 * (dy - dx))]
            triangle = [(col, row), *corners]
            if s in terminal_states:
                greys.append(triangle)
                continue
            triangles.append(triangle)
            values.append(q[s, a])
            if q[s, a] >= q[s].max() - tol:
                best_triangles.append(triangle)
    ax.add_collection(PolyCollection(greys, facecolors="lightgrey", edgecolors="white",
                                     linewidths=0.5))
    patches = PolyCollection(triangles, array=np.array(values), cmap=cmap,
                             edgecolors="white", linewidths=0.5)
    patches.set_clim(vmin, vmax)
    ax.add_collection(patches)
    ax.add_collection(PolyCollection(best_triangles, facecolors="none", edgecolors="black",
                                     linewidths=1.8, zorder=3))
    norm, colours = patches.norm, patches.get_cmap()
    for s in range(n_rows * n_cols):
        row, col = divmod(s, n_cols)
        if s not in terminal_states:
            for a, (dx, dy) in enumerate(directions):
                ax.text(col + 0.3 * dx, row + 0.3 * dy, format(q[s, a], fmt), ha="center",
                        va="center", fontsize="x-small", zorder=4,
                        fontweight="bold" if q[s, a] >= q[s].max() - tol else "normal",
                        color=_text_colour(colours(norm(q[s, a]))))
        if state_labels:
            ax.text(col, row, str(s), ha="center", va="center", fontsize="xx-small", zorder=5,
                    bbox={"boxstyle": "circle,pad=0.15", "facecolor": "white", "lw": 0})
        if special and s in special:
            ax.text(col - 0.45, row - 0.45, special[s], ha="left", va="top", fontsize="small",
                    fontweight="bold", color="black", zorder=5,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.8,
                          "lw": 0})
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_aspect("equal")
    _label_grid_axes(ax, n_rows, n_cols, title)
    if colorbar:
        ax.figure.colorbar(patches, ax=ax, fraction=0.046, pad=0.04,
                           label="action value $Q(s, a)$")
    return ax
