"""helpers.curves: learning curves over env steps, checked by hand and against bad input."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers.curves import (  # noqa: E402
    durations_vs_steps,
    first_steps,
    last_episodes,
    moving_average,
    plot_mean_and_range,
    returns_to_go,
)


def test_durations_vs_steps_by_hand():
    durations = [10, 20, 30, 40]  # episodes end at steps 10, 30, 60, 100
    curve = durations_vs_steps(durations, [10, 30, 50, 60, 100], window=30)
    np.testing.assert_allclose(curve, [10, 15, 20, 30, 40])  # (70, 100]: only the 40
    assert np.isnan(durations_vs_steps([100], [50], window=10)[0])  # nothing ended yet


def test_durations_vs_steps_accepts_numpy_numbers():
    curve = durations_vs_steps(np.array([5, 5]), np.arange(5, 11, 5), window=np.int64(5))
    np.testing.assert_allclose(curve, [5, 5])


def test_last_episodes_leaves_out_the_cut_episode():
    durations = [10, 20, 30, 7]  # the 7 was cut short at step 67
    np.testing.assert_array_equal(last_episodes(durations, 67, window=30), [30])
    np.testing.assert_array_equal(last_episodes(durations, 67, window=40), [20, 30])


def test_first_steps_cuts_the_last_episode():
    assert first_steps([10, 20, 30], 35) == [10, 20, 5]
    assert first_steps([10, 20, 30], 30) == [10, 20]
    assert first_steps([10, 20, 30], 60) == [10, 20, 30]
    assert sum(first_steps([3, 9, 4, 8], 17)) == 17


def test_returns_to_go_formula():
    gamma = 0.9
    g = returns_to_go([3, 1], gamma)
    np.testing.assert_allclose(g, [1 + gamma + gamma**2, 1 + gamma, 1, 1])
    assert len(returns_to_go([5, 6, 7], 0.99)) == 18
    np.testing.assert_allclose(returns_to_go([4], 0.0), [1, 1, 1, 1])


def test_moving_average():
    np.testing.assert_allclose(moving_average([1, 2, 3, 4], 2), [1.5, 2.5, 3.5])
    np.testing.assert_allclose(moving_average([1, 2, 3], 1), [1, 2, 3])
    assert moving_average(range(10), 10).shape == (1,)


def test_plot_mean_and_range_draws_mean_and_band():
    fig, ax = plt.subplots()
    grid = np.array([10, 20])
    curves = plot_mean_and_range(ax, [[10, 10], [5, 5, 5, 5]], "x", "C0", grid, window=10)
    np.testing.assert_allclose(curves, [[10, 10], [5, 5]])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [7.5, 7.5])
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["x (mean)", "x (min-max over 2 seeds)"]
    plt.close(fig)


@pytest.mark.parametrize("call, name", [
    (lambda: durations_vs_steps([], [1]), "durations"),
    (lambda: durations_vs_steps([0, 3], [1]), "durations"),
    (lambda: durations_vs_steps([2.5], [1]), "durations"),
    (lambda: durations_vs_steps([[1, 2]], [1]), "durations"),
    (lambda: durations_vs_steps([np.nan], [1]), "durations"),
    (lambda: durations_vs_steps("abc", [1]), "durations"),
    (lambda: durations_vs_steps([3], []), "step_grid"),
    (lambda: durations_vs_steps([3], [0, 1]), "step_grid"),
    (lambda: durations_vs_steps([3], [1.5]), "step_grid"),
    (lambda: durations_vs_steps([3], [1], window=0), "window"),
    (lambda: durations_vs_steps([3], [1], window=True), "window"),
    (lambda: last_episodes([3, 4], 0), "n_steps"),
    (lambda: last_episodes([3, 4], 7, window=-1), "window"),
    (lambda: first_steps([3, 4], 8), "n_steps"),
    (lambda: first_steps([3, 4], 0), "n_steps"),
    (lambda: returns_to_go([3], 1.0), "gamma"),
    (lambda: returns_to_go([3], -0.1), "gamma"),
    (lambda: returns_to_go([3], float("nan")), "gamma"),
    (lambda: moving_average([], 1), "values"),
    (lambda: moving_average([1, 2], 3), "window"),
    (lambda: moving_average([1, 2], 0), "window"),
    (lambda: moving_average(["a"], 1), "values"),
    (lambda: plot_mean_and_range(None, [], "x", "C0", [1]), "runs"),
    (lambda: plot_mean_and_range(None, [[1]], "", "C0", [1]), "label"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=name):
        call()
