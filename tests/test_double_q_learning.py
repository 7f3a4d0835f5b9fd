"""Double Q-learning (lesson 07): the update by hand, the textbook loop, determinism, bad input."""

import re

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from helpers.tabular import (
    TabularResult,
    agent_rng,
    double_q_learning,
    epsilon_greedy,
    q_learning,
    value_iteration,
)


class ChainEnv(gym.Env):
    """0 --(r=1)--> 1 --(r=10, terminal)--> 2, whatever the action (2 actions).

    In gymnasium's toy-text style: a model ``P`` and a start distribution."""

    def __init__(self):
        self.P = {
            0: {a: [(1.0, 1, 1.0, False)] for a in range(2)},
            1: {a: [(1.0, 2, 10.0, True)] for a in range(2)},
            2: {a: [(1.0, 2, 0.0, True)] for a in range(2)},
        }
        self.initial_state_distrib = np.array([1.0, 0.0, 0.0])
        self.observation_space = spaces.Discrete(3)
        self.action_space = spaces.Discrete(2)
        self.s = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = 0
        return self.s, {}

    def step(self, action):
        _, self.s, reward, terminated = self.P[self.s][action][0]
        return self.s, reward, terminated, False, {}


class MaximizationBiasEnv(gym.Env):
    """Sutton & Barto's Example 6.7 with 2 actions in B (so that every state has the same
    number of actions): from A, "right" (0) ends the episode with reward 0, "left" (1)
    leads to B with reward 0; every action in B ends the episode with a reward drawn
    from N(-0.1, 1)."""

    def __init__(self):
        self.observation_space = spaces.Discrete(3)  # A = 0, B = 1, terminal = 2
        self.action_space = spaces.Discrete(2)
        self.s = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = 0
        return self.s, {}

    def step(self, action):
        if self.s == 0:
            self.s = 1 if action == 1 else 2
            return self.s, 0.0, self.s == 2, False, {}
        self.s = 2
        return self.s, float(self.np_random.normal(-0.1, 1.0)), True, False, {}


def _seed_with_coins(condition, n_draws=9):
    """The first seed whose agent draws satisfy ``condition(draws)``."""
    for seed in range(1000):
        draws = agent_rng(seed).random(n_draws)
        if condition(draws):
            return seed
    raise AssertionError("no seed found")


# --- the update, by hand -----------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["model", "env"])
def test_one_episode_by_hand(backend):
    # Both tables start at 2.0; alpha = 0.5, gamma = 0.9, greedy. Whichever table the coin
    # picks, step 1 (s=0 -> s'=1, r=1) gives it td_target = 1 + 0.9 * 2.0 = 2.8 and
    # Q(0, a) = 2.0 + 0.5 * 0.8 = 2.4; step 2 (terminal, r=10) gives td_target = 10 and
    # Q(1, a') = 2.0 + 0.5 * 8 = 6.0. The other table keeps 2.0, and the result is the
    # average: (2.4 + 2.0) / 2 = 2.2 and (6.0 + 2.0) / 2 = 4.0.
    result = double_q_learning(ChainEnv(), 1, alpha=0.5, gamma=0.9, epsilon=0.0, seed=0,
                               initial_value=2.0, backend=backend)
    assert isinstance(result, TabularResult)
    assert sorted(result.Q[0]) == [2.0, pytest.approx(2.2, abs=1e-12)]
    assert sorted(result.Q[1]) == [2.0, pytest.approx(4.0, abs=1e-12)]
    np.testing.assert_array_equal(result.Q[2], [2.0, 2.0])
    assert result.returns.tolist() == [11.0] and result.lengths.tolist() == [2]


