"""Tabular learning (lesson 02): epsilon-greedy, Q-learning and Sarsa."""

import re

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.envs.toy_text.utils import categorical_sample

from helpers.tabular import (
    TabularResult,
    _acting_states,
    _epsilon_greedy_row,
    _ModelSimulator,
    _uniform_draws,
    agent_rng,
    epsilon_greedy,
    finite_horizon_evaluation,
    greedy_policy,
    linear_decay,
    policy_evaluation,
    q_learning,
    sarsa,
    value_iteration,
)

LEARNERS = [q_learning, sarsa]


class ToyTextEnv(gym.Env):
    """A minimal environment in gymnasium's toy-text style: a model ``P`` and a start
    distribution, sampled the way FrozenLake and CliffWalking sample them."""

    def __init__(self, P, n_actions, initial_state_distrib=None):
        self.P = P
        self.observation_space = spaces.Discrete(len(P))
        self.action_space = spaces.Discrete(n_actions)
        if initial_state_distrib is None:
            initial_state_distrib = np.eye(len(P))[0]
        self.initial_state_distrib = np.asarray(initial_state_distrib, dtype=float)
        self.s = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = int(categorical_sample(self.initial_state_distrib, self.np_random))
        return self.s, {}

    def step(self, action):
        transitions = self.P[self.s][action]
        i = categorical_sample([t[0] for t in transitions], self.np_random)
        _, self.s, reward, terminated = transitions[i]
        return self.s, reward, terminated, False, {}


def chain_env():
    """0 --(r=1)--> 1 --(r=10, terminal)--> 2, whatever the action (2 actions)."""
    P = {
        0: {a: [(1.0, 1, 1.0, False)] for a in range(2)},
        1: {a: [(1.0, 2, 10.0, True)] for a in range(2)},
        2: {a: [(1.0, 2, 0.0, True)] for a in range(2)},
    }
    return ToyTextEnv(P, n_actions=2)


def loop_env(terminated):
    """One state that loops to itself with reward 1; the step terminates or not."""
    return ToyTextEnv({0: {a: [(1.0, 0, 1.0, terminated)] for a in range(2)}}, n_actions=2)


@pytest.fixture(scope="module")
def frozen_lake():
    return gym.make("FrozenLake-v1")


@pytest.fixture(scope="module")
def cliff():
    return gym.make("CliffWalking-v1")


# --- the update rule, by hand ---------------------------------------------------------------


@pytest.mark.parametrize("learner", LEARNERS)
@pytest.mark.parametrize("backend", ["model", "env"])
def test_single_updates_by_hand(learner, backend):
    # Q starts at 2.0 everywhere; alpha = 0.5, gamma = 0.9.
    # Step 1: s=0 -> s'=1, r=1, not terminal:
    #   td_target = 1 + 0.9 * 2.0 = 2.8, td_error = 2.8 - 2.0 = 0.8, Q(0, a) = 2.0 + 0.5 * 0.8 = 2.4
    # Step 2: s=1 -> terminal, r=10: td_target = 10 (no bootstrap), td_error = 8, Q(1, a) = 6.0
    result = learner(chain_env(), 1, alpha=0.5, gamma=0.9, epsilon=0.0, seed=0,
                     initial_value=2.0, backend=backend)
    assert isinstance(result, TabularResult)
    for state, updated in ((0, 2.4), (1, 6.0)):
        row = sorted(result.Q[state])
        assert row == [2.0, pytest.approx(updated, abs=1e-12)]  # one action updated, one untouched
    np.testing.assert_array_equal(result.Q[2], [2.0, 2.0])       # terminal: never updated
    assert result.returns.tolist() == [11.0] and result.lengths.tolist() == [2]


