"""Lesson 01's batch episode simulator (helpers.tabular) and what its docstrings promise
about gamma = 1, checked against the environment, a plain re-implementation and DP."""

import copy

import gymnasium as gym
import numpy as np
import pytest

from helpers.tabular import (
    OutcomeTable,
    greedy_policy,
    outcome_table,
    policy_evaluation,
    sample_actions,
    simulate_episodes,
    step_many,
    value_iteration,
)


@pytest.fixture(scope="module")
def frozen_lake():
    return gym.make("FrozenLake-v1", is_slippery=True)


@pytest.fixture(scope="module")
def table(frozen_lake):
    return outcome_table(frozen_lake.unwrapped.P, 16, 4)


def _lesson_simulate_episodes(table, policy, start_states, gamma, max_steps, rng):
    """Lesson 01's definition, written the plain way (a mask over the whole batch)."""
    cum_probs, next_states, rewards, terminals = table
    states = start_states.copy()
    returns, discounts = np.zeros(states.size), np.ones(states.size)
    lengths = np.zeros(states.size, dtype=int)
    running = np.ones(states.size, dtype=bool)
    for _ in range(max_steps):
        idx = np.flatnonzero(running)
        if idx.size == 0:
            break
        u = rng.random((idx.size, 1))
        actions = np.argmax(np.cumsum(policy[states[idx]], axis=1) > u, axis=1)
        s, a = states[idx], actions
        u = rng.random(idx.size)
        k = np.argmax(cum_probs[s, a] > u[:, None], axis=1)
        returns[idx] += discounts[idx] * rewards[s, a, k]
        discounts[idx] *= gamma
        lengths[idx] += 1
        states[idx] = next_states[s, a, k]
        running[idx[terminals[s, a, k]]] = False
    return returns, lengths, running


def test_outcome_table_holds_the_model(frozen_lake, table):
    P = frozen_lake.unwrapped.P
    assert isinstance(table, OutcomeTable)
    assert all(x.shape == (16, 4, 3) for x in table)
    for s in range(16):
        for a in range(4):
            probs, nexts, rews, dones = zip(*P[s][a], strict=True)
            n = len(probs)
            np.testing.assert_array_equal(table.cum_probs[s, a, :n], np.cumsum(probs))
            assert np.all(np.isinf(table.cum_probs[s, a, n:]))
            np.testing.assert_array_equal(table.next_states[s, a, :n], nexts)
            np.testing.assert_array_equal(table.rewards[s, a, :n], rews)
            np.testing.assert_array_equal(table.terminals[s, a, :n], dones)


def test_outcome_table_pads_unequal_outcome_lists():
    P = {0: {0: [(1.0, 1, 0.0, False)], 1: [(0.5, 0, 1.0, False), (0.5, 1, 2.0, True)]},
         1: {0: [(1.0, 1, 0.0, True)], 1: [(1.0, 1, 0.0, True)]}}
    table = outcome_table(P, 2, 2)
    assert table.cum_probs.shape == (2, 2, 2)
    assert np.isinf(table.cum_probs[0, 0, 1]) and table.cum_probs[0, 1, 1] == 1.0
    # the padding is never chosen: action 0 in state 0 always moves to state 1
    nxt, rew, term = step_many(table, np.zeros(1000, dtype=int), np.zeros(1000, dtype=int),
                               np.random.default_rng(0))
    assert np.all(nxt == 1) and np.all(rew == 0) and not term.any()


def test_step_many_reproduces_env_step(frozen_lake):
    """The same uniform numbers give the same outcomes as env.step, step for step."""
    env = gym.make("FrozenLake-v1", is_slippery=True)
    table = outcome_table(env.unwrapped.P, 16, 4)
    env.reset(seed=3)
    env.action_space.seed(3)
    n_steps = 0
    for _ in range(30):
        state, _ = env.reset()
        rng_copy = copy.deepcopy(env.unwrapped.np_random)
        done = False
        while not done:
            action = int(env.action_space.sample())
            next_state, reward, terminated, truncated, _ = env.step(action)
            s2, r, term = step_many(table, np.array([state]), np.array([action]), rng_copy)
            assert (int(s2[0]), float(r[0]), bool(term[0])) == (next_state, reward, terminated)
            state, done, n_steps = next_state, terminated or truncated, n_steps + 1
    assert n_steps > 100


@pytest.mark.parametrize(("gamma", "max_steps"), [(0.99, 1000), (1.0, 100), (0.5, 3)])
def test_simulate_episodes_equals_the_lesson_definition(table, gamma, max_steps):
    policies = [np.full((16, 4), 0.25),
                np.random.default_rng(1).dirichlet(np.ones(4), size=16),
                np.eye(4)[np.random.default_rng(2).integers(0, 4, 16)]]
    starts = np.repeat(np.arange(16), 300)
    for policy in policies:
        rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
        ours = _lesson_simulate_episodes(table, policy, starts, gamma, max_steps, rng_a)
        helper = simulate_episodes(table, policy, starts, gamma, max_steps, rng_b)
        for x, y in zip(ours, helper, strict=True):
            np.testing.assert_array_equal(x, y)
        assert rng_a.random() == rng_b.random(), "both drew the same random numbers"


def test_simulate_episodes_cut_off_and_lengths(table):
    starts = np.zeros(2000, dtype=int)
    returns, lengths, cut_off = simulate_episodes(table, np.full((16, 4), 0.25), starts, 1.0,
                                                  max_steps=5, rng=np.random.default_rng(0))
    assert lengths.max() == 5 and np.all(lengths[cut_off] == 5)
    assert 0 < cut_off.mean() < 1
    assert np.all(returns[cut_off] == 0)          # the goal is 6 steps from the start
    # a terminal start state still takes its one (absorbing, terminating) step
    returns, lengths, cut_off = simulate_episodes(table, np.full((16, 4), 0.25),
                                                  np.full(10, 5), 0.9, 10, np.random.default_rng(0))
    assert np.all(lengths == 1) and not cut_off.any() and np.all(returns == 0)