@pytest.mark.parametrize("table", ["Q1", "Q2"])
def test_the_chooser_does_not_evaluate_its_own_choice(table):
    # alpha = 1, gamma = 0.5, greedy, tables start at 0. Choose a seed whose first three
    # coins (agent draws 2, 5 and 8: each step draws explore, pick, then the coin) all
    # pick the same table, Q1 (coin < 0.5) or Q2.
    # Episode 1: that table gets Q(0, a) = 1 + 0.5 * 0 = 1 and Q(1, b) = 10.
    # Episode 2, state 0: the same table chooses a* = b in state 1 (its value is 10 there),
    # but the *other* table evaluates it, and it has never seen B's reward: the target is
    # 1 + 0.5 * 0 = 1, not Q-learning's 1 + 0.5 * 10 = 6. The other table's row 0 stays 0,
    # so the average is Q(0, a) = (1 + 0) / 2 = 0.5.
    def same_table(draws):
        coins = draws[[2, 5, 8]]
        return bool(np.all(coins < 0.5) if table == "Q1" else np.all(coins >= 0.5))

    seed = _seed_with_coins(same_table)
    double = double_q_learning(ChainEnv(), 2, alpha=1.0, gamma=0.5, epsilon=0.0, seed=seed)
    assert sorted(double.Q[0]) == [0.0, 0.5]
    single = q_learning(ChainEnv(), 2, alpha=1.0, gamma=0.5, epsilon=0.0, seed=seed)
    assert sorted(single.Q[0]) == [0.0, 6.0]


def test_truncated_step_bootstraps_terminal_does_not():
    # One state looping to itself with reward 1, a time limit of one step, alpha = 1,
    # tables at 4.0: a terminated step's target is r = 1, a truncated one's is
    # r + gamma * Q_other(s', argmax Q_chooser(s')) = 1 + 0.5 * 4 = 3. Averages with the
    # untouched table: (1 + 4) / 2 = 2.5 and (3 + 4) / 2 = 3.5.
    class Loop(ChainEnv):
        def __init__(self, terminated):
            super().__init__()
            self.P = {0: {a: [(1.0, 0, 1.0, terminated)] for a in range(2)}}
            self.initial_state_distrib = np.array([1.0])
            self.observation_space = spaces.Discrete(1)

        def step(self, action):
            return 0, 1.0, self.P[0][0][0][3], False, {}

    common = dict(n_episodes=1, alpha=1.0, gamma=0.5, epsilon=0.0, seed=0, initial_value=4.0,
                  max_episode_steps=1)
    assert sorted(double_q_learning(Loop(True), **common).Q[0]) == [2.5, 4.0]
    assert sorted(double_q_learning(Loop(False), **common).Q[0]) == [3.5, 4.0]


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "CliffWalking-v1"])
def test_double_q_learning_is_the_textbook_loop(env_id):
    # Sutton & Barto's boxed algorithm, written plainly with env.step, epsilon_greedy on
    # Q1 + Q2 and a coin from agent_rng(seed), learns the same tables.
    env = gym.make(env_id)
    seed, n_episodes, alpha, gamma, epsilon = 5, 150, 0.5, 0.99, 0.2
    rng = agent_rng(seed)
    Q1 = np.zeros((env.observation_space.n, env.action_space.n))
    Q2 = np.zeros_like(Q1)
    returns = []
    for episode in range(n_episodes):
        state, _ = env.reset(seed=seed if episode == 0 else None)
        done, episode_return = False, 0.0
        while not done:
            action = epsilon_greedy(Q1[state] + Q2[state], epsilon, rng)
            next_state, reward, terminated, truncated, _ = env.step(action)
            chooser, evaluator = (Q1, Q2) if rng.random() < 0.5 else (Q2, Q1)
            best_next = int(np.argmax(chooser[next_state]))
            td_target = reward if terminated else reward + gamma * evaluator[next_state,
                                                                             best_next]
            chooser[state, action] += alpha * (td_target - chooser[state, action])
            episode_return += reward
            state, done = next_state, terminated or truncated
        returns.append(episode_return)
    result = double_q_learning(env, n_episodes, alpha, gamma, epsilon, seed)
    np.testing.assert_allclose(result.Q, (Q1 + Q2) / 2, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(result.returns, returns)


# --- determinism, backends, convergence, the bias ------------------------------------------------


def test_same_seed_same_tables():
    env = gym.make("FrozenLake-v1")
    a = double_q_learning(env, 300, 0.1, 0.99, 0.1, seed=42)
    b = double_q_learning(env, 300, 0.1, 0.99, 0.1, seed=42)
    c = double_q_learning(env, 300, 0.1, 0.99, 0.1, seed=43)
    np.testing.assert_array_equal(a.Q, b.Q)
    np.testing.assert_array_equal(a.lengths, b.lengths)
    assert not np.array_equal(a.Q, c.Q)


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "CliffWalking-v1"])
def test_model_and_env_backends_agree(env_id):
    env = gym.make(env_id)
    kwargs = dict(n_episodes=150, alpha=0.5, gamma=0.99, epsilon=0.2, seed=7)
    a = double_q_learning(env, **kwargs, backend="model")
    b = double_q_learning(env, **kwargs, backend="env")
    np.testing.assert_array_equal(a.Q, b.Q)
    np.testing.assert_array_equal(a.returns, b.returns)


