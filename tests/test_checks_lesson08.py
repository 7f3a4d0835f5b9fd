"""The lesson 08 checks: every right answer passes, every typical wrong one gets its hint."""

import math
import re

import numpy as np
import pytest
import torch

from helpers.checks import ExerciseError, check_conv_output_size, check_shaped_reward


def shaped(reward, phi, phi_next, gamma, terminated):
    return reward + gamma * (0.0 if terminated else phi_next) - phi


def shaped_numpy_float32(reward, phi, phi_next, gamma, terminated):
    return np.float32(reward) + np.float32(gamma) * np.float32(phi_next) * (
        1 - np.float32(terminated)) - np.float32(phi)


def shaped_tensor(reward, phi, phi_next, gamma, terminated):
    mask = torch.tensor(float(not terminated))
    return torch.tensor(reward) + gamma * mask * torch.tensor(phi_next) - torch.tensor(phi)


@pytest.mark.parametrize("fn", [shaped, shaped_numpy_float32, shaped_tensor])
def test_right_shaped_rewards_pass(fn, capsys):
    check_shaped_reward(fn)
    assert "Correct!" in capsys.readouterr().out


WRONG_SHAPED = {
    "no terminal mask": (lambda r, p, q, g, d: r + g * q - p, "terminal state"),
    "drops -Phi(s) on terminal steps": (
        lambda r, p, q, g, d: r if d else r + g * q - p, "the -Phi(s) term"),
    "no gamma": (lambda r, p, q, g, d: r + (0 if d else q) - p, "discount the next"),
    "gamma on Phi(s)": (lambda r, p, q, g, d: r + (0 if d else q) - g * p, "gamma multiplies"),
    "reversed": (lambda r, p, q, g, d: r + p - g * (0 if d else q), "sign is reversed"),
    "no reward": (lambda r, p, q, g, d: g * (0 if d else q) - p, "keep the reward"),
    "mask on the wrong term": (lambda r, p, q, g, d: r + g * q - (0 if d else p), "expected"),
    "a list": (lambda r, p, q, g, d: [r], "one number"),
}


@pytest.mark.parametrize("name", list(WRONG_SHAPED))
def test_wrong_shaped_rewards_get_their_hint(name):
    fn, hint = WRONG_SHAPED[name]
    with pytest.raises(ExerciseError, match=re.escape(hint)):
        check_shaped_reward(fn)


def test_unfinished_shaped_reward_stub():
    def stub(reward, phi, phi_next, gamma, terminated):
        raise NotImplementedError
    with pytest.raises(ExerciseError, match="NotImplementedError"):
        check_shaped_reward(stub)


def conv_floor(size, kernel, stride, padding=0):
    return math.floor((size + 2 * padding - kernel) / stride) + 1


def conv_by_torch(size, kernel, stride, padding=0):
    conv = torch.nn.Conv2d(1, 1, kernel, stride, padding)
    return conv(torch.zeros(1, 1, size, size)).shape[-1]


def conv_numpy(size, kernel, stride, padding=0):
    return np.int64((size + 2 * padding - kernel) // stride + 1)


@pytest.mark.parametrize("fn", [conv_floor, conv_by_torch, conv_numpy])
def test_right_conv_sizes_pass(fn, capsys):
    check_conv_output_size(fn)
    assert "Correct!" in capsys.readouterr().out


WRONG_CONV = {
    "true division": (lambda n, k, s, p=0: (n + 2 * p - k) / s + 1, "use //"),
    "no +1": (lambda n, k, s, p=0: (n + 2 * p - k) // s, "add 1"),
    "no padding": (lambda n, k, s, p=0: (n - k) // s + 1, "each"),
    "padding once": (lambda n, k, s, p=0: (n + p - k) // s + 1, "both sides"),
    "ceil": (lambda n, k, s, p=0: -(-(n + 2 * p - k) // s) + 1, "round down"),
    "size / stride": (lambda n, k, s, p=0: n // s, "kernel"),
    "a float of the right value": (lambda n, k, s, p=0: float((n + 2 * p - k) // s + 1),
                                   "return an int"),
    "a string": (lambda n, k, s, p=0: "7", "whole number"),
}


@pytest.mark.parametrize("name", list(WRONG_CONV))
def test_wrong_conv_sizes_get_their_hint(name):
    fn, hint = WRONG_CONV[name]
    with pytest.raises(ExerciseError, match=re.escape(hint)):
        check_conv_output_size(fn)