def test_monte_carlo_agrees_with_dynamic_programming(frozen_lake, table):
    gamma, n = 0.9, 4000
    policy = np.full((16, 4), 0.25)
    returns, _, cut_off = simulate_episodes(table, policy, np.repeat(np.arange(16), n), gamma,
                                            1000, np.random.default_rng(11))
    assert not cut_off.any()
    by_state = returns.reshape(16, n)
    se = by_state.std(axis=1, ddof=1) / np.sqrt(n)
    v_dp = policy_evaluation(frozen_lake, policy, gamma)
    assert np.all(np.abs(by_state.mean(axis=1) - v_dp) <= 4 * se + 1e-12)


def test_sample_actions_follows_the_policy():
    one_hot = np.eye(4)[[2, 0, 3]]
    actions = sample_actions(one_hot, np.array([0, 1, 2, 2, 1]), np.random.default_rng(0))
    np.testing.assert_array_equal(actions, [2, 0, 3, 3, 0])
    policy = np.array([[0.1, 0.2, 0.3, 0.4]])
    draws = sample_actions(policy, np.zeros(40_000, dtype=int), np.random.default_rng(0))
    freq = np.bincount(draws, minlength=4) / draws.size
    assert np.all(np.abs(freq - policy[0]) < 4 * np.sqrt(policy[0] * (1 - policy[0]) / draws.size))


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda t: step_many(tuple(t), np.array([0]), np.array([0]), np.random.default_rng()),
         "table"),
        (lambda t: step_many(t, np.array([16]), np.array([0]), np.random.default_rng()), "states"),
        (lambda t: step_many(t, np.array([0]), np.array([4]), np.random.default_rng()), "actions"),
        (lambda t: step_many(t, np.array([0.5]), np.array([0]), np.random.default_rng()),
         "states"),
        (lambda t: step_many(t, np.array([0, 1]), np.array([0]), np.random.default_rng()),
         "same shape"),
        (lambda t: step_many(t, np.array([0]), np.array([0]), 0), "rng"),
        (lambda t: simulate_episodes(t, np.full((16, 3), 1 / 3), np.zeros(2, dtype=int), 0.9,
                                     10, np.random.default_rng()), "policy"),
        (lambda t: simulate_episodes(t, np.full((16, 4), 0.3), np.zeros(2, dtype=int), 0.9,
                                     10, np.random.default_rng()), "policy"),
        (lambda t: simulate_episodes(t, np.full((16, 4), 0.25), np.zeros(2, dtype=int), 1.5,
                                     10, np.random.default_rng()), "gamma"),
        (lambda t: simulate_episodes(t, np.full((16, 4), 0.25), np.zeros(2, dtype=int), 0.9,
                                     0, np.random.default_rng()), "max_steps"),
        (lambda t: simulate_episodes(t, np.full((16, 4), 0.25), np.array([-1]), 0.9,
                                     10, np.random.default_rng()), "start_states"),
        (lambda t: sample_actions(np.full(4, 0.25), np.array([0]), np.random.default_rng()),
         "policy"),
        (lambda t: outcome_table({0: {}}, 1, 1), "P"),
        (lambda t: outcome_table({0: {0: []}}, 1, 1), "P"),
        (lambda t: outcome_table({}, 0, 1), "n_states"),
    ],
)
def test_bad_input_raises_naming_the_argument(table, call, name):
    with pytest.raises(ValueError, match=name):
        call(table)


# --- gamma = 1: what the docstrings of value_iteration and policy_evaluation promise ----


class _TwoStateLoop:
    """Two states passing the agent back and forth forever, paying `reward` per step."""

    class _Space:
        def __init__(self, n):
            self.n = n

    observation_space = _Space(2)
    action_space = _Space(1)

    def __init__(self, reward):
        self.P = {0: {0: [(1.0, 1, reward, False)]}, 1: {0: [(1.0, 0, reward, False)]}}


def test_gamma_one_converges_on_a_loop_that_pays_nothing():
    env = _TwoStateLoop(0.0)
    V, _ = value_iteration(env, 1.0, max_iterations=10)
    np.testing.assert_array_equal(V, [0.0, 0.0])
    np.testing.assert_array_equal(policy_evaluation(env, np.ones((2, 1)), 1.0), [0.0, 0.0])


def test_gamma_one_raises_on_a_loop_that_keeps_paying():
    env = _TwoStateLoop(1.0)
    with pytest.raises(ValueError, match="gamma = 1.*expected total reward is finite"):
        value_iteration(env, 1.0, max_iterations=1000)
    with pytest.raises(ValueError, match="gamma = 1.*expected total reward is finite"):
        policy_evaluation(env, np.ones((2, 1)), 1.0, max_iterations=1000)


def test_gamma_one_frozen_lake_policy_that_never_terminates(frozen_lake):
    """Lesson 01: pushing "up" along the top row never ends an episode, yet evaluation
    with gamma = 1 converges (to 0 there), and value iteration converges although such
    policies exist."""
    V_star, Q_star = value_iteration(frozen_lake, 1.0)
    assert V_star[0] == pytest.approx(0.8235, abs=5e-5)
    loop = greedy_policy(Q_star)
    loop[[0, 1, 2, 3]] = np.eye(4)[3]                       # "up" along the top row
    V_loop = policy_evaluation(frozen_lake, loop, 1.0)
    np.testing.assert_array_equal(V_loop[:4], 0.0)