def test_second_episode_by_hand():
    # Episode 2 of Q-learning on the chain with alpha = 1, gamma = 0.5, initial value 0:
    # episode 1 gives Q(0, a) = 1 + 0.5 * 0 = 1 and Q(1, b) = 10; in episode 2 the
    # target of state 0 sees max Q(1, .) = 10: Q(0, a) = 1 + 0.5 * 10 = 6.
    result = q_learning(chain_env(), 2, alpha=1.0, gamma=0.5, epsilon=0.0, seed=3)
    assert result.Q[1].max() == 10.0
    assert result.Q[0].max() == 6.0


@pytest.mark.parametrize("learner", LEARNERS)
def test_terminal_does_not_bootstrap_truncation_does(learner):
    # alpha = 1 makes Q(s, a) equal to the td_target; one step, time limit of 1 step.
    common = dict(n_episodes=1, alpha=1.0, gamma=0.5, epsilon=0.0, seed=0,
                  initial_value=4.0, max_episode_steps=1)
    terminated = learner(loop_env(terminated=True), **common)
    truncated = learner(loop_env(terminated=False), **common)
    assert sorted(terminated.Q[0]) == [1.0, 4.0]              # r
    assert sorted(truncated.Q[0]) == [3.0, 4.0]               # r + gamma * 4.0
    assert terminated.lengths.tolist() == truncated.lengths.tolist() == [1]


def test_frozen_lake_time_limit_is_respected(frozen_lake):
    result = q_learning(frozen_lake, 200, 0.1, 0.99, 0.0, seed=0, initial_value=1.0)
    assert result.lengths.max() <= 100 and 100 in result.lengths   # optimistic agents wander
    shorter = q_learning(frozen_lake, 50, 0.1, 0.99, 0.0, seed=0, initial_value=1.0,
                         max_episode_steps=7)
    assert shorter.lengths.max() == 7


# --- epsilon-greedy -------------------------------------------------------------------------


def test_epsilon_greedy_breaks_ties_at_random():
    rng = np.random.default_rng(0)
    counts = np.bincount([epsilon_greedy(np.zeros(4), 0.0, rng) for _ in range(4000)], minlength=4)
    # uniform over the 4 tied actions: 1000 each, standard deviation about 27
    assert np.all(np.abs(counts - 1000) < 150), counts
    counts = np.bincount([epsilon_greedy([1.0, 3.0, 3.0, 0.0], 0.0, rng) for _ in range(2000)],
                         minlength=4)
    assert counts[0] == counts[3] == 0 and abs(counts[1] - 1000) < 150


def test_epsilon_zero_is_greedy_and_one_is_uniform():
    rng = np.random.default_rng(1)
    q_values = np.array([0.5, -1.0, 2.0, 1.9])
    assert {epsilon_greedy(q_values, 0.0, rng) for _ in range(500)} == {2}
    counts = np.bincount([epsilon_greedy(q_values, 1.0, rng) for _ in range(4000)], minlength=4)
    assert np.all(np.abs(counts - 1000) < 150), counts


def test_epsilon_greedy_probabilities():
    # P(greedy) = 1 - eps + eps / |A| = 0.775 for eps = 0.3, |A| = 4
    rng = np.random.default_rng(2)
    picks = np.array([epsilon_greedy([0.0, 1.0, 0.0, 0.0], 0.3, rng) for _ in range(20000)])
    assert abs(np.mean(picks == 1) - 0.775) < 0.015
    assert isinstance(epsilon_greedy([0.0, 1.0], 0.3, rng), int)


def test_fast_row_selection_matches_epsilon_greedy():
    # The learners pick actions from Python lists with pre-drawn numbers; it must be the
    # same function: same generator, same actions.
    q_rows = np.random.default_rng(3).integers(0, 3, size=(3000, 4)).astype(float)  # many ties
    epsilons = np.random.default_rng(4).choice([0.0, 0.2, 1.0], size=3000)
    rng = np.random.default_rng(5)
    expected = [epsilon_greedy(q, e, rng) for q, e in zip(q_rows, epsilons, strict=True)]
    draw = _uniform_draws(np.random.default_rng(5), block_size=7)     # blocks of any size
    fast = [
        _epsilon_greedy_row(q.tolist(), e, draw)
        for q, e in zip(q_rows, epsilons, strict=True)
    ]
    assert fast == expected


