"""The shared argument checks, and the smaller modules under learners' inputs: NumPy
numbers accepted everywhere, bools never integers, NaN and infinity refused, global torch
settings put back, a moving average that one bad value cannot spoil."""

import math
import random

import gymnasium as gym
import numpy as np
import pytest
import torch

from helpers.plotting import LivePlot, moving_average
from helpers.runtime import (
    denormals_flushed,
    restoring_torch_state,
    seed_everything,
    set_cpu_threads,
)
from helpers.tabular import (
    agent_rng,
    epsilon_greedy,
    finite_horizon_evaluation,
    greedy_policy,
    linear_decay,
    policy_evaluation,
    q_learning,
    value_iteration,
)
from helpers.validation import as_bool, as_float, as_int, one_of

# --------------------------------------------------------------------------- the one rule


def test_as_int_accepts_numpy_integers_and_returns_python_ints():
    for value in (3, np.int64(3), np.int32(3), np.uint8(3)):
        result = as_int(value, "n", 1, 5)
        assert result == 3 and type(result) is int
    assert as_int(None, "n", none_ok=True) is None


@pytest.mark.parametrize("value", [True, False, np.bool_(True), 3.0, np.float64(3), "3", None,
                                   0, 6])
def test_as_int_names_the_argument_and_the_range(value):
    with pytest.raises(ValueError, match=r"^n must be an integer in \[1, 5\], got "):
        as_int(value, "n", 1, 5)


def test_as_int_messages():
    with pytest.raises(ValueError, match="seed must be a non-negative integer, got -1"):
        as_int(-1, "seed", 0)
    with pytest.raises(ValueError, match=r"k must be an integer >= 2 or None"):
        as_int(1, "k", 2, none_ok=True)
    with pytest.raises(ValueError, match=r"b must be an integer in \[1, 3\] \(why not\), got 4"):
        as_int(4, "b", 1, 3, why="why not")


def test_as_float_accepts_integers_and_numpy_and_returns_python_floats():
    for value in (1, 0.5, np.float64(0.5), np.float32(0.5), np.int64(1)):
        result = as_float(value, "x", 0, 1, low_open=True)
        assert type(result) is float and result == float(value)
    for value in np.linspace(0.1, 1.0, 4):  # a sweep, as a learner writes it
        assert type(as_float(value, "x", 0, 1)) is float


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float64("nan"), 10**400,
                                   True, "0.5", None, np.array(0.5), 0.0, 1.5])
def test_as_float_refuses_non_finite_bools_and_out_of_range(value):
    with pytest.raises(ValueError, match=r"^x must be a finite number in \(0, 1\], got "):
        as_float(value, "x", 0, 1, low_open=True)


def test_as_bool_and_one_of():
    assert as_bool(np.bool_(True), "flag") is True and as_bool(False, "flag") is False
    for value in (1, 0, "yes", None):
        with pytest.raises(ValueError, match="flag must be True or False"):
            as_bool(value, "flag")
    assert one_of("mse", "loss", ("smooth_l1", "mse")) == "mse"
    with pytest.raises(ValueError, match="loss must be one of 'smooth_l1', 'mse', got 'huber'"):
        one_of("huber", "loss", ("smooth_l1", "mse"))


# --------------------------------------------------------------------------- runtime


def test_seeding_takes_numpy_integers_and_refuses_bools_and_huge_seeds():
    seed_everything(np.int64(7))
    a = (random.random(), torch.rand(1).item())
    seed_everything(7)
    assert a == (random.random(), torch.rand(1).item())
    for bad in (True, 2**64, np.float64(7)):
        with pytest.raises(ValueError, match="seed"):
            seed_everything(bad)


