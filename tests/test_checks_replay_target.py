"""The lesson-04 and lesson-05 checks accept a correct answer and catch the typical wrong ones."""

import random

import numpy as np
import pytest
import torch

from helpers.checks import ExerciseError, check_ring_buffer, check_soft_update
from helpers.dqn import soft_update

# --- the ring buffer (lesson 04) -------------------------------------------------------------


class RingBuffer:
    """A correct ring buffer in NumPy."""

    def __init__(self, capacity, obs_dim, rng):
        self.capacity = capacity
        self.rng = rng
        self.states = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.next_states = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.position = 0
        self.size = 0

    def push(self, state, action, reward, next_state, terminated):
        i = self.position
        self.states[i] = state
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_states[i] = next_state
        self.terminated[i] = terminated
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size):
        if batch_size > self.size:
            raise ValueError("batch_size larger than the number of stored transitions")
        idx = self.rng.choice(self.size, batch_size, replace=False)
        return (self.states[idx], self.actions[idx], self.rewards[idx],
                self.next_states[idx], self.terminated[idx])

    def __len__(self):
        return self.size


class TorchRingBuffer(RingBuffer):
    """Also correct: returns torch tensors, and lets NumPy raise the ValueError."""

    def sample(self, batch_size):
        idx = self.rng.choice(self.size, batch_size, replace=False)
        return tuple(torch.from_numpy(x[idx]) for x in
                     (self.states, self.actions, self.rewards, self.next_states, self.terminated))


class DequeBuffer:
    """Also correct: the seed's deque idea behind the same interface."""

    def __init__(self, capacity, obs_dim, rng):
        from collections import deque

        self.memory = deque(maxlen=capacity)
        self.rng = rng

    def push(self, state, action, reward, next_state, terminated):
        self.memory.append((np.array(state), action, reward, np.array(next_state), terminated))

    def sample(self, batch_size):
        idx = self.rng.choice(len(self.memory), batch_size, replace=False)
        rows = [self.memory[i] for i in idx]
        return tuple(np.array(field, dtype=float) for field in zip(*rows, strict=True))

    def __len__(self):
        return len(self.memory)


class SizeNotCapped(RingBuffer):
    def push(self, state, action, reward, next_state, terminated):
        size = self.size
        super().push(state, action, reward, next_state, terminated)
        self.size = size + 1  # counts pushes, past the capacity

    def sample(self, batch_size):
        idx = self.rng.choice(min(self.size, self.capacity), batch_size, replace=False)
        return (self.states[idx], self.actions[idx], self.rewards[idx],
                self.next_states[idx], self.terminated[idx])


class NoWrap(RingBuffer):
    def push(self, state, action, reward, next_state, terminated):
        i = min(self.position, self.capacity - 1)  # keeps overwriting the last row
        self.states[i], self.actions[i], self.rewards[i] = state, action, reward
        self.next_states[i], self.terminated[i] = next_state, terminated
        self.position += 1
        self.size = min(self.size + 1, self.capacity)


class SamplesWholeCapacity(RingBuffer):
    def sample(self, batch_size):
        if batch_size > self.size:
            raise ValueError("too many")
        idx = self.rng.choice(self.capacity, batch_size, replace=False)
        return (self.states[idx], self.actions[idx], self.rewards[idx],
                self.next_states[idx], self.terminated[idx])


class WithReplacement(RingBuffer):
    def sample(self, batch_size):
        if batch_size > self.size:
            raise ValueError("too many")
        idx = self.rng.integers(0, self.size, batch_size)
        return (self.states[idx], self.actions[idx], self.rewards[idx],
                self.next_states[idx], self.terminated[idx])


class ContiguousSlice(RingBuffer):
    def sample(self, batch_size):
        if batch_size > self.size:
            raise ValueError("too many")
        start = self.rng.integers(0, self.size - batch_size + 1)
        idx = np.arange(start, start + batch_size)
        return (self.states[idx], self.actions[idx], self.rewards[idx],
                self.next_states[idx], self.terminated[idx])


