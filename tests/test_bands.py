"""Reference bands: the statistic, the committed data file, and fresh runs inside the bands."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pytest
from notebook_files import load_script

import helpers
from helpers.bands import BANDS_PATH, band_for, band_names, collapse_level, load_band
from helpers.dqn import solved_threshold


def _script():
    return load_script("benchmarks/reference_bands.py")


def test_committed_bands_are_small_complete_and_current():
    """One band per configuration the script knows, each made by today's config and helpers."""
    assert BANDS_PATH.stat().st_size < 500_000
    script = _script()
    assert band_names() == sorted(script.SPECS)
    for name, spec in script.SPECS.items():
        band = load_band(name)
        assert band.matches(spec.config), f"band {name!r} is stale: rerun {band.command}"
        assert band.config == asdict(spec.config)
        assert band.label == spec.label and band.max_steps == spec.max_steps
        assert band.env_id == spec.env_id
        assert band.eval_env_id == (spec.eval_env_id or spec.env_id)
        assert band.threshold == solved_threshold(band.eval_env_id)
        assert band.n_seeds == 20 and band.seeds == list(range(1000, 1020))
        assert band.helpers_version == helpers.__version__, f"rerun {band.command}"
        # NaN only where no run had finished an episode yet (Acrobot's first 250 steps)
        empty = np.isnan(band.median)
        assert (np.isnan(band.p10) == empty).all() and (np.isnan(band.p90) == empty).all()
        assert not empty[band.steps >= 1_000].any()
        full = ~empty
        assert (band.p10[full] <= band.median[full]).all()
        assert (band.median[full] <= band.p90[full]).all()
        assert np.all(np.diff(band.frac_solved) >= 0)  # solved stays solved (first time)
        assert len(band.collapsed) == sum(s is not None for s in band.solved_steps)


def test_load_band_names_the_choices():
    with pytest.raises(ValueError, match="name must be one of"):
        load_band("no such band")


@pytest.mark.parametrize("name", ["naive", "replay"])
def test_fresh_runs_fall_inside_their_band(name):
    """Three seeds run again today: their median curve lies inside the committed 10-90 % band.

    On the machine that made the band these runs are members of it; on another CPU they are
    new runs of the same configuration, and must still look like the reference runs.
    """
    script = _script()
    band = load_band(name)
    curves = np.array([script.run_seed(script.SPECS[name], seed)["curve"]
                       for seed in band.seeds[:3]])
    median = np.median(curves, axis=0)
    inside = (median >= band.p10 - 1e-9) & (median <= band.p90 + 1e-9)
    assert inside.mean() >= 0.7, f"{name}: only {inside.mean():.0%} of the grid inside the band"


def test_band_for_finds_the_band_of_a_config():
    script = _script()
    for name, spec in script.SPECS.items():
        assert band_for(spec.config, spec.env_id).name == name
    with pytest.raises(ValueError, match="config has no reference band"):
        band_for(script.SPECS["seed"].config.replace(lr=0.123))
    with pytest.raises(ValueError, match="config has no reference band on env_id 'Acrobot-v1'"):
        band_for(script.SPECS["seed"].config, "Acrobot-v1")


def test_collapse_level_is_half_the_threshold_below_it():
    assert collapse_level(475.0) == 237.5
    assert collapse_level(-100.0) == -150.0
    assert collapse_level(200.0) == 100.0


def test_plot_durations_draws_the_band_and_the_same_statistic():
    import matplotlib

    matplotlib.use("Agg")
    from helpers.curves import durations_vs_steps
    from helpers.plotting import plot_durations

    band = load_band("naive")
    durations = [10, 20, 30, 12] * 100
    ax = plot_durations(durations, reference=band)
    labels = [line.get_label() for line in ax.lines]
    assert labels[0] == "20 reference runs: median"
    (smooth,) = [line for line in ax.lines if "env steps" in line.get_label()]
    x = smooth.get_xdata().astype(int)
    np.testing.assert_allclose(smooth.get_ydata(), durations_vs_steps(durations, x, band.window))
    with pytest.raises(ValueError, match="x must be"):
        plot_durations(durations, reference=band, x="episodes")
