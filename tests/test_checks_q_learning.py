"""The lesson-02 checks accept a correct answer and catch the typical wrong ones."""

import numpy as np
import pytest

from helpers.checks import ExerciseError, check_epsilon_greedy, check_q_learning_update
from helpers.tabular import epsilon_greedy

# --- the Q-learning update --------------------------------------------------------------------


def q_update(Q, state, action, reward, next_state, terminated, alpha, gamma):
    td_target = reward if terminated else reward + gamma * Q[next_state].max()
    td_error = td_target - Q[state, action]
    Q[state, action] += alpha * td_error
    return td_error


def q_update_no_terminal_mask(Q, state, action, reward, next_state, terminated, alpha, gamma):
    td_error = reward + gamma * Q[next_state].max() - Q[state, action]
    Q[state, action] += alpha * td_error
    return td_error


def q_update_sarsa_like(Q, state, action, reward, next_state, terminated, alpha, gamma):
    td_target = reward if terminated else reward + gamma * Q[next_state, action]
    td_error = td_target - Q[state, action]
    Q[state, action] += alpha * td_error
    return td_error


def q_update_no_alpha(Q, state, action, reward, next_state, terminated, alpha, gamma):
    td_target = reward if terminated else reward + gamma * Q[next_state].max()
    td_error = td_target - Q[state, action]
    Q[state, action] = td_target
    return td_error


def q_update_wrong_sign(Q, state, action, reward, next_state, terminated, alpha, gamma):
    td_target = reward if terminated else reward + gamma * Q[next_state].max()
    td_error = Q[state, action] - td_target
    Q[state, action] += alpha * td_error
    return td_error


def q_update_no_gamma(Q, state, action, reward, next_state, terminated, alpha, gamma):
    return q_update(Q, state, action, reward, next_state, terminated, alpha, 1.0)


def q_update_copy(Q, state, action, reward, next_state, terminated, alpha, gamma):
    Q = Q.copy()
    return q_update(Q, state, action, reward, next_state, terminated, alpha, gamma)


def q_update_no_return(Q, state, action, reward, next_state, terminated, alpha, gamma):
    q_update(Q, state, action, reward, next_state, terminated, alpha, gamma)


def q_update_returns_target(Q, state, action, reward, next_state, terminated, alpha, gamma):
    td_error = q_update(Q, state, action, reward, next_state, terminated, alpha, gamma)
    return td_error + Q[state, action]


def q_update_stub(Q, state, action, reward, next_state, terminated, alpha, gamma):
    raise NotImplementedError


def test_q_learning_update_accepts_correct(capsys):
    check_q_learning_update(q_update)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (q_update_no_terminal_mask, "terminal"),
        (q_update_sarsa_like, "best"),
        (q_update_no_alpha, "alpha"),
        (q_update_wrong_sign, "sign"),
        (q_update_no_gamma, "gamma"),
        (q_update_copy, "in place"),
        (q_update_no_return, "return the TD error"),
        (q_update_returns_target, "not the TD error"),
        (q_update_stub, "NotImplementedError"),
    ],
)
def test_q_learning_update_catches_mistakes(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check_q_learning_update(wrong)


# --- epsilon-greedy ---------------------------------------------------------------------------


def eps_greedy_textbook(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(rng.choice(np.flatnonzero(q_values == np.max(q_values))))


def eps_greedy_argmax_ties(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(np.argmax(q_values))


def eps_greedy_explore_excludes_greedy(q_values, epsilon, rng):
    best = int(rng.choice(np.flatnonzero(q_values == np.max(q_values))))
    if rng.random() < epsilon:
        return int(rng.choice([a for a in range(len(q_values)) if a != best]))
    return best


def eps_greedy_inverted(q_values, epsilon, rng):
    return eps_greedy_textbook(q_values, 1.0 - epsilon, rng)


def eps_greedy_global_random(q_values, epsilon, rng):
    return eps_greedy_textbook(q_values, epsilon, np.random.default_rng())


def eps_greedy_returns_array(q_values, epsilon, rng):
    return np.array([eps_greedy_textbook(q_values, epsilon, rng)])


def eps_greedy_argmin(q_values, epsilon, rng):
    return eps_greedy_textbook(-np.asarray(q_values), epsilon, rng)


@pytest.mark.parametrize("correct", [eps_greedy_textbook, epsilon_greedy])
def test_epsilon_greedy_accepts_correct(correct, capsys):
    check_epsilon_greedy(correct)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (eps_greedy_argmax_ties, "tie"),
        (eps_greedy_explore_excludes_greedy, "greedy one included"),
        (eps_greedy_inverted, "epsilon = 0"),
        (eps_greedy_global_random, "same seed"),
        (eps_greedy_returns_array, "integer"),
        (eps_greedy_argmin, "greedy action"),
    ],
)
def test_epsilon_greedy_catches_mistakes(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check_epsilon_greedy(wrong)