# --- the model simulator against env.step -------------------------------------------------


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "CliffWalking-v1"])
def test_model_simulator_reproduces_env_step(env_id):
    env = gym.make(env_id, max_episode_steps=60)
    seed = 11
    simulator = _ModelSimulator(env, seed, max_episode_steps=60)
    actions = np.random.default_rng(0).integers(0, 4, size=3000)
    state, _ = env.reset(seed=seed)
    assert simulator.reset() == state
    n_resets = 0
    for action in actions:
        expected = env.step(int(action))[:4]
        assert simulator.step(int(action)) == tuple(expected)
        if expected[2] or expected[3]:
            n_resets += 1
            state, _ = env.reset()
            assert simulator.reset() == state
    assert n_resets > 5


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "CliffWalking-v1"])
@pytest.mark.parametrize("learner", LEARNERS)
def test_model_and_env_backends_learn_identical_tables(env_id, learner):
    env = gym.make(env_id)
    kwargs = dict(n_episodes=150, alpha=0.5, gamma=0.99, epsilon=0.2, seed=7)
    a = learner(env, **kwargs, backend="model")
    b = learner(env, **kwargs, backend="env")
    np.testing.assert_array_equal(a.Q, b.Q)
    np.testing.assert_array_equal(a.returns, b.returns)
    np.testing.assert_array_equal(a.lengths, b.lengths)


def test_uniform_draws_are_the_generator_stream():
    draw = _uniform_draws(np.random.default_rng(9), block_size=5)
    rng = np.random.default_rng(9)
    assert [draw() for _ in range(23)] == [rng.random() for _ in range(23)]


@pytest.mark.parametrize("env_id", ["FrozenLake-v1", "CliffWalking-v1"])
def test_q_learning_is_the_textbook_loop(env_id):
    # The plain loop with env.step, epsilon_greedy and agent_rng(seed) learns the same table.
    env = gym.make(env_id)
    seed, n_episodes, alpha, gamma, epsilon = 4, 200, 0.5, 0.99, 0.1
    rng = agent_rng(seed)
    Q = np.zeros((env.observation_space.n, env.action_space.n))
    for episode in range(n_episodes):
        state, _ = env.reset(seed=seed if episode == 0 else None)
        done = False
        while not done:
            action = epsilon_greedy(Q[state], epsilon, rng)
            next_state, reward, terminated, truncated, _ = env.step(action)
            td_target = reward if terminated else reward + gamma * Q[next_state].max()
            Q[state, action] += alpha * (td_target - Q[state, action])
            state, done = next_state, terminated or truncated
    np.testing.assert_array_equal(q_learning(env, n_episodes, alpha, gamma, epsilon, seed).Q, Q)


def test_agent_rng_is_independent_of_the_env_stream():
    assert agent_rng(3).random() == agent_rng(3).random()
    assert agent_rng(3).random() != np.random.default_rng(3).random()
    with pytest.raises(ValueError, match="seed"):
        agent_rng(-1)


# --- determinism, schedules, records ----------------------------------------------------------


@pytest.mark.parametrize("learner", LEARNERS)
def test_same_seed_same_table(frozen_lake, learner):
    a = learner(frozen_lake, 300, 0.1, 0.99, 0.1, seed=42)
    b = learner(frozen_lake, 300, 0.1, 0.99, 0.1, seed=42)
    c = learner(frozen_lake, 300, 0.1, 0.99, 0.1, seed=43)
    np.testing.assert_array_equal(a.Q, b.Q)
    np.testing.assert_array_equal(a.returns, b.returns)
    assert not np.array_equal(a.Q, c.Q)


