import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.quiver import Quiver

from helpers.plotting import (
    CLIFFWALKING_ARROWS,
    FROZENLAKE_ARROWS,
    LivePlot,
    in_notebook,
    moving_average,
    plot_durations,
    plot_grid_values,
)


def test_moving_average_is_trailing_mean():
    np.testing.assert_allclose(moving_average([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(moving_average([5, 5, 5], 100), [5, 5, 5])
    assert moving_average([], 3).size == 0


@pytest.mark.parametrize("bad", [0, -2, 1.5])
def test_moving_average_rejects_bad_window(bad):
    with pytest.raises(ValueError, match="window"):
        moving_average([1, 2, 3], bad)


def test_plot_durations_labels_and_threshold():
    ax = plot_durations([10, 20, 30], window=2, threshold=475, title="T")
    assert ax.get_title() == "T"
    assert ax.get_xlabel() == "Environment step"
    assert ax.get_ylabel() == "Duration (steps)"
    # raw durations, moving average, threshold line
    assert len(ax.lines) == 3
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [10, 15, 25])
    # each episode sits at the env step at which it ended
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [10, 30, 60])


def test_plot_durations_by_episode_and_bad_x():
    ax = plot_durations([10, 20, 30], x="episodes")
    assert ax.get_xlabel() == "Episode"
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [1, 2, 3])
    with pytest.raises(ValueError, match="x must be"):
        plot_durations([10], x="time")


def test_live_plot_outside_notebook_is_silent_but_current(capsys):
    assert not in_notebook()
    live = LivePlot(every=2, threshold=475)
    durations = []
    for episode in range(5):
        durations.append(episode + 1)
        live(episode, durations)
    live.close()
    assert capsys.readouterr().out == ""
    np.testing.assert_allclose(live.ax.lines[0].get_ydata(), [1, 2, 3, 4, 5])


def test_live_plot_rejects_bad_every():
    with pytest.raises(ValueError, match="every"):
        LivePlot(every=0)


def test_live_plot_redraws_on_a_time_cadence(monkeypatch):
    import helpers.plotting as plotting

    clock = [0.0]
    monkeypatch.setattr(plotting.time, "perf_counter", lambda: clock[0])
    live = LivePlot(interval=1.0)
    durations = []
    for episode in range(30):  # one episode every 0.1 s: about 3 redraws in 3 s
        clock[0] += 0.1
        durations.append(10)
        live(episode, durations)
    assert live.redraws == 2  # at t >= 1 s and t >= 2 s (redraws cost no time here)
    live.close()
    assert live.redraws == 3
    np.testing.assert_allclose(live.ax.lines[0].get_xdata(), np.arange(10, 301, 10))


def test_live_plot_slow_redraws_wait_longer(monkeypatch):
    import helpers.plotting as plotting

    clock = [0.0]
    monkeypatch.setattr(plotting.time, "perf_counter", lambda: clock[0])
    live = LivePlot(interval=1.0)
    real_plot = plotting.plot_durations

    def slow_plot(*args, **kwargs):
        clock[0] += 0.5  # a redraw that takes half a second
        return real_plot(*args, **kwargs)

    monkeypatch.setattr(plotting, "plot_durations", slow_plot)
    for episode in range(100):
        clock[0] += 0.1
        live(episode, [10] * (episode + 1))
    elapsed = clock[0]
    # redraw time stays about a tenth of the whole (never more than 1/9 + one redraw)
    assert live.redraws * 0.5 <= elapsed / 9 + 0.5


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "1"])
def test_live_plot_rejects_bad_interval(bad):
    with pytest.raises(ValueError, match="interval"):
        LivePlot(interval=bad)


# --- plot_grid_values -------------------------------------------------------------------


def _quiver(ax):
    quivers = [c for c in ax.collections if isinstance(c, Quiver)]
    assert len(quivers) == 1
    return quivers[0]


def test_plot_grid_values_draws_values_row_major_with_labels():
    values = np.arange(6, dtype=float)
    ax = plot_grid_values(values, (2, 3), title="V", fmt=".0f")
    assert ax.get_title() == "V"
    assert ax.get_xlabel() == "column" and ax.get_ylabel() == "row"
    np.testing.assert_array_equal(ax.images[0].get_array(), [[0, 1, 2], [3, 4, 5]])
    assert sorted(t.get_text() for t in ax.texts) == ["0", "1", "2", "3", "4", "5"]
    assert len(ax.figure.axes) == 2  # the heatmap and its colour bar


def test_plot_grid_values_frozenlake_arrows_point_the_right_way():
    # FrozenLake: 0=left, 1=down, 2=right, 3=up; image rows grow downwards
    ax = plot_grid_values(np.zeros(4), (2, 2), policy=np.array([0, 1, 2, 3]), colorbar=False)
    q = _quiver(ax)
    np.testing.assert_allclose(np.sign(q.U), [-1, 0, 1, 0])
    np.testing.assert_allclose(np.sign(q.V), [0, 1, 0, -1])
    assert FROZENLAKE_ARROWS[1] == "down"


def test_plot_grid_values_cliffwalking_mapping_and_one_hot_policy():
    one_hot = np.eye(4)[[0, 1, 2, 3]]  # CliffWalking: 0=up, 1=right, 2=down, 3=left
    ax = plot_grid_values(
        np.zeros(4), (1, 4), policy=one_hot, action_arrows=CLIFFWALKING_ARROWS, colorbar=False
    )
    q = _quiver(ax)
    np.testing.assert_allclose(np.sign(q.U), [0, 1, 0, -1])
    np.testing.assert_allclose(np.sign(q.V), [-1, 0, 1, 0])


def test_plot_grid_values_skips_terminal_states_and_marks_special_ones():
    special = {0: "S", 3: "G"}
    ax = plot_grid_values(
        np.zeros(4), (2, 2), policy=np.array([2, 1, -1, 0]), special=special, no_arrow=[3],
        annotate=False, colorbar=False,
    )
    assert _quiver(ax).N == 2  # state 2 has action -1, state 3 is terminal
    assert sorted(t.get_text() for t in ax.texts) == ["G", "S"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"values": np.zeros(4), "shape": (2, 0)}, "shape"),
        ({"values": np.zeros(4), "shape": (4,)}, "shape"),
        ({"values": np.zeros(5), "shape": (2, 2)}, "values"),
        ({"values": np.zeros(4), "shape": (2, 2), "policy": np.zeros(3, dtype=int)}, "policy"),
        ({"values": np.zeros(4), "shape": (2, 2), "policy": np.array([0.5, 0, 0, 0])}, "policy"),
        ({"values": np.zeros(4), "shape": (2, 2), "policy": np.array([0, 1, 2, 7])}, "action"),
        (
            {"values": np.zeros(4), "shape": (2, 2), "action_arrows": {0: "north"}},
            "action_arrows",
        ),
    ],
)
def test_plot_grid_values_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_grid_values(**kwargs)
