"""Lesson 03's exercises now come before the code that reveals them, so the learner writes
them from the description alone: the checks must catch the answers people write without a
worked example to copy (besides those in test_checks_q_networks.py)."""

import pytest
import torch

from helpers.checks import ExerciseError, check_gather_q, check_td_targets

# --- Exercise 1: gather Q(s, a) without having seen `gather` used ------------------------------


def gather_row_index_as_row(q_values, actions):
    return q_values.gather(1, actions.unsqueeze(0)).squeeze(0)  # (1, B): row 0 only


def gather_dim0(q_values, actions):
    return q_values.gather(0, actions.unsqueeze(1)).squeeze(1)  # rows picked by the action


def gather_diagonal_of_columns(q_values, actions):
    return torch.diagonal(q_values[:, actions])  # right values, but via a (B, B) matrix: fine


def gather_index_select(q_values, actions):
    return torch.index_select(q_values, 1, actions)  # (B, B)


def gather_argmax(q_values, actions):
    return q_values.gather(1, q_values.argmax(dim=1, keepdim=True)).squeeze(1)  # greedy, not taken


def gather_where(q_values, actions):
    return torch.where(actions == 0, q_values[:, 0], q_values[:, 1])  # knows 2 actions only


@pytest.mark.parametrize("wrong", [gather_row_index_as_row, gather_dim0, gather_index_select,
                                   gather_argmax, gather_where])
def test_gather_q_catches_answers_written_without_the_example(wrong):
    with pytest.raises(ExerciseError):
        check_gather_q(wrong)


@pytest.mark.parametrize("correct", [gather_diagonal_of_columns])
def test_gather_q_accepts_a_roundabout_right_answer(correct, capsys):
    check_gather_q(correct)
    assert "Correct" in capsys.readouterr().out


# --- Exercise 2: TD targets before the lesson writes them out -----------------------------------


def targets_argmax(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.argmax(dim=1)  # indices


def targets_max_over_batch_axis(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.max(dim=0).values


def targets_min(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.min(dim=1).values


def targets_discount_reward(rewards, next_q_values, terminated, gamma):
    return gamma * (rewards + (1.0 - terminated) * next_q_values.max(dim=1).values)


def targets_sum(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.sum(dim=1)


@pytest.mark.parametrize("wrong", [targets_argmax, targets_max_over_batch_axis, targets_min,
                                   targets_discount_reward, targets_sum])
def test_td_targets_catches_answers_written_without_the_example(wrong):
    with pytest.raises(ExerciseError):
        check_td_targets(wrong)
