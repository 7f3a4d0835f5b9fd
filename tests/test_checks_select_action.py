"""The lesson-06 check accepts a correct epsilon-greedy `select_action` and catches the
typical wrong ones."""

import random

import numpy as np
import pytest
import torch

from helpers.checks import ExerciseError, check_select_action
from helpers.dqn import DQN


def select_action(policy_net, state, epsilon, rng):
    if rng.random() < epsilon:
        with torch.no_grad():
            n_actions = policy_net(state).shape[-1]
        return int(rng.integers(n_actions))
    with torch.no_grad():
        return int(policy_net(state).argmax())


def select_action_other_draw_order(policy_net, state, epsilon, rng):
    """Also correct: a different but valid use of the generator."""
    with torch.no_grad():
        q_values = policy_net(state)  # (n_actions,)
    random_action = int(rng.choice(q_values.shape[-1]))
    return random_action if rng.uniform() < epsilon else int(q_values.argmax().item())


def select_action_numpy_int(policy_net, state, epsilon, rng):
    """Also correct: a NumPy integer is an integer."""
    with torch.no_grad():
        q_values = policy_net(state).numpy()
    if rng.random() < epsilon:
        return rng.integers(len(q_values))
    return np.argmax(q_values)


def stub(policy_net, state, epsilon, rng):
    raise NotImplementedError


def returns_tensor(policy_net, state, epsilon, rng):
    """The seed guide's habit: a (1, 1) tensor."""
    if rng.random() < epsilon:
        return torch.tensor([[int(rng.integers(2))]])
    with torch.no_grad():
        return policy_net(state).argmax().view(1, 1)


def always_greedy(policy_net, state, epsilon, rng):
    with torch.no_grad():
        return int(policy_net(state).argmax())


def inverted_coin(policy_net, state, epsilon, rng):
    return select_action(policy_net, state, 1.0 - epsilon, rng)


def argmin(policy_net, state, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(policy_net(state).shape[-1]))
    with torch.no_grad():
        return int(policy_net(state).argmin())


def only_non_greedy_when_exploring(policy_net, state, epsilon, rng):
    with torch.no_grad():
        q_values = policy_net(state)
    greedy = int(q_values.argmax())
    if rng.random() < epsilon:
        others = [a for a in range(q_values.shape[-1]) if a != greedy]
        return int(rng.choice(others))
    return greedy


def two_actions_hard_coded(policy_net, state, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(2))
    with torch.no_grad():
        return int(policy_net(state).argmax())


def global_random(policy_net, state, epsilon, rng):
    if random.random() < epsilon:
        with torch.no_grad():
            return random.randrange(policy_net(state).shape[-1])
    with torch.no_grad():
        return int(policy_net(state).argmax())


def tracks_gradients(policy_net, state, epsilon, rng):
    q_values = policy_net(state)
    if rng.random() < epsilon:
        return int(rng.integers(q_values.shape[-1]))
    return int(q_values.argmax())


def modifies_state(policy_net, state, epsilon, rng):
    state.mul_(1.0)
    state.add_(0.1)
    return select_action(policy_net, state, epsilon, rng)


@pytest.mark.parametrize(
    "fn", [select_action, select_action_other_draw_order, select_action_numpy_int]
)
def test_correct_implementations_pass(fn, capsys):
    check_select_action(fn)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (stub, "NotImplementedError"),
        (returns_tensor, "plain Python integer"),
        (always_greedy, "epsilon = 1"),
        (inverted_coin, "epsilon = 0"),
        (argmin, "largest Q-value"),
        (only_non_greedy_when_exploring, "epsilon = 1"),
        (two_actions_hard_coded, "all* the network's actions"),
        (global_random, "same seed"),
        (tracks_gradients, "torch.no_grad"),
        (modifies_state, "changed the state"),
    ],
)
def test_typical_mistakes_are_caught(fn, hint):
    with pytest.raises(ExerciseError, match=None) as info:
        check_select_action(fn)
    assert hint in str(info.value)


def test_works_with_the_series_network(capsys):
    """The check's networks stand in for the lesson's DQN; the solution works on both."""
    torch.manual_seed(0)
    net = DQN(4, 2)
    rng = np.random.default_rng(0)
    actions = [select_action(net, torch.zeros(4), 0.0, rng) for _ in range(5)]
    assert len(set(actions)) == 1 and actions[0] in (0, 1)
