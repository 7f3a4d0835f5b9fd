"""The lesson-01 checks accept a correct answer in any equivalent form and catch the
typical wrong ones, each with a hint that names the mistake."""

import re

import numpy as np
import pytest
import torch

from helpers.checks import (
    ExerciseError,
    check_bellman_backup,
    check_q_from_v,
    check_value_iteration,
)


def q_from_v(P, V, gamma):
    n_states, n_actions = len(P), len(P[0])
    Q = np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            for prob, s_next, reward, terminated in P[s][a]:
                Q[s, a] += prob * (reward + gamma * V[s_next] * (not terminated))
    return Q


def bellman_backup(P, V, state, gamma):
    return q_from_v(P, V, gamma)[state].max()


# --- right answers in other forms ------------------------------------------------------------

def backup_float32(P, V, state, gamma):
    """Computed in float32 throughout: about 7 significant digits."""
    V32 = np.asarray(V, dtype=np.float32)
    values = [np.float32(0.0)] * len(P[state])
    for a, outcomes in P[state].items():
        for prob, s_next, reward, terminated in outcomes:
            bootstrap = np.float32(0.0) if terminated else np.float32(gamma) * V32[s_next]
            values[a] += np.float32(prob) * (np.float32(reward) + bootstrap)
    return max(values)


def backup_python_float(P, V, state, gamma):
    return float(max(sum(p * (r + gamma * (0.0 if d else V[s2])) for p, s2, r, d in outcomes)
                     for outcomes in P[state].values()))


def backup_0d_array(P, V, state, gamma):
    return np.array(bellman_backup(P, V, state, gamma))


def backup_torch_scalar(P, V, state, gamma):
    return torch.tensor(bellman_backup(P, V, state, gamma))


def q_float32(P, V, gamma):
    return q_from_v(P, V, gamma).astype(np.float32)


def q_lists(P, V, gamma):
    return [[sum(p * (r + gamma * (0.0 if d else V[s2])) for p, s2, r, d in P[s][a])
             for a in range(len(P[s]))] for s in range(len(P))]


def q_vectorised(P, V, gamma):
    """Through the (S, A, S) model arrays, as helpers.tabular builds them."""
    n_states, n_actions = len(P), len(P[0])
    T = np.zeros((n_states, n_actions, n_states))
    R = np.zeros((n_states, n_actions))
    D = np.zeros((n_states, n_actions, n_states))
    for s in range(n_states):
        for a in range(n_actions):
            for prob, s_next, reward, terminated in P[s][a]:
                T[s, a, s_next] += prob
                R[s, a] += prob * reward
                D[s, a, s_next] += prob * terminated
    return R + gamma * (T - D) @ np.asarray(V)


# --- typical mistakes -----------------------------------------------------------------------

def q_no_terminal_mask(P, V, gamma):
    n_states, n_actions = len(P), len(P[0])
    Q = np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            for prob, s_next, reward, _ in P[s][a]:
                Q[s, a] += prob * (reward + gamma * V[s_next])
    return Q


def backup_no_terminal_mask(P, V, state, gamma):
    return q_no_terminal_mask(P, V, gamma)[state].max()


def backup_mean_over_actions(P, V, state, gamma):
    return q_from_v(P, V, gamma)[state].mean()


def backup_no_gamma(P, V, state, gamma):
    return q_from_v(P, V, 1.0)[state].max()


def backup_returns_row(P, V, state, gamma):
    return q_from_v(P, V, gamma)[state]


def backup_in_place(P, V, state, gamma):
    V[state] = q_from_v(P, V, gamma)[state].max()
    return V[state]


def backup_four_actions(P, V, state, gamma):
    """Hard-codes FrozenLake's 4 actions."""
    return max(sum(p * (r + gamma * (0.0 if d else V[s2])) for p, s2, r, d in P[state][a])
               for a in range(4))


def backup_lesson_gamma(P, V, state, gamma):
    """Uses the lesson's gamma = 0.99 instead of the argument."""
    return q_from_v(P, V, 0.99)[state].max()


def backup_first_outcome_only(P, V, state, gamma):
    """Treats the slippery lake as deterministic: only the first outcome of each action."""
    values = []
    for outcomes in P[state].values():
        _, s_next, reward, terminated = outcomes[0]
        values.append(reward + gamma * (0.0 if terminated else V[s_next]))
    return max(values)


def backup_returns_action(P, V, state, gamma):
    return int(q_from_v(P, V, gamma)[state].argmax())


def q_transposed(P, V, gamma):
    return q_from_v(P, V, gamma).T


def q_frozenlake_shape(P, V, gamma):
    """Hard-codes the lesson's (16, 4) table."""
    Q = np.zeros((16, 4))
    for s in range(min(16, len(P))):
        for a in range(min(4, len(P[s]))):
            for prob, s_next, reward, terminated in P[s][a]:
                Q[s, a] += prob * (reward + gamma * V[s_next] * (not terminated))
    return Q


def q_in_place(P, V, gamma):
    Q = q_from_v(P, V, gamma)
    V[:] = Q.max(axis=1)
    return Q


