"""Dynamic programming (lesson 01) checked against independent results."""

import gymnasium as gym
import numpy as np
import pytest

from helpers.tabular import (
    bellman_backup,
    greedy_policy,
    policy_evaluation,
    tabular_model,
    value_iteration,
)


@pytest.fixture(scope="module")
def frozen_lake():
    return gym.make("FrozenLake-v1")


def test_tabular_model_shapes_and_probabilities(frozen_lake):
    T, R = tabular_model(frozen_lake)
    assert T.shape == (16, 4, 16) and R.shape == (16, 4)
    # Probability of continuing + probability of terminating = 1 for every (s, a).
    P = frozen_lake.unwrapped.P
    for s in range(16):
        for a in range(4):
            p_term = sum(p for p, _, _, done in P[s][a] if done)
            assert T[s, a].sum() + p_term == pytest.approx(1.0)


@pytest.mark.parametrize(("gamma", "expected"), [(0.99, 0.5420), (1.0, 0.8235)])
def test_value_iteration_known_start_values(frozen_lake, gamma, expected):
    V, Q = value_iteration(frozen_lake, gamma)
    assert V[0] == pytest.approx(expected, abs=5e-5)
    np.testing.assert_allclose(V, Q.max(axis=1), atol=1e-9)


def test_value_iteration_matches_linear_solve(frozen_lake):
    gamma = 0.99
    V, Q = value_iteration(frozen_lake, gamma)
    T, R = tabular_model(frozen_lake)
    pi = greedy_policy(Q)
    P_pi = np.einsum("sa,sat->st", pi, T)
    r_pi = np.sum(pi * R, axis=1)
    V_exact = np.linalg.solve(np.eye(16) - gamma * P_pi, r_pi)
    np.testing.assert_allclose(V, V_exact, atol=1e-8)


def test_q_star_satisfies_bellman_optimality(frozen_lake):
    T, R = tabular_model(frozen_lake)
    V, Q = value_iteration(frozen_lake, 0.9)
    np.testing.assert_allclose(Q, bellman_backup(T, R, Q.max(axis=1), 0.9), atol=1e-9)


def test_value_iteration_deltas_decrease_to_theta(frozen_lake):
    _, _, deltas = value_iteration(frozen_lake, 0.9, theta=1e-8, return_deltas=True)
    assert deltas[-1] < 1e-8 <= deltas[-2]


def test_policy_evaluation_uniform_random_matches_linear_solve(frozen_lake):
    gamma = 0.9
    pi = np.full((16, 4), 0.25)
    V = policy_evaluation(frozen_lake, pi, gamma)
    T, R = tabular_model(frozen_lake)
    P_pi = np.einsum("sa,sat->st", pi, T)
    V_exact = np.linalg.solve(np.eye(16) - gamma * P_pi, (pi * R).sum(axis=1))
    np.testing.assert_allclose(V, V_exact, atol=1e-8)


def test_greedy_policy_one_hot_lowest_index_ties():
    pi = greedy_policy(np.array([[1.0, 3.0], [2.0, 2.0]]))
    np.testing.assert_array_equal(pi, [[0, 1], [1, 0]])


@pytest.mark.parametrize("gamma", [0.0, -0.5, 1.01, 2, "0.9"])
def test_bad_gamma_raises(frozen_lake, gamma):
    with pytest.raises(ValueError, match="gamma"):
        value_iteration(frozen_lake, gamma)
    with pytest.raises(ValueError, match="gamma"):
        policy_evaluation(frozen_lake, np.full((16, 4), 0.25), gamma)


def test_bad_theta_raises(frozen_lake):
    with pytest.raises(ValueError, match="theta"):
        value_iteration(frozen_lake, 0.9, theta=0)


def test_gamma_one_without_termination_raises():
    class Loop:
        """Two states that never terminate: V diverges with gamma = 1."""

        class _Space:
            def __init__(self, n):
                self.n = n

        observation_space = _Space(2)
        action_space = _Space(1)
        P = {0: {0: [(1.0, 1, 1.0, False)]}, 1: {0: [(1.0, 0, 1.0, False)]}}

    with pytest.raises(ValueError, match="gamma"):
        value_iteration(Loop(), 1.0, max_iterations=1000)


@pytest.mark.parametrize(
    "policy",
    [np.full((16, 4), 0.3), np.full((16, 3), 1 / 3), -np.full((16, 4), 0.25)],
)
def test_bad_policy_raises(frozen_lake, policy):
    with pytest.raises(ValueError, match="policy"):
        policy_evaluation(frozen_lake, policy, 0.9)


def test_env_without_model_raises():
    with pytest.raises(ValueError, match="env"):
        value_iteration(gym.make("CartPole-v1"), 0.9)