def test_epsilon_schedule_is_recorded(frozen_lake):
    schedule = linear_decay(1.0, 0.1, 10)
    result = q_learning(frozen_lake, 20, 0.1, 0.99, schedule, seed=0)
    np.testing.assert_allclose(result.epsilons[:11], np.linspace(1.0, 0.1, 11))
    np.testing.assert_allclose(result.epsilons[10:], 0.1)
    constant = q_learning(frozen_lake, 5, 0.1, 0.99, 0.3, seed=0)
    np.testing.assert_allclose(constant.epsilons, 0.3)


def test_linear_decay():
    schedule = linear_decay(0.5, 0.0, 4)
    assert [schedule(k) for k in range(6)] == [0.5, 0.375, 0.25, 0.125, 0.0, 0.0]


def test_acting_states(frozen_lake, cliff):
    # FrozenLake: holes 5, 7, 11, 12 and the goal 15 are terminal.
    assert np.flatnonzero(~_acting_states(frozen_lake, 16)).tolist() == [5, 7, 11, 12, 15]
    # CliffWalking: the cliff cells 37..46 are never entered, the goal 47 is terminal.
    assert np.flatnonzero(~_acting_states(cliff, 48)).tolist() == list(range(37, 48))


def test_q_learning_finds_q_star_on_a_deterministic_lake():
    # With deterministic moves and alpha = 1, each update is an exact Bellman backup
    # of one entry, so Q-learning with uniform exploration reaches Q* exactly.
    env = gym.make("FrozenLake-v1", is_slippery=False)
    _, q_star = value_iteration(env, 0.9)
    result = q_learning(env, 3000, alpha=1.0, gamma=0.9, epsilon=1.0, seed=0, q_star=q_star)
    assert result.q_errors.shape == (3000,)
    assert result.q_errors[0] > 0.1
    assert result.q_errors[-1] < 1e-12
    acting = _acting_states(env, 16)
    np.testing.assert_allclose(result.Q[acting], q_star[acting], atol=1e-12)


def test_q_learning_slippery_lake_greedy_policy_is_optimal(frozen_lake):
    _, q_star = value_iteration(frozen_lake, 0.99)
    result = q_learning(frozen_lake, 20000, 0.03, 0.99, linear_decay(1.0, 0.1, 10000), seed=0,
                        q_star=q_star)
    assert result.q_errors[-1] < 0.5 * result.q_errors[:100].min()
    success = finite_horizon_evaluation(frozen_lake, greedy_policy(result.Q), 100)[0]
    optimum = finite_horizon_evaluation(frozen_lake, greedy_policy(q_star), 100)[0]
    assert abs(success - optimum) < 0.02


def test_cliff_walking_shapes(cliff):
    # Sutton & Barto, Example 6.6: Q-learning's greedy path is the optimal one (-13),
    # while Sarsa's online returns are better.
    q = q_learning(cliff, 500, 0.5, 1.0, 0.1, seed=0)
    s = sarsa(cliff, 500, 0.5, 1.0, 0.1, seed=0)
    P, state, greedy_return = cliff.unwrapped.P, 36, 0.0
    for _ in range(100):                        # follow the greedy path (moves are deterministic)
        _, state, reward, terminated = P[state][int(q.Q[state].argmax())][0]
        greedy_return += reward
        if terminated:
            break
    assert terminated and greedy_return == -13.0
    assert s.returns[100:].mean() > q.returns[100:].mean()


def test_finite_horizon_evaluation(frozen_lake):
    _, q_star = value_iteration(frozen_lake, 0.99)
    policy = greedy_policy(q_star)
    assert finite_horizon_evaluation(frozen_lake, policy, 100)[0] == pytest.approx(0.7402, abs=5e-5)
    # long horizons approach the undiscounted value without a time limit
    np.testing.assert_allclose(finite_horizon_evaluation(frozen_lake, policy, 5000),
                               policy_evaluation(frozen_lake, policy, 1.0), atol=1e-8)
    with pytest.raises(ValueError, match="horizon"):
        finite_horizon_evaluation(frozen_lake, policy, 0)
    with pytest.raises(ValueError, match="policy"):
        finite_horizon_evaluation(frozen_lake, policy[:3], 10)