def q_first_outcome_only(P, V, gamma):
    return np.array([[backup_first_outcome_only({0: {a: P[s][a]}}, V, 0, gamma)
                      for a in range(len(P[s]))] for s in range(len(P))])


def stub(*args):
    raise NotImplementedError


# --- tests ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [bellman_backup, backup_float32, backup_python_float,
                                backup_0d_array, backup_torch_scalar])
def test_correct_bellman_backup_passes_in_any_form(fn, capsys):
    check_bellman_backup(fn)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize("fn", [q_from_v, q_float32, q_lists, q_vectorised])
def test_correct_q_from_v_passes_in_any_form(fn, capsys):
    check_q_from_v(fn)
    assert "Correct" in capsys.readouterr().out


def test_float32_answer_is_not_blamed_on_the_terminal_mask():
    """The defect of the first version: a float32 answer got a misleading hint."""
    check_bellman_backup(backup_float32)  # no ExerciseError


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (stub, "NotImplementedError"),
        (backup_no_terminal_mask, "terminated=True"),
        (backup_mean_over_actions, "not the average"),
        (backup_no_gamma, "discounted by gamma"),
        (backup_returns_row, "single number"),
        (backup_in_place, "changed V in place"),
        (backup_four_actions, "KeyError"),
        (backup_lesson_gamma, "use the gamma passed"),
        (backup_first_outcome_only, "sum over every outcome"),
        (backup_returns_action, "sum over every outcome"),
    ],
)
def test_wrong_bellman_backup_raises_with_hint(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check_bellman_backup(wrong)


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (stub, "NotImplementedError"),
        (q_no_terminal_mask, "terminated=True"),
        (q_transposed, "shape"),
        (lambda P, V, gamma: q_from_v(P, V, 1.0), "discounted by gamma"),
        (q_frozenlake_shape, r"shape \(n_states, n_actions\) = \(2, 2\)"),
        (q_in_place, "changed V in place"),
        (q_first_outcome_only, "sum over every outcome"),
    ],
)
def test_wrong_q_from_v_raises_with_hint(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check_q_from_v(wrong)


def test_hint_names_the_failing_case_not_the_answer():
    with pytest.raises(ExerciseError) as info:
        check_bellman_backup(backup_no_terminal_mask)
    message = str(info.value)
    assert "state" in message and "FrozenLake" in message
    assert re.search(r"\d\.\d{3,}", message) is None, "no computed values in the hint"


# --- value iteration from the learner's two functions ---------------------------------------

def value_iteration_from(backup, q_fn):
    def run(P, gamma, n_sweeps):
        V = np.zeros(len(P))
        for _ in range(n_sweeps):
            V = np.array([backup(P, V, s, gamma) for s in range(len(P))])
        return V, q_fn(P, V, gamma)

    return run


def vi_float32_lists(P, gamma, n_sweeps):
    V, Q = value_iteration_from(bellman_backup, q_lists)(P, gamma, n_sweeps)
    return V.astype(np.float32).tolist(), Q


def vi_in_place(P, gamma, n_sweeps):
    V = np.zeros(len(P))
    for _ in range(n_sweeps):
        for s in range(len(P)):
            V[s] = bellman_backup(P, V, s, gamma)
    return V, q_from_v(P, V, gamma)


def vi_fixed_sweeps(P, gamma, n_sweeps):
    return value_iteration_from(bellman_backup, q_from_v)(P, gamma, 100)


def vi_returns_v_only(P, gamma, n_sweeps):
    return value_iteration_from(bellman_backup, q_from_v)(P, gamma, n_sweeps)[0]


def vi_swapped(P, gamma, n_sweeps):
    V, Q = value_iteration_from(bellman_backup, q_from_v)(P, gamma, n_sweeps)
    return Q, V


def vi_q_from_previous_v(P, gamma, n_sweeps):
    V = np.zeros(len(P))
    for _ in range(n_sweeps):
        Q = q_from_v(P, V, gamma)
        V = Q.max(axis=1)
    return V, Q


def vi_sixteen_states(P, gamma, n_sweeps):
    V = np.zeros(16)
    for _ in range(n_sweeps):
        V = np.array([bellman_backup(P, V, s, gamma) for s in range(len(P))] + [0.0] * 16)[:16]
    return V, q_from_v(P, V, gamma)


@pytest.mark.parametrize("fn", [value_iteration_from(bellman_backup, q_from_v),
                                value_iteration_from(backup_float32, q_float32),
                                vi_float32_lists])
def test_correct_value_iteration_passes(fn, capsys):
    check_value_iteration(fn)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (value_iteration_from(stub, q_from_v), r"`stub` \(called by `run`\)"),
        (value_iteration_from(backup_no_terminal_mask, q_no_terminal_mask), "terminated=True"),
        (vi_in_place, "synchronously"),
        (vi_fixed_sweeps, "n_sweeps times"),
        (vi_returns_v_only, r"the pair \(V, Q\)"),
        (vi_swapped, "V first"),
        (vi_q_from_previous_v, "from the final V"),
        (vi_sixteen_states, "not from the lesson's FrozenLake"),
    ],
)
def test_wrong_value_iteration_raises_with_hint(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check_value_iteration(wrong)
