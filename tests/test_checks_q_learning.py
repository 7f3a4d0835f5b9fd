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


# --- more right answers in other forms, and more mistakes --------------------------------------


def q_update_float32(Q, state, action, reward, next_state, terminated, alpha, gamma):
    """Arithmetic in float32, the TD error returned as a NumPy float32."""
    q = Q.astype(np.float32)
    td_target = np.float32(reward) + (np.float32(0.0) if terminated
                                      else np.float32(gamma) * q[next_state].max())
    td_error = td_target - q[state, action]
    Q[state, action] += np.float32(alpha) * td_error
    return td_error


def q_update_0d_array(Q, state, action, reward, next_state, terminated, alpha, gamma):
    return np.array(q_update(Q, state, action, reward, next_state, terminated, alpha, gamma))


def q_update_chained_index(Q, state, action, reward, next_state, terminated, alpha, gamma):
    """Q[s][a] instead of Q[s, a], np.max instead of .max(), a python float returned."""
    best_next = 0.0 if terminated else np.max(Q[next_state])
    td_error = reward + gamma * best_next - Q[state][action]
    Q[state][action] = Q[state][action] + alpha * td_error
    return float(td_error)


def q_update_lesson_alpha(Q, state, action, reward, next_state, terminated, alpha, gamma):
    """Uses the lesson's alpha = 0.1 instead of the argument."""
    return q_update(Q, state, action, reward, next_state, terminated, 0.1, gamma)


def q_update_error_after(Q, state, action, reward, next_state, terminated, alpha, gamma):
    """Returns the TD error measured after the update."""
    q_update(Q, state, action, reward, next_state, terminated, alpha, gamma)
    td_target = reward if terminated else reward + gamma * Q[next_state].max()
    return td_target - Q[state, action]


def q_update_whole_row(Q, state, action, reward, next_state, terminated, alpha, gamma):
    td_target = reward if terminated else reward + gamma * Q[next_state].max()
    td_error = td_target - Q[state, action]
    Q[state] += alpha * td_error
    return td_error


@pytest.mark.parametrize("correct", [q_update_float32, q_update_0d_array,
                                     q_update_chained_index])
def test_q_learning_update_accepts_other_forms(correct, capsys):
    check_q_learning_update(correct)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (q_update_lesson_alpha, "alpha"),
        (q_update_error_after, "before"),
        (q_update_whole_row, "other than Q\\[state, action\\]"),
    ],
)
def test_q_learning_update_catches_more_mistakes(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check_q_learning_update(wrong)


def test_q_learning_update_replays_the_worked_examples(capsys):
    check_q_learning_update(q_update)
    assert "worked examples" in capsys.readouterr().out


def eps_greedy_other_order(q_values, epsilon, rng):
    """Also correct: the random action is drawn first, the coin second; a NumPy int back."""
    random_action = rng.integers(len(q_values))
    if rng.uniform() < epsilon:
        return random_action
    return rng.choice(np.flatnonzero(q_values == np.max(q_values)))


def eps_greedy_permutation(q_values, epsilon, rng):
    """Also correct: a random permutation breaks the ties."""
    order = rng.permutation(len(q_values))
    best = int(order[np.argmax(np.asarray(q_values)[order])])
    return int(rng.integers(len(q_values))) if rng.random() < epsilon else best


def eps_greedy_global_n_actions(q_values, epsilon, rng):
    """Explores with the lesson's n_actions = 4, whatever the row."""
    if rng.random() < epsilon:
        return int(rng.integers(4))
    return int(rng.choice(np.flatnonzero(q_values == np.max(q_values))))


def eps_greedy_noise_ties(q_values, epsilon, rng):
    """Breaks ties by adding small noise: picks worse actions on near-ties."""
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(np.argmax(q_values + rng.uniform(0, 1e-3, len(q_values))))


def eps_greedy_tiny_noise(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(np.argmax(q_values + rng.uniform(0, 1e-8, len(q_values))))


def eps_greedy_tolerance_ties(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(rng.choice(np.flatnonzero(np.isclose(q_values, np.max(q_values)))))


def eps_greedy_new_generator(q_values, epsilon, rng):
    """Makes a fresh, fixed-seed generator in every call instead of using rng."""
    return eps_greedy_textbook(q_values, epsilon, np.random.default_rng(0))


def eps_greedy_never_last(q_values, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values) - 1))
    return int(rng.choice(np.flatnonzero(q_values == np.max(q_values))))


def eps_greedy_in_place_noise(q_values, epsilon, rng):
    q_values += rng.uniform(0, 1e-12, len(q_values))
    return eps_greedy_textbook(q_values, epsilon, rng)


def eps_greedy_stub(q_values, epsilon, rng):
    raise NotImplementedError


@pytest.mark.parametrize("correct", [eps_greedy_other_order, eps_greedy_permutation])
def test_epsilon_greedy_accepts_other_draw_orders(correct, capsys):
    check_epsilon_greedy(correct)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (eps_greedy_global_n_actions, "not a fixed number"),
        (eps_greedy_noise_ties, "only exactly equal values tie"),
        (eps_greedy_tiny_noise, "only exactly equal values tie"),
        (eps_greedy_tolerance_ties, "only exactly equal values tie"),
        (eps_greedy_new_generator, "do not make a new generator"),
        (eps_greedy_never_last, "equally likely"),
        (eps_greedy_in_place_noise, "changed q_values"),
        (eps_greedy_stub, "NotImplementedError"),
    ],
)
def test_epsilon_greedy_catches_more_mistakes(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check_epsilon_greedy(wrong)


def test_issue_example_noise_tie_breaking_picks_the_worse_action():
    """The defect of the first version: Q = [0.5, 0.5004], epsilon = 0."""
    rng = np.random.default_rng(0)
    picks = [eps_greedy_noise_ties(np.array([0.5, 0.5004]), 0.0, rng) for _ in range(2000)]
    assert 0.1 < picks.count(0) / 2000 < 0.3  # about 18 % of the time the worse action