def test_set_cpu_threads_checks_its_arguments():
    with restoring_torch_state():
        set_cpu_threads(np.int64(1), flush_denormal=np.bool_(False))
        assert torch.get_num_threads() == 1 and not denormals_flushed()
    for kwargs in ({"num_threads": True}, {"num_threads": 1.0}, {"flush_denormal": "no"}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            set_cpu_threads(**kwargs)


def test_restoring_torch_state_puts_everything_back_even_after_an_error():
    threads, flushed = torch.get_num_threads(), denormals_flushed()
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    with pytest.raises(RuntimeError, match="inside"), restoring_torch_state():
        torch.manual_seed(0)
        torch.rand(10)
        set_cpu_threads(threads + 1, flush_denormal=not flushed)
        raise RuntimeError("inside")
    assert torch.equal(torch.rand(2), expected)
    assert torch.get_num_threads() == threads and denormals_flushed() == flushed


def test_denormals_flushed_reports_the_setting():
    with restoring_torch_state():
        set_cpu_threads(1, flush_denormal=False)
        assert not denormals_flushed()
        if torch.set_flush_denormal(True):  # True where the CPU can flush
            assert denormals_flushed()


# --------------------------------------------------------------------------- plotting


def test_moving_average_confines_nan_and_huge_values_to_their_windows():
    values = np.ones(10)
    values[3] = math.nan
    smooth = moving_average(values, 3)
    assert np.isnan(smooth[3:6]).all() and np.array_equal(smooth[6:], np.ones(4))
    values[3] = 1e17  # used to swamp every later window (they came out 0.0)
    smooth = moving_average(values, 3)
    assert np.array_equal(smooth[6:], np.ones(4)) and smooth[4] == pytest.approx(1e17 / 3)


def test_moving_average_is_the_trailing_mean():
    rng = np.random.default_rng(0)
    durations = rng.integers(8, 501, 300)
    for window in (1, 7, 100, 1000):
        expected = [durations[max(0, i - window + 1) : i + 1].mean() for i in range(300)]
        np.testing.assert_array_equal(moving_average(durations, np.int64(window)), expected)
    assert moving_average([], 5).shape == (0,)


@pytest.mark.parametrize("window", [0, True, 2.0, None])
def test_moving_average_and_live_plot_check_window(window):
    with pytest.raises(ValueError, match="window"):
        moving_average([1.0, 2.0], window)
    with pytest.raises(ValueError, match="window"):
        LivePlot(window=window)
    if window is not None:  # every=None means "on a time cadence"
        with pytest.raises(ValueError, match="every"):
            LivePlot(every=window)


# --------------------------------------------------------------------------- tabular


@pytest.fixture(scope="module")
def frozen_lake():
    return gym.make("FrozenLake-v1")


def test_max_iterations_is_checked_up_front(frozen_lake):
    policy = np.full((16, 4), 0.25)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_iterations must be an integer >= 1"):
            value_iteration(frozen_lake, 0.9, max_iterations=bad)  # used to blame gamma
        with pytest.raises(ValueError, match="max_iterations must be an integer >= 1"):
            policy_evaluation(frozen_lake, policy, 0.9, max_iterations=bad)


def test_not_converging_blames_gamma_only_when_it_is_one(frozen_lake):
    with pytest.raises(ValueError, match="max_iterations = 3 sweeps") as info:
        value_iteration(frozen_lake, 0.9, max_iterations=3)
    assert "gamma" not in str(info.value) and "raise max_iterations" in str(info.value)
    with pytest.raises(ValueError, match="with gamma = 1 the values converge only if"):
        policy_evaluation(frozen_lake, np.full((16, 4), 0.25), 1.0, max_iterations=3)


def test_tabular_functions_take_numpy_numbers_and_refuse_bools(frozen_lake):
    V, Q = value_iteration(frozen_lake, np.float64(0.9), theta=np.float32(1e-8))
    V2, _ = value_iteration(frozen_lake, 0.9, theta=float(np.float32(1e-8)))
    np.testing.assert_array_equal(V, V2)
    assert finite_horizon_evaluation(frozen_lake, greedy_policy(Q), np.int64(5)).shape == (16,)
    same = [q_learning(frozen_lake, n, a, g, e, s).Q for n, a, g, e, s in
            [(20, 0.5, 0.9, 0.1, 3), (np.int64(20), np.float64(0.5), np.float32(0.9),
                                      np.float64(0.1), np.int64(3))]]
    np.testing.assert_array_equal(*same)
    for kwargs in ({"gamma": True}, {"seed": True}, {"alpha": np.float64("nan")},
                   {"epsilon": math.inf}, {"initial_value": math.inf},
                   {"max_episode_steps": True}):
        args = {"n_episodes": 2, "alpha": 0.5, "gamma": 0.9, "epsilon": 0.1, "seed": 0,
                **kwargs}
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            q_learning(frozen_lake, **args)
    with pytest.raises(ValueError, match="gamma"):
        value_iteration(frozen_lake, True)
    with pytest.raises(ValueError, match="seed"):
        agent_rng(True)
    with pytest.raises(ValueError, match="epsilon"):
        epsilon_greedy([0.0, 1.0], math.nan, np.random.default_rng(0))
    with pytest.raises(ValueError, match="end"):
        linear_decay(1.0, math.nan, 10)


def test_epsilon_schedule_values_are_checked_by_the_same_rule(frozen_lake):
    with pytest.raises(ValueError, match=r"epsilon \(the schedule's value for episode 0\)"):
        q_learning(frozen_lake, 2, 0.5, 0.9, lambda episode: math.nan, 0)
    result = q_learning(frozen_lake, 2, 0.5, 0.9, lambda episode: np.float64(0.5), 0)
    assert result.epsilons.tolist() == [0.5, 0.5]