# --- bad input ----------------------------------------------------------------------------


GOOD = dict(n_episodes=2, alpha=0.5, gamma=0.9, epsilon=0.1, seed=0)


@pytest.mark.parametrize("learner", LEARNERS)
@pytest.mark.parametrize(
    ("name", "bad", "allowed"),
    [
        ("alpha", 0.0, r"\(0, 1\]"), ("alpha", -0.1, r"\(0, 1\]"), ("alpha", 1.5, r"\(0, 1\]"),
        ("alpha", "0.5", r"\(0, 1\]"), ("alpha", True, r"\(0, 1\]"),
        ("gamma", 0.0, r"\(0, 1\]"), ("gamma", 1.01, r"\(0, 1\]"),
        ("epsilon", -0.1, r"\[0, 1\]"), ("epsilon", 1.1, r"\[0, 1\]"),
        ("epsilon", None, r"\[0, 1\]"),
        ("n_episodes", 0, ">= 1"), ("n_episodes", 2.5, ">= 1"), ("n_episodes", -3, ">= 1"),
        ("seed", -1, "non-negative"), ("seed", 1.0, "non-negative"),
        ("initial_value", float("nan"), "finite"),
        ("max_episode_steps", 0, ">= 1"),
        ("q_star", np.zeros((3, 3)), "shape"),
        ("backend", "gpu", "'model' or 'env'"),
    ],
)
def test_bad_arguments_raise(frozen_lake, learner, name, bad, allowed):
    kwargs = {**GOOD, name: bad}
    with pytest.raises(ValueError, match=name) as info:
        learner(frozen_lake, **kwargs)
    assert re.search(allowed, str(info.value)), str(info.value)  # names the allowed range


@pytest.mark.parametrize("learner", LEARNERS)
def test_epsilon_schedule_out_of_range_raises(frozen_lake, learner):
    with pytest.raises(ValueError, match=r"epsilon.*\[0, 1\]"):
        learner(frozen_lake, **{**GOOD, "epsilon": lambda episode: 1.0 + episode})


@pytest.mark.parametrize("learner", LEARNERS)
def test_non_discrete_env_raises(learner):
    with pytest.raises(ValueError, match="env must have discrete"):
        learner(gym.make("CartPole-v1"), **GOOD)


def test_model_backend_needs_a_model():
    env = chain_env()
    del env.P
    with pytest.raises(ValueError, match="backend='env'"):
        q_learning(env, **GOOD)


@pytest.mark.parametrize(
    ("q_values", "epsilon", "rng", "match"),
    [
        ([1.0, 2.0], -0.5, np.random.default_rng(0), "epsilon"),
        ([1.0, 2.0], 2, np.random.default_rng(0), "epsilon"),
        ([], 0.1, np.random.default_rng(0), "q_values"),
        ([[1.0, 2.0]], 0.1, np.random.default_rng(0), "q_values"),
        ([1.0, float("nan")], 0.1, np.random.default_rng(0), "q_values"),
        ([1.0, 2.0], 0.1, 42, "rng"),
    ],
)
def test_epsilon_greedy_bad_input(q_values, epsilon, rng, match):
    with pytest.raises(ValueError, match=match):
        epsilon_greedy(q_values, epsilon, rng)


def test_linear_decay_bad_input():
    with pytest.raises(ValueError, match="n_episodes"):
        linear_decay(1.0, 0.1, 0)
    with pytest.raises(ValueError, match="start must be a finite number"):
        linear_decay("1", 0.1, 10)
