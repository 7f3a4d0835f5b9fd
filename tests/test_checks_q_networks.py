"""The lesson-03 checks accept a correct answer and catch the typical wrong ones."""

import numpy as np
import pytest
import torch

from helpers.checks import ExerciseError, check_gather_q, check_td_targets
from helpers.dqn import td_target

# --- TD targets for a batch -------------------------------------------------------------------


def targets(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.max(dim=1).values


def targets_with_where(rewards, next_q_values, terminated, gamma):
    bootstrap = gamma * next_q_values.max(dim=1).values
    return torch.where(terminated.bool(), rewards, rewards + bootstrap)


def targets_no_mask(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * next_q_values.max(dim=1).values


def targets_inverted_mask(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * terminated * next_q_values.max(dim=1).values


def targets_masking_reward(rewards, next_q_values, terminated, gamma):
    return (1.0 - terminated) * (rewards + gamma * next_q_values.max(dim=1).values)


def targets_mean(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.mean(dim=1)


def targets_global_max(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.max()


def targets_keepdim(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.max(dim=1, keepdim=True).values


def targets_no_gamma(rewards, next_q_values, terminated, gamma):
    return rewards + (1.0 - terminated) * next_q_values.max(dim=1).values


def targets_in_place(rewards, next_q_values, terminated, gamma):
    rewards += gamma * (1.0 - terminated) * next_q_values.max(dim=1).values
    return rewards


def targets_numpy(rewards, next_q_values, terminated, gamma):
    return targets(rewards, next_q_values, terminated, gamma).numpy()


def targets_stub(rewards, next_q_values, terminated, gamma):
    raise NotImplementedError


@pytest.mark.parametrize("correct", [targets, targets_with_where, td_target])
def test_td_targets_accepts_correct(correct, capsys):
    check_td_targets(correct)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (targets_no_mask, "(1 - terminated)"),
        (targets_inverted_mask, "wrong way round"),
        (targets_masking_reward, "still earns its reward"),
        (targets_mean, "not the average"),
        (targets_global_max, "not over the whole batch"),
        (targets_keepdim, "(B, B)"),
        (targets_no_gamma, "gamma"),
        (targets_in_place, "in place"),
        (targets_numpy, "torch tensor"),
        (targets_stub, "NotImplementedError"),
    ],
)
def test_td_targets_catches_mistakes(wrong, hint):
    with pytest.raises(ExerciseError) as info:
        check_td_targets(wrong)
    assert hint in str(info.value)


# --- gather Q(s, a) ---------------------------------------------------------------------------


def gather(q_values, actions):
    return q_values.gather(1, actions.unsqueeze(1)).squeeze(1)


def gather_by_indexing(q_values, actions):
    return q_values[torch.arange(len(actions)), actions]


def gather_keeps_column(q_values, actions):
    return q_values.gather(1, actions.unsqueeze(1))


def gather_columns(q_values, actions):
    return q_values[:, actions]


def gather_wrong_axis(q_values, actions):
    return q_values.gather(0, actions.unsqueeze(0)).squeeze(0)


def gather_detached(q_values, actions):
    return gather(q_values, actions).detach()


def gather_numpy(q_values, actions):
    return np.array([q_values[i, a].item() for i, a in enumerate(actions)])


def gather_max(q_values, actions):
    return q_values.max(dim=1).values


def gather_in_place(q_values, actions):
    result = gather(q_values, actions)
    actions.zero_()
    return result


@pytest.mark.parametrize("correct", [gather, gather_by_indexing])
def test_gather_q_accepts_correct(correct, capsys):
    check_gather_q(correct)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (gather_keeps_column, "squeeze(1)"),
        (gather_columns, "whole columns"),
        (gather_wrong_axis, "dim 0"),
        (gather_detached, "no gradient"),
        (gather_numpy, "torch tensor"),
        (gather_max, "action actually taken"),
        (gather_in_place, "in place"),
    ],
)
def test_gather_q_catches_mistakes(wrong, hint):
    with pytest.raises(ExerciseError) as info:
        check_gather_q(wrong)
    assert hint in str(info.value)