def test_converges_to_q_star_on_a_deterministic_lake():
    # Deterministic moves, alpha = 1, uniform exploration: both tables reach Q*.
    env = gym.make("FrozenLake-v1", is_slippery=False)
    _, q_star = value_iteration(env, 0.9)
    result = double_q_learning(env, 3000, alpha=1.0, gamma=0.9, epsilon=1.0, seed=0,
                               q_star=q_star)
    assert result.q_errors.shape == (3000,)
    assert result.q_errors[0] > 0.1 and result.q_errors[-1] < 1e-12
    np.testing.assert_array_equal(result.epsilons, 1.0)


def test_less_maximization_bias_than_q_learning():
    # Example 6.7 with 2 actions in B: every value is -0.1 after "left", so the optimal
    # agent goes left only when exploring, epsilon / 2 = 5 % of episodes. Averaged over 100
    # runs, Q-learning's overestimate of max_a Q(B, a) makes it go left more often.
    env = MaximizationBiasEnv()
    kwargs = dict(n_episodes=100, alpha=0.1, gamma=1.0, epsilon=0.1, backend="env")
    runs = [(q_learning(env, seed=s, **kwargs), double_q_learning(env, seed=s, **kwargs))
            for s in range(100)]
    left_q = np.mean([q.lengths == 2 for q, _ in runs])       # "left" episodes have 2 steps
    left_double = np.mean([d.lengths == 2 for _, d in runs])
    assert left_q > left_double + 0.05, (left_q, left_double)


# --- bad input -----------------------------------------------------------------------------------

GOOD = dict(n_episodes=2, alpha=0.5, gamma=0.9, epsilon=0.1, seed=0)


@pytest.mark.parametrize(
    ("name", "bad", "allowed"),
    [
        ("alpha", 0.0, r"\(0, 1\]"), ("alpha", 1.5, r"\(0, 1\]"), ("alpha", "0.5", r"\(0, 1\]"),
        ("gamma", 0.0, r"\(0, 1\]"), ("gamma", 1.01, r"\(0, 1\]"),
        ("epsilon", -0.1, r"\[0, 1\]"), ("epsilon", 1.1, r"\[0, 1\]"),
        ("n_episodes", 0, ">= 1"), ("n_episodes", 2.5, ">= 1"),
        ("seed", -1, "non-negative"), ("seed", True, "non-negative"),
        ("initial_value", float("inf"), "finite"),
        ("max_episode_steps", 0, ">= 1"),
        ("q_star", np.zeros((3, 3)), "shape"),
        ("backend", "gpu", "'model' or 'env'"),
    ],
)
def test_bad_arguments_raise(name, bad, allowed):
    with pytest.raises(ValueError, match=name) as info:
        double_q_learning(gym.make("FrozenLake-v1"), **{**GOOD, name: bad})
    assert re.search(allowed, str(info.value)), str(info.value)


def test_epsilon_schedule_out_of_range_raises():
    with pytest.raises(ValueError, match=r"epsilon.*\[0, 1\]"):
        double_q_learning(gym.make("FrozenLake-v1"), **{**GOOD, "epsilon": lambda k: 2.0})


def test_non_discrete_env_raises():
    with pytest.raises(ValueError, match="env must have discrete"):
        double_q_learning(gym.make("CartPole-v1"), **GOOD)
