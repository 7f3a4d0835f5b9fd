import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from helpers.plotting import LivePlot, in_notebook, moving_average, plot_durations


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
    assert ax.get_xlabel() == "Episode"
    assert ax.get_ylabel() == "Duration (steps)"
    # raw durations, moving average, threshold line
    assert len(ax.lines) == 3
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [10, 15, 25])


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