class GlobalRandom(RingBuffer):
    def sample(self, batch_size):
        if batch_size > self.size:
            raise ValueError("too many")
        idx = np.array(random.sample(range(self.size), batch_size))
        return (self.states[idx], self.actions[idx], self.rewards[idx],
                self.next_states[idx], self.terminated[idx])


class MisalignedFields(RingBuffer):
    def sample(self, batch_size):
        if batch_size > self.size:
            raise ValueError("too many")
        idx = self.rng.choice(self.size, batch_size, replace=False)
        other = self.rng.choice(self.size, batch_size, replace=False)
        return (self.states[idx], self.actions[idx], self.rewards[idx],
                self.next_states[other], self.terminated[idx])


class NoValueError(RingBuffer):
    def sample(self, batch_size):
        idx = self.rng.choice(self.size, min(batch_size, self.size), replace=False)
        return (self.states[idx], self.actions[idx], self.rewards[idx],
                self.next_states[idx], self.terminated[idx])


class Stub(RingBuffer):
    def push(self, state, action, reward, next_state, terminated):
        raise NotImplementedError

    def sample(self, batch_size):
        raise NotImplementedError


@pytest.mark.parametrize("cls", [RingBuffer, TorchRingBuffer, DequeBuffer])
def test_ring_buffer_check_accepts_correct(cls, capsys):
    check_ring_buffer(cls)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize("cls, hint", [
    (SizeNotCapped, "capacity"),
    (NoWrap, "modulo"),
    (SamplesWholeCapacity, "never pushed"),
    (WithReplacement, "same transition twice"),
    (ContiguousSlice, "consecutive"),
    (GlobalRandom, "rng"),
    (MisalignedFields, "same row"),
    (NoValueError, "ValueError"),
    (Stub, "NotImplementedError"),
])
def test_ring_buffer_check_catches_mistakes(cls, hint):
    random.seed(0)
    with pytest.raises(ExerciseError, match=hint):
        check_ring_buffer(cls)


# --- the soft update (lesson 05) -------------------------------------------------------------


def soft_update_lerp(target_net, online_net, tau):
    with torch.no_grad():
        for target_param, param in zip(target_net.parameters(), online_net.parameters(),
                                       strict=True):
            target_param.lerp_(param, tau)


def soft_update_state_dict(target_net, online_net, tau):
    """The seed's version, through state dicts."""
    target_state, online_state = target_net.state_dict(), online_net.state_dict()
    for key in online_state:
        target_state[key] = online_state[key] * tau + target_state[key] * (1 - tau)
    target_net.load_state_dict(target_state)


def soft_update_swapped(target_net, online_net, tau):
    soft_update_lerp(target_net, online_net, 1 - tau)


def soft_update_rebinds(target_net, online_net, tau):
    target_net = online_net  # noqa: F841 -- the typical mistake: changes nothing outside


def soft_update_weights_only(target_net, online_net, tau):
    with torch.no_grad():
        for name, param in online_net.named_parameters():
            if name.endswith("weight"):
                target_net.get_parameter(name).lerp_(param, tau)


def soft_update_moves_online(target_net, online_net, tau):
    with torch.no_grad():
        for target_param, param in zip(target_net.parameters(), online_net.parameters(),
                                       strict=True):
            new = tau * param + (1 - tau) * target_param
            target_param.copy_(new)
            param.copy_(new)


def soft_update_replaces_tensors(target_net, online_net, tau):
    for module_t, module_o in zip(target_net.modules(), online_net.modules(), strict=True):
        for name, param in list(module_o.named_parameters(recurse=False)):
            old = getattr(module_t, name)
            setattr(module_t, name, torch.nn.Parameter(tau * param.detach()
                                                       + (1 - tau) * old.detach()))


def soft_update_copy(target_net, online_net, tau):
    """A hard copy: right only for tau = 1."""
    target_net.load_state_dict(online_net.state_dict())


