"""The lesson-01 checks accept a correct answer and catch the typical wrong ones."""

import re

import numpy as np
import pytest

from helpers.checks import ExerciseError, check_bellman_backup, check_q_from_v


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


def q_transposed(P, V, gamma):
    return q_from_v(P, V, gamma).T


def stub(*args):
    raise NotImplementedError


# --- tests ----------------------------------------------------------------------------------

def test_correct_bellman_backup_passes(capsys):
    check_bellman_backup(bellman_backup)
    assert "Correct" in capsys.readouterr().out


def test_correct_q_from_v_passes(capsys):
    check_q_from_v(q_from_v)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (stub, "NotImplementedError"),
        (backup_no_terminal_mask, "terminated=True"),
        (backup_mean_over_actions, "not the average"),
        (backup_no_gamma, "discounted by gamma"),
        (backup_returns_row, "single number"),
        (backup_in_place, "changed V in place"),
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
