"""Reference bands: what 20 training runs of a configuration look like, to compare yours with.

"Is my run broken, or is this normal?" A single DQN run says little: two seeds of the same
configuration can differ more than two configurations do. So for every configuration whose
training curve a lesson shows, ``benchmarks/reference_bands.py`` trained 20 runs (seeds
1000-1019, none of which a lesson uses) and stored, at every 250th env step:

- the **median** and the **10-90 % band** over the runs of the *trailing-mean duration*: the
  mean duration of the training episodes that ended in the last 1,000 env steps
  (:func:`helpers.curves.durations_vs_steps`);
- the **fraction of runs solved** by then, judged as lesson 06 judges: every 2,000 env steps
  the greedy policy plays 100 episodes (reset seeds 10,000-10,099, never used in training),
  and a run is solved at the first evaluation whose mean return reaches the environment's
  threshold (475 for CartPole-v1, -100 for Acrobot-v1, -110 for MountainCar-v0); a solved
  run **collapses** if a later evaluation falls below :func:`collapse_level` (for CartPole,
  half the threshold).

:func:`load_band` reads one; ``Band.draw`` draws it under your run (``plot_durations`` and
``LivePlot`` do it for you with ``reference=band``). Your run should mostly stay inside the
band: 8 runs out of 10 are inside it at any given step, so leaving it now and then is normal;
staying far below the median for thousands of steps is not.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from helpers.validation import as_int

__all__ = [
    "BANDS_PATH",
    "WINDOW",
    "Band",
    "band_for",
    "collapse_level",
    "band_names",
    "load_band",
]

BANDS_PATH = Path(__file__).with_name("data") / "reference_bands.json"
"""The committed data file (written by ``benchmarks/reference_bands.py``)."""
WINDOW = 1_000
"""Env steps over which the trailing mean of episode durations is taken."""


def collapse_level(threshold: float) -> float:
    """``threshold - |threshold| / 2``: a solved run that falls below it has *collapsed*.

    237.5 for CartPole-v1 (half of 475), -150 for Acrobot-v1, -165 for MountainCar-v0: half
    the threshold's size below it, for thresholds of either sign.
    """
    return threshold - abs(threshold) / 2


@dataclass(frozen=True)
class Band:
    """The reference runs of one configuration (see the module docstring)."""

    name: str
    label: str
    env_id: str
    """The environment the runs trained on."""
    eval_env_id: str
    """The environment their evaluations played (``env_id`` unless it was a shaped one)."""
    config: dict[str, Any]
    """The :class:`helpers.dqn.DQNConfig` the runs used, as a dict."""
    seeds: list[int]
    steps: np.ndarray
    """Env steps of the grid, shape (n_grid,), integers."""
    p10: np.ndarray
    median: np.ndarray
    p90: np.ndarray
    frac_solved: np.ndarray
    """Fraction of runs whose greedy evaluation has reached the threshold by each grid step."""
    solved_steps: list[int | None]
    """Per run: the first evaluation step with mean greedy return >= the threshold, or None."""
    collapsed: list[bool]
    """Per solved run: whether a later evaluation fell below ``collapse_level(threshold)``."""
    window: int
    eval_every: int
    eval_episodes: int
    threshold: float
    helpers_version: str
    command: str

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    @property
    def max_steps(self) -> int:
        return int(self.steps[-1])

    def matches(self, config: Any) -> bool:
        """True when ``config`` (a DQNConfig) is the configuration these runs used."""
        return asdict(config) == self.config

    def fraction_solved_by(self, step: int) -> float:
        """Fraction of the runs solved at or before env step ``step``."""
        step = as_int(step, "step", 0)
        return float(np.mean([s is not None and s <= step for s in self.solved_steps]))

    def draw(self, ax: Axes, color: str = "0.45", label: str | None = None) -> None:
        """Draw the median (dotted) and the 10-90 % band (shaded) on ``ax``, behind the rest."""
        text = label or f"{self.n_seeds} reference runs"
        ax.fill_between(self.steps, self.p10, self.p90, color=color, alpha=0.18, lw=0,
                        zorder=0, label=f"{text}: 10-90 %")
        ax.plot(self.steps, self.median, color=color, ls=":", lw=1.5, zorder=1,
                label=f"{text}: median")


def _load_all(path: Path = BANDS_PATH) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def band_names(path: Path = BANDS_PATH) -> list[str]:
    """The names of the committed bands."""
    return sorted(_load_all(path)["bands"])


def _band(name: str, b: dict[str, Any]) -> Band:
    """A :class:`Band` from its entry in the data file."""
    return Band(
        name=name, label=b["label"], env_id=b["env_id"], eval_env_id=b["eval_env_id"],
        config=b["config"], seeds=b["seeds"],
        steps=np.asarray(b["steps"], dtype=np.int64), p10=np.asarray(b["p10"], dtype=float),
        median=np.asarray(b["median"], dtype=float), p90=np.asarray(b["p90"], dtype=float),
        frac_solved=np.asarray(b["frac_solved"], dtype=float), solved_steps=b["solved_steps"],
        collapsed=b["collapsed"], window=b["window"], eval_every=b["eval_every"],
        eval_episodes=b["eval_episodes"], threshold=b["threshold"],
        helpers_version=b["helpers_version"], command=b["command"],
    )


def load_band(name: str, path: Path = BANDS_PATH) -> Band:
    """The committed reference band called ``name`` (see :func:`band_names`).

    Raises:
        ValueError: if there is no band of that name.
    """
    bands = _load_all(path)["bands"]
    if name not in bands:
        raise ValueError(f"name must be one of {sorted(bands)}, got {name!r}")
    return _band(name, bands[name])


def band_for(config: Any, env_id: str = "CartPole-v1", path: Path = BANDS_PATH) -> Band:
    """The committed band whose runs used exactly ``config`` (a DQNConfig) on ``env_id``.

    Raises:
        ValueError: if no band was made with this configuration (naming the ones there are),
            e.g. because the configuration changed since: rerun the band's command.
    """
    bands = _load_all(path)["bands"]
    for name in sorted(bands):
        band = _band(name, bands[name])
        if band.matches(config) and band.env_id == env_id:
            return band
    raise ValueError(f"config has no reference band on env_id {env_id!r}: bands exist for "
                     f"{sorted(bands)}; benchmarks/reference_bands.py makes them")