def soft_update_stub(target_net, online_net, tau):
    raise NotImplementedError


@pytest.mark.parametrize("fn", [soft_update, soft_update_lerp, soft_update_state_dict])
def test_soft_update_check_accepts_correct(fn, capsys):
    check_soft_update(fn)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize("fn, hint", [
    (soft_update_swapped, "weight of the \\*online\\* network"),
    (soft_update_rebinds, "did not change"),
    (soft_update_weights_only, "bias"),
    (soft_update_moves_online, "online network changed"),
    (soft_update_replaces_tensors, "replaced"),
    (soft_update_copy, "tau \\* online"),
    (soft_update_stub, "NotImplementedError"),
])
def test_soft_update_check_catches_mistakes(fn, hint):
    with pytest.raises(ExerciseError, match=hint):
        check_soft_update(fn)


def soft_update_data_copy(target_net, online_net, tau):
    """Also correct: writes through .data, in place."""
    for target_param, param in zip(target_net.parameters(), online_net.parameters(),
                                   strict=True):
        target_param.data.copy_(tau * param.data + (1.0 - tau) * target_param.data)


def soft_update_mul_add(target_net, online_net, tau):
    """Also correct: two in-place steps."""
    with torch.no_grad():
        for target_param, param in zip(target_net.parameters(), online_net.parameters(),
                                       strict=True):
            target_param.mul_(1.0 - tau).add_(param, alpha=tau)


def soft_update_rebinds_data(target_net, online_net, tau):
    """The issue's example: `p.data = ...` rebinds the storage (an optimizer, or the
    trainer's one weight vector, keeps the old memory and never sees the update)."""
    for target_param, param in zip(target_net.parameters(), online_net.parameters(),
                                   strict=True):
        target_param.data = tau * param.data + (1.0 - tau) * target_param.data


def soft_update_vector_to_parameters(target_net, online_net, tau):
    """Rebinds too: torch's vector_to_parameters assigns .data."""
    from torch.nn.utils import parameters_to_vector, vector_to_parameters

    new = tau * parameters_to_vector(online_net.parameters()) + (1.0 - tau) * (
        parameters_to_vector(target_net.parameters()))
    vector_to_parameters(new.detach(), target_net.parameters())


def soft_update_lesson_tau(target_net, online_net, tau):
    """Uses the lesson's TAU = 0.005 instead of the argument."""
    soft_update_lerp(target_net, online_net, 0.005)


def soft_update_first_layer_only(target_net, online_net, tau):
    with torch.no_grad():
        for target_param, param in list(zip(target_net.parameters(), online_net.parameters(),
                                            strict=True))[:2]:
            target_param.lerp_(param, tau)


@pytest.mark.parametrize("fn", [soft_update_data_copy, soft_update_mul_add])
def test_soft_update_check_accepts_other_forms(fn, capsys):
    check_soft_update(fn)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize("fn, hint", [
    (soft_update_rebinds_data, "rebinds"),
    (soft_update_vector_to_parameters, "rebinds"),
    (soft_update_lesson_tau, "tau \\* online"),
    (soft_update_first_layer_only, "layer 1 weight was not updated"),
])
def test_soft_update_check_catches_more_mistakes(fn, hint):
    with pytest.raises(ExerciseError, match=hint):
        check_soft_update(fn)


def test_soft_update_by_rebinding_never_reaches_a_flat_weight_vector():
    """Why rebinding is wrong in this series: the trainer keeps all weights in one vector
    (helpers.dqn.flatten_parameters); an update that rebinds .data never reaches it, an
    in-place one does."""
    from helpers.dqn import DQN, flatten_parameters

    for update, reaches in ((soft_update_rebinds_data, False), (soft_update_lerp, True)):
        torch.manual_seed(0)
        online, target = DQN(4, 2), DQN(4, 2)
        flat, _ = flatten_parameters(target)
        before = flat.clone()
        update(target, online, 0.5)
        assert torch.equal(flat, before) is not reaches
