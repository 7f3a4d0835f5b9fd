"""The lesson-03 checks accept a correct answer in any equivalent form and catch the
typical wrong ones."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.checks import ExerciseError, check_dqn_loss, check_gather_q, check_td_targets
from helpers.dqn import dqn_loss, td_target

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


# --- more right forms and mistakes ------------------------------------------------------------


def targets_float64(rewards, next_q_values, terminated, gamma):
    return targets(rewards.double(), next_q_values.double(), terminated.double(), gamma)


def targets_lesson_gamma(rewards, next_q_values, terminated, gamma):
    """Uses the lesson's gamma = 0.99 instead of the argument."""
    return targets(rewards, next_q_values, terminated, 0.99)


def targets_batch_of_six(rewards, next_q_values, terminated, gamma):
    """Right only for the example's batch size: a buffer of 6."""
    out = torch.zeros(6)
    out[: len(rewards)] = targets(rewards, next_q_values, terminated, gamma)[:6]
    return out


def targets_first_action(rewards, next_q_values, terminated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values[:, 0]


@pytest.mark.parametrize("correct", [targets_float64])
def test_td_targets_accepts_other_forms(correct, capsys):
    check_td_targets(correct)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (targets_lesson_gamma, "gamma"),
        (targets_batch_of_six, "shape"),
        (targets_first_action, "best next action"),
    ],
)
def test_td_targets_catches_more_mistakes(wrong, hint):
    with pytest.raises(ExerciseError) as info:
        check_td_targets(wrong)
    assert hint in str(info.value)


def gather_take_along(q_values, actions):
    return torch.take_along_dim(q_values, actions.unsqueeze(1), dim=1).squeeze(1)


def gather_float64(q_values, actions):
    return gather(q_values.double(), actions)


def gather_one_hot(q_values, actions):
    """Also correct: a one-hot mask and a sum over actions."""
    mask = torch.nn.functional.one_hot(actions, q_values.shape[1]).to(q_values.dtype)
    return (q_values * mask).sum(dim=1)


@pytest.mark.parametrize("correct", [gather_take_along, gather_float64, gather_one_hot])
def test_gather_q_accepts_other_forms(correct, capsys):
    check_gather_q(correct)
    assert "Correct" in capsys.readouterr().out


# --- the DQN loss from the two pieces -----------------------------------------------------------

def loss(policy_net, target_net, batch, gamma):
    with torch.no_grad():
        y = targets(batch.rewards, target_net(batch.next_states), batch.terminated, gamma)
    return F.smooth_l1_loss(gather(policy_net(batch.states), batch.actions), y)


def loss_helpers(policy_net, target_net, batch, gamma):
    return dqn_loss(policy_net, target_net, batch, gamma)[0]


def loss_huber_detach(policy_net, target_net, batch, gamma):
    """Also correct: huber_loss with delta 1 and detached targets, arguments swapped."""
    y = targets(batch.rewards, target_net(batch.next_states), batch.terminated, gamma).detach()
    return F.huber_loss(y, gather(policy_net(batch.states), batch.actions), delta=1.0)


def loss_float64(policy_net, target_net, batch, gamma):
    return loss(policy_net, target_net, batch, gamma).double()


def loss_targets_with_grad(policy_net, target_net, batch, gamma):
    y = targets(batch.rewards, target_net(batch.next_states), batch.terminated, gamma)
    return F.smooth_l1_loss(gather(policy_net(batch.states), batch.actions), y)


def loss_mse(policy_net, target_net, batch, gamma):
    with torch.no_grad():
        y = targets(batch.rewards, target_net(batch.next_states), batch.terminated, gamma)
    return F.mse_loss(gather(policy_net(batch.states), batch.actions), y)


def loss_sum(policy_net, target_net, batch, gamma):
    return loss(policy_net, target_net, batch, gamma) * len(batch.rewards)


def loss_policy_targets(policy_net, target_net, batch, gamma):
    return loss(policy_net, policy_net, batch, gamma)


def loss_current_states(policy_net, target_net, batch, gamma):
    with torch.no_grad():
        y = targets(batch.rewards, target_net(batch.states), batch.terminated, gamma)
    return F.smooth_l1_loss(gather(policy_net(batch.states), batch.actions), y)


def loss_no_mask(policy_net, target_net, batch, gamma):
    with torch.no_grad():
        y = targets_no_mask(batch.rewards, target_net(batch.next_states), batch.terminated,
                            gamma)
    return F.smooth_l1_loss(gather(policy_net(batch.states), batch.actions), y)


def loss_item(policy_net, target_net, batch, gamma):
    return loss(policy_net, target_net, batch, gamma).item()


def loss_per_transition(policy_net, target_net, batch, gamma):
    with torch.no_grad():
        y = targets(batch.rewards, target_net(batch.next_states), batch.terminated, gamma)
    return F.smooth_l1_loss(gather(policy_net(batch.states), batch.actions), y, reduction="none")


def loss_detached_prediction(policy_net, target_net, batch, gamma):
    return loss(policy_net, target_net, batch, gamma).detach()


def loss_in_place(policy_net, target_net, batch, gamma):
    batch.rewards.clamp_(-1, 1)  # "reward clipping", into the caller's batch
    return loss(policy_net, target_net, batch, gamma)


def loss_stub(policy_net, target_net, batch, gamma):
    return targets_stub(None, None, None, gamma)


@pytest.mark.parametrize("correct", [loss, loss_helpers, loss_huber_detach, loss_float64])
def test_dqn_loss_accepts_correct(correct, capsys):
    check_dqn_loss(correct)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (loss_targets_with_grad, "torch.no_grad()"),
        (loss_mse, "Huber"),
        (loss_sum, "do not sum"),
        (loss_policy_targets, "come from target_net"),
        (loss_current_states, "*next* states"),
        (loss_no_mask, "(1 - terminated)"),
        (loss_item, "torch tensor"),
        (loss_per_transition, "0-d tensor"),
        (loss_detached_prediction, "no gradient"),
        (loss_in_place, "changed the batch"),
        (loss_stub, "`targets_stub` (called by `loss_stub`)"),
    ],
)
def test_dqn_loss_catches_mistakes(wrong, hint):
    with pytest.raises(ExerciseError) as info:
        check_dqn_loss(wrong)
    assert hint in str(info.value)
