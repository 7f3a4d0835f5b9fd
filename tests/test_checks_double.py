"""The lesson 07 check: the Double DQN target of a batch."""

import pytest
import torch

from helpers.checks import ExerciseError, check_double_dqn_target


def correct(rewards, next_q_online, next_q_target, terminated, gamma):
    best = next_q_online.argmax(dim=1, keepdim=True)  # (B, 1): the online net chooses
    next_value = next_q_target.gather(1, best).squeeze(1)  # (B,): the target net evaluates
    return rewards + gamma * (1 - terminated) * next_value


def correct_by_indexing(rewards, next_q_online, next_q_target, terminated, gamma):
    rows = torch.arange(len(rewards))
    next_value = next_q_target[rows, next_q_online.argmax(dim=1)]
    return torch.where(terminated.bool(), rewards, rewards + gamma * next_value)


def correct_float64(rewards, next_q_online, next_q_target, terminated, gamma):
    """Also correct: computed in float64."""
    return correct(rewards.double(), next_q_online.double(), next_q_target.double(),
                   terminated.double(), gamma)


def vanilla(rewards, next_q_online, next_q_target, terminated, gamma):
    return rewards + gamma * (1 - terminated) * next_q_target.max(dim=1).values


def swapped(rewards, next_q_online, next_q_target, terminated, gamma):
    return correct(rewards, next_q_target, next_q_online, terminated, gamma)


def online_only(rewards, next_q_online, next_q_target, terminated, gamma):
    return rewards + gamma * (1 - terminated) * next_q_online.max(dim=1).values


def no_mask(rewards, next_q_online, next_q_target, terminated, gamma):
    return correct(rewards, next_q_online, next_q_target, torch.zeros_like(terminated), gamma)


def zero_target(rewards, next_q_online, next_q_target, terminated, gamma):
    return (1 - terminated) * correct(rewards, next_q_online, next_q_target, terminated, gamma)


def no_gamma(rewards, next_q_online, next_q_target, terminated, gamma):
    return correct(rewards, next_q_online, next_q_target, terminated, 1.0)


def keeps_dim(rewards, next_q_online, next_q_target, terminated, gamma):
    best = next_q_online.argmax(dim=1, keepdim=True)
    return rewards.unsqueeze(1) + gamma * (1 - terminated.unsqueeze(1)) * next_q_target.gather(
        1, best)


def in_place(rewards, next_q_online, next_q_target, terminated, gamma):
    next_q_target.mul_(gamma)  # writes into the caller's tensor
    best = next_q_online.argmax(dim=1, keepdim=True)
    return rewards + (1 - terminated) * next_q_target.gather(1, best).squeeze(1)


def as_numpy(rewards, next_q_online, next_q_target, terminated, gamma):
    return correct(rewards, next_q_online, next_q_target, terminated, gamma).numpy()


def stub(rewards, next_q_online, next_q_target, terminated, gamma):
    raise NotImplementedError


@pytest.mark.parametrize("fn", [correct, correct_by_indexing, correct_float64])
def test_correct_implementations_pass(fn, capsys):
    check_double_dqn_target(fn)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fn", "hint"),
    [
        (vanilla, "vanilla DQN target"),
        (swapped, "roles are swapped"),
        (online_only, "both chose and evaluated"),
        (no_mask, "1 - terminated"),
        (zero_target, "still earns its reward"),
        (no_gamma, "gamma"),
        (keeps_dim, "squeeze"),
        (in_place, "in place"),
        (as_numpy, "torch tensor"),
        (stub, "NotImplementedError"),
    ],
)
def test_typical_mistakes_get_a_hint(fn, hint):
    with pytest.raises(ExerciseError, match=hint):
        check_double_dqn_target(fn)


def test_hint_names_the_case_not_the_answer():
    with pytest.raises(ExerciseError) as info:
        check_double_dqn_target(vanilla)
    message = str(info.value)
    assert "on a batch of 4 where the two networks disagree" in message
    # the right targets of that case, 1 + 0.9 * 2, 0.5 + 0.9 * 1, 2 + 0.9 * 0.5, are not given away
    assert not any(answer in message for answer in ("2.8", "1.4", "2.45"))


def test_the_reference_cases_have_no_ties_and_the_nets_disagree():
    from helpers.checks import _double_target_cases

    disagreements = 0
    for _, _, online, target, terminated, _ in _double_target_cases():
        top2 = online.topk(2, dim=1).values
        assert torch.all(top2[:, 0] > top2[:, 1])  # a unique argmax in every row
        live = terminated == 0
        disagreements += int((online.argmax(1) != target.argmax(1))[live].sum())
    assert disagreements >= 3
