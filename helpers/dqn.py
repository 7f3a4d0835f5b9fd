"""The Deep Q-Network, piece by piece, and a trainer that puts the pieces together.

Lessons 03-06 write each piece in the notebook first; this module is the same
code, gathered so that later lessons (and the command line) can import it:

- :class:`DQN`, :class:`DuelingDQN` -- the Q-network ``Q(s, .; theta)``.
- :class:`ReplayMemory` / :class:`Transition` -- the seed guide's replay memory,
  kept for teaching; :class:`ReplayBuffer` -- the same idea as a preallocated
  tensor ring buffer, which is what the trainer uses.
- :func:`td_target`, :func:`dqn_loss` -- the Bellman target and the loss;
  :func:`dqn_loss_backward` -- the loss and its gradient, backpropagation written
  out for :class:`DQN` (bit for bit autograd's gradient, computed faster).
- :func:`soft_update`, :func:`hard_update` -- the target network's updates.
- :class:`DQNConfig` -- every hyperparameter, defaulting to the seed guide's.
- :func:`train_dqn`, :func:`evaluate` -- training and greedy evaluation;
  :class:`TrainingDiverged` and :class:`TrainingInterrupted`, which carry the run so far.
- :func:`save_checkpoint`, :func:`load_checkpoint`.

With ``DQNConfig()`` the trainer runs the seed guide's algorithm exactly: the
same network, hyperparameters, epsilon schedule, loss, gradient clipping,
optimizer, and one gradient step plus one soft target update per environment
step. It is faster only because it does the same arithmetic with less overhead:
preallocated replay storage, all weights in one vector, and a hand-written
backward pass that skips autograd's bookkeeping (see ``benchmarks/``).
"""

from __future__ import annotations

import math
import os
import pickle
import random
import tempfile
import time
from collections import deque, namedtuple
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from helpers.display import finish
from helpers.runtime import pick_device, restoring_torch_state, set_cpu_threads
from helpers.validation import as_bool, as_float, as_int, as_seed, one_of

__all__ = [
    "DQN",
    "DuelingDQN",
    "Transition",
    "ReplayMemory",
    "Batch",
    "StepInfo",
    "ReplayBuffer",
    "td_target",
    "dqn_loss",
    "dqn_loss_backward",
    "soft_update",
    "hard_update",
    "flatten_parameters",
    "FlatAdamW",
    "DQNConfig",
    "DQNResult",
    "TrainingDiverged",
    "TrainingInterrupted",
    "make_q_network",
    "make_env",
    "train_dqn",
    "evaluate",
    "save_checkpoint",
    "load_checkpoint",
    "solved_threshold",
]


# --------------------------------------------------------------------------- networks


def _network_sizes(n_observations: Any, n_actions: Any, hidden: Any) -> tuple[int, int, int]:
    return (as_int(n_observations, "n_observations", 1), as_int(n_actions, "n_actions", 1),
            as_int(hidden, "hidden", 1))


class DQN(nn.Module):
    """The seed's Q-network: a 3-layer MLP from a state to one Q-value per action.

    ``forward`` maps a batch of states, shape ``(B, n_observations)``, to Q-values
    ``Q(s, .; theta)``, shape ``(B, n_actions)``.
    """

    def __init__(self, n_observations: int, n_actions: int, hidden: int = 128) -> None:
        super().__init__()
        n_observations, n_actions, hidden = _network_sizes(n_observations, n_actions, hidden)
        self.layer1 = nn.Linear(n_observations, hidden)
        self.layer2 = nn.Linear(hidden, hidden)
        self.layer3 = nn.Linear(hidden, n_actions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.layer1(x))  # (B, hidden)
        x = F.relu(self.layer2(x))  # (B, hidden)
        return self.layer3(x)  # (B, n_actions)


class DuelingDQN(nn.Module):
    """Dueling architecture (Wang et al., 2016): ``Q(s, a) = V(s) + A(s, a) - mean_a A(s, a)``.

    A shared layer feeds two heads: one scalar state value ``V(s)`` and one
    advantage per action ``A(s, a)``. Subtracting the mean advantage makes the
    split identifiable: otherwise any constant could move between V and A
    without changing Q.
    """

    def __init__(self, n_observations: int, n_actions: int, hidden: int = 128) -> None:
        super().__init__()
        n_observations, n_actions, hidden = _network_sizes(n_observations, n_actions, hidden)
        self.layer1 = nn.Linear(n_observations, hidden)
        self.value_hidden = nn.Linear(hidden, hidden)
        self.value_head = nn.Linear(hidden, 1)
        self.advantage_hidden = nn.Linear(hidden, hidden)
        self.advantage_head = nn.Linear(hidden, n_actions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.layer1(x))  # (B, hidden)
        value = self.value_head(F.relu(self.value_hidden(h)))  # (B, 1)
        advantage = self.advantage_head(F.relu(self.advantage_hidden(h)))  # (B, n_actions)
        return value + advantage - advantage.mean(dim=-1, keepdim=True)  # (B, n_actions)


# --------------------------------------------------------------------------- replay


Transition = namedtuple("Transition", ("state", "action", "next_state", "reward"))


class ReplayMemory:
    """The seed guide's replay memory: a bounded ``deque`` of :data:`Transition` tuples.

    Simple and clear, kept for teaching (lesson 04). Every ``sample`` builds a
    batch out of Python objects, which is slow; :class:`ReplayBuffer` stores the
    same transitions in preallocated tensors instead.
    """

    def __init__(self, capacity: int) -> None:
        self.memory: deque[Transition] = deque([], maxlen=as_int(capacity, "capacity", 1))

    def push(self, *args: Any) -> None:
        """Save a transition ``(state, action, next_state, reward)``."""
        self.memory.append(Transition(*args))

    def sample(self, batch_size: int) -> list[Transition]:
        """A list of ``batch_size`` distinct transitions drawn uniformly at random."""
        batch_size = as_int(batch_size, "batch_size", 1, len(self.memory),
                            why="at most the number of stored transitions")
        return random.sample(self.memory, batch_size)

    def __len__(self) -> int:
        return len(self.memory)


class Batch(NamedTuple):
    """A minibatch of transitions as tensors (``B`` = batch size)."""

    states: torch.Tensor  # (B, n_observations) float32
    actions: torch.Tensor  # (B,) int64
    rewards: torch.Tensor  # (B,) float32
    next_states: torch.Tensor  # (B, n_observations) float32
    terminated: torch.Tensor  # (B,) float32, 1.0 where the episode ended in a terminal state


class ReplayBuffer:
    """A ring buffer of transitions in preallocated tensors.

    The same idea as :class:`ReplayMemory` -- keep the last ``capacity``
    transitions, sample uniform random minibatches -- but each field lives in one
    tensor of shape ``(capacity, ...)``, so ``push`` writes one row per field and
    ``sample`` is a single indexing operation per field.

    ``terminated`` is stored separately from the next state: a transition cut by
    the time limit (*truncated*) still has a next state whose value we bootstrap
    from; only a *terminated* transition has none.

    Args:
        capacity: the most transitions kept; the oldest are overwritten first.
        obs_shape: shape of one observation, e.g. ``(4,)`` for CartPole.
        device: where the tensors live (and where batches are returned).
        rng: a NumPy ``Generator`` for reproducible sampling (a fresh unseeded one if ``None``).
    """

    def __init__(
        self,
        capacity: int,
        obs_shape: tuple[int, ...],
        device: torch.device | str = "cpu",
        rng: np.random.Generator | None = None,
    ) -> None:
        capacity = as_int(capacity, "capacity", 1)
        if not isinstance(obs_shape, (tuple, list)) or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1
            for n in obs_shape
        ):
            raise ValueError(f"obs_shape must be a tuple of integers >= 1, e.g. (4,), "
                             f"got {obs_shape!r}")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator or None, got {rng!r}")
        self.capacity = capacity
        self.obs_shape = tuple(int(n) for n in obs_shape)
        self.device = _as_device(device)
        self.rng = np.random.default_rng() if rng is None else rng
        self.states = torch.zeros((capacity, *self.obs_shape), dtype=torch.float32,
                                  device=self.device)
        self.next_states = torch.zeros_like(self.states)
        self.actions = torch.zeros(capacity, dtype=torch.int64, device=self.device)
        self.rewards = torch.zeros(capacity, dtype=torch.float32, device=self.device)
        self.terminated = torch.zeros(capacity, dtype=torch.float32, device=self.device)
        self.position = 0  # where the next transition is written
        self.size = 0  # how many transitions are stored
        # On the CPU, NumPy views of the same memory make `push` and `sample` cheap:
        # one NumPy indexing operation costs less overhead than one torch operation.
        self._rows = (
            [t.numpy() for t in (self.states, self.actions, self.rewards, self.next_states,
                                 self.terminated)]
            if self.device.type == "cpu"
            else None
        )

    def push(
        self, state: Any, action: int, reward: float, next_state: Any, terminated: bool
    ) -> None:
        """Store one transition, overwriting the oldest when full.

        ``state`` and ``next_state`` must have shape ``obs_shape``, ``action`` is an
        integer >= 0, ``reward`` a finite number and ``terminated`` a bool (NumPy
        scalars are fine); anything else raises ``ValueError`` instead of being
        stored wrongly (a scalar spread over the row, an action 1.7 cut to 1).
        """
        for name, value in (("state", state), ("next_state", next_state)):
            if np.shape(value) != self.obs_shape:
                raise ValueError(f"{name} must have shape obs_shape = {self.obs_shape}, "
                                 f"got shape {np.shape(value)}")
        self._write(state, as_int(action, "action", 0), as_float(reward, "reward"), next_state,
                    as_bool(terminated, "terminated"))

    def _write(
        self, state: Any, action: int, reward: float, next_state: Any, terminated: bool
    ) -> None:
        """:meth:`push` without the checks, for :func:`train_dqn`, whose transitions come
        from an environment :func:`make_env` has checked (it saves a few microseconds
        per step)."""
        i = self.position
        if self._rows is not None:
            states, actions, rewards, next_states, terminateds = self._rows
            states[i] = state
            actions[i] = action
            rewards[i] = reward
            next_states[i] = next_state
            terminateds[i] = terminated
        else:
            self.states[i] = torch.as_tensor(state, dtype=torch.float32)
            self.actions[i] = int(action)
            self.rewards[i] = float(reward)
            self.next_states[i] = torch.as_tensor(next_state, dtype=torch.float32)
            self.terminated[i] = float(terminated)
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> Batch:
        """A uniform random minibatch of ``batch_size`` distinct transitions.

        Like the seed's ``random.sample``: sampled without replacement.
        """
        batch_size = as_int(batch_size, "batch_size", 1, self.size,
                            why="at most the number of stored transitions")
        idx = self.rng.choice(self.size, batch_size, replace=False)  # (B,) distinct indices
        if self._rows is not None:
            return Batch(*(torch.from_numpy(rows[idx]) for rows in self._rows))
        idx = torch.from_numpy(idx).to(self.device)
        return Batch(
            self.states[idx],
            self.actions[idx],
            self.rewards[idx],
            self.next_states[idx],
            self.terminated[idx],
        )

    def __len__(self) -> int:
        return self.size


# --------------------------------------------------------------------------- the update

LOSSES = ("smooth_l1", "mse")
"""The loss names :func:`dqn_loss` and :class:`DQNConfig` know: Huber and squared error."""


def td_target(
    rewards: torch.Tensor,
    next_q_values: torch.Tensor,
    terminated: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """The Q-learning target ``r + gamma * (1 - terminated) * max_a' Q(s', a')``.

    Args:
        rewards: ``(B,)``.
        next_q_values: ``(B, n_actions)``, the Q-values of the next states.
        terminated: ``(B,)`` of 0/1: a terminated transition has no future value.
        gamma: discount factor.

    Returns:
        ``(B,)`` targets.

    Raises:
        ValueError: if the shapes do not match -- ``(B, 1)`` rewards would otherwise
            broadcast against the ``(B,)`` maximum into a ``(B, B)`` "target".
    """
    _check_shape(next_q_values, "next_q_values", 2)
    batch_size = next_q_values.shape[0]
    _check_shape(rewards, "rewards", 1, batch_size)
    _check_shape(terminated, "terminated", 1, batch_size)
    gamma = as_float(gamma, "gamma", 0, 1)
    return rewards + gamma * (1.0 - terminated) * next_q_values.max(dim=1).values


def _check_shape(x: Any, name: str, ndim: int, batch_size: int | None = None) -> None:
    """``x`` must be a tensor with ``ndim`` dimensions (and ``batch_size`` rows, if given)."""
    if not isinstance(x, torch.Tensor) or x.ndim != ndim or (
        batch_size is not None and x.shape[0] != batch_size
    ):
        shape = "(B,)" if ndim == 1 else "(B, n_actions)"
        rows = "" if batch_size is None else f" with B = {batch_size}"
        got = f"shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a tensor of shape {shape}{rows}, got {got}")


def _bootstrap_targets(
    policy_net: nn.Module, target_net: nn.Module, batch: Batch, gamma: float, double_dqn: bool
) -> torch.Tensor:
    """The ``(B,)`` TD targets of :func:`dqn_loss` (computed without gradients)."""
    with torch.no_grad():
        next_q_target = target_net(batch.next_states)  # (B, n_actions)
        if double_dqn:
            next_actions = policy_net(batch.next_states).argmax(dim=1, keepdim=True)  # (B, 1)
            next_value = next_q_target.gather(1, next_actions).squeeze(1)  # (B,)
            return batch.rewards + gamma * (1.0 - batch.terminated) * next_value
        return td_target(batch.rewards, next_q_target, batch.terminated, gamma)


def dqn_loss(
    policy_net: nn.Module,
    target_net: nn.Module,
    batch: Batch,
    gamma: float,
    double_dqn: bool = False,
    loss: str = "smooth_l1",
) -> tuple[torch.Tensor, torch.Tensor]:
    """The DQN loss on one minibatch, and the predicted ``Q(s, a)`` (for diagnostics).

    ``target_net`` computes the target (pass ``policy_net`` itself for no target
    network). With ``double_dqn`` the online network *chooses* the next action
    and the target network *evaluates* it (van Hasselt et al., 2016):
    ``r + gamma * (1 - terminated) * Q_target(s', argmax_a' Q_online(s', a'))``.
    """
    loss = one_of(loss, "loss", LOSSES)
    # Q(s, a; theta) for the actions that were taken: (B, n_actions) -> (B,)
    q_values = policy_net(batch.states)
    q_sa = q_values.gather(1, batch.actions.unsqueeze(1)).squeeze(1)
    target = _bootstrap_targets(policy_net, target_net, batch, gamma, double_dqn)  # (B,)
    if loss == "smooth_l1":
        return F.smooth_l1_loss(q_sa, target), q_sa
    return F.mse_loss(q_sa, target), q_sa


def _relu_backward(grad_output: torch.Tensor, relu_output: torch.Tensor) -> torch.Tensor:
    """The gradient through a ReLU: ``grad_output`` where the unit was active, else 0.

    ATen's ``threshold_backward``, the very kernel autograd runs for ``relu``; on a
    CPU it is about 15x faster than ``grad_output.masked_fill(relu_output <= 0, 0)``.
    """
    return torch.ops.aten.threshold_backward(grad_output, relu_output, 0)


@torch.no_grad()
def dqn_loss_backward(
    policy_net: DQN,
    target_net: nn.Module,
    batch: Batch,
    gamma: float,
    double_dqn: bool = False,
    loss: str = "smooth_l1",
) -> tuple[torch.Tensor, torch.Tensor]:
    """``dqn_loss(...)`` and then ``loss.backward()``, with backpropagation written out.

    For the :class:`DQN` MLP. Writing ``h1 = relu(s W1^T + b1)``,
    ``h2 = relu(h1 W2^T + b2)`` and ``q = h2 W3^T + b3``, the chain rule gives,
    from the output back to the input (``g_x`` is ``d loss / d x``)::

        g_q  = d loss / d q          (nonzero only in the column of the taken action)
        g_W3 = g_q^T h2,   g_b3 = sum_batch g_q,   g_h2 = (g_q W3)  * [h2 > 0]
        g_W2 = g_h2^T h1,  g_b2 = sum_batch g_h2,  g_h1 = (g_h2 W2) * [h1 > 0]
        g_W1 = g_h1^T s,   g_b1 = sum_batch g_h1

    Each line calls the tensor operations that autograd's backward formulas call,
    on the same memory layouts, so the gradients are bit for bit those of
    ``loss.backward()`` (a unit test checks). What it saves is autograd's
    bookkeeping -- recording the graph during the forward pass and walking it
    afterwards -- which on a CPU costs more than the arithmetic of a network this
    small. The gradients are *written* into each parameter's ``.grad`` (created if
    missing), not added to it, so no ``zero_grad`` is needed.

    Returns:
        ``(loss, q_sa)`` as :func:`dqn_loss` returns them, without a graph.
    """
    if type(policy_net) is not DQN:
        raise ValueError(
            f"policy_net must be a DQN (the 3-layer MLP), got {type(policy_net).__name__}; "
            "use dqn_loss(...) and loss.backward() for other networks"
        )
    loss = one_of(loss, "loss", LOSSES)
    w1, b1 = policy_net.layer1.weight, policy_net.layer1.bias
    w2, b2 = policy_net.layer2.weight, policy_net.layer2.bias
    w3, b3 = policy_net.layer3.weight, policy_net.layer3.bias
    for param in (w1, b1, w2, b2, w3, b3):
        if param.grad is None:
            param.grad = torch.zeros_like(param)
    batch_size = batch.actions.shape[0]
    # Forward pass, keeping the activations the backward pass needs.
    h1 = torch.addmm(b1, batch.states, w1.t()).relu_()  # (B, hidden)
    h2 = torch.addmm(b2, h1, w2.t()).relu_()  # (B, hidden)
    q_values = torch.addmm(b3, h2, w3.t())  # (B, n_actions)
    actions = batch.actions.unsqueeze(1)  # (B, 1)
    q_sa = q_values.gather(1, actions).squeeze(1)  # (B,)
    target = _bootstrap_targets(policy_net, target_net, batch, gamma, double_dqn)  # (B,)
    td_error = q_sa - target  # (B,)
    # dloss/dq_sa for the mean over the batch: Huber -> clip(td_error, -1, 1) / B,
    # squared error -> 2 td_error / B.
    if loss == "smooth_l1":
        value = F.smooth_l1_loss(q_sa, target)
        grad_q_sa = td_error.clamp(-1.0, 1.0).mul_(1.0 / batch_size)  # (B,)
    else:
        value = F.mse_loss(q_sa, target)
        grad_q_sa = td_error.mul(2.0 / batch_size)  # (B,)
    # Only the taken action's Q-value reaches the loss: (B,) -> (B, n_actions).
    grad_q = torch.zeros_like(q_values).scatter_add_(1, actions, grad_q_sa.unsqueeze(1))
    # Layer 3, q = h2 W3^T + b3.
    torch.mm(grad_q.t(), h2, out=w3.grad)  # (n_actions, hidden)
    torch.sum(grad_q, 0, out=b3.grad)  # (n_actions,)
    grad_h2 = _relu_backward(torch.mm(grad_q, w3), h2)  # (B, hidden)
    # Layer 2, h2 = relu(h1 W2^T + b2).
    torch.mm(grad_h2.t(), h1, out=w2.grad)  # (hidden, hidden)
    torch.sum(grad_h2, 0, out=b2.grad)  # (hidden,)
    grad_h1 = _relu_backward(torch.mm(grad_h2, w2), h1)  # (B, hidden)
    # Layer 1, h1 = relu(states W1^T + b1); no gradient is needed for the states.
    torch.mm(grad_h1.t(), batch.states, out=w1.grad)  # (hidden, n_observations)
    torch.sum(grad_h1, 0, out=b1.grad)  # (hidden,)
    return value, q_sa


@torch.no_grad()
def soft_update(target_net: nn.Module, policy_net: nn.Module, tau: float) -> None:
    """Polyak averaging, in place: ``theta_target <- tau * theta + (1 - tau) * theta_target``.

    ``lerp_`` is exactly that formula: ``a.lerp_(b, w) = a + w * (b - a)``. ``tau`` is
    in [0, 1]: 0 leaves the target network alone, 1 copies the online one.
    """
    tau = as_float(tau, "tau", 0, 1)
    for target_param, param in _paired_parameters(target_net, policy_net):
        target_param.lerp_(param, tau)


@torch.no_grad()
def hard_update(target_net: nn.Module, policy_net: nn.Module) -> None:
    """Copy the online weights into the target network: ``theta_target <- theta``."""
    for target_param, param in _paired_parameters(target_net, policy_net):
        target_param.copy_(param)


def _paired_parameters(
    target_net: nn.Module, policy_net: nn.Module
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The two networks' parameters side by side; they must have the same shapes."""
    target_params, params = list(target_net.parameters()), list(policy_net.parameters())
    if len(target_params) != len(params) or any(
        a.shape != b.shape for a, b in zip(target_params, params, strict=False)
    ):
        raise ValueError("target_net and policy_net must be the same architecture (parameters "
                         "of the same shapes, in the same order)")
    return list(zip(target_params, params, strict=True))


# --------------------------------------------------------------------------- one weight vector


@torch.no_grad()
def flatten_parameters(net: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Put all of ``net``'s weights, and their gradients, into one vector each.

    In the math a network's weights are one vector ``theta``. This makes the code
    match: afterwards every parameter of ``net`` is a *view* into ``theta`` and
    every ``param.grad`` a view into ``grad``. The network computes exactly as
    before, but whole-network operations become one tensor operation each:
    ``theta_target.lerp_(theta, tau)`` is the soft update,
    ``grad.clamp_(-c, c)`` clips every gradient element, and the optimizer
    updates ``theta`` in a handful of operations instead of a few per layer.

    Gradients accumulate into ``grad`` in place (call ``grad.zero_()`` before
    each ``backward``; never set ``param.grad = None``).

    Calling it again on the same network returns the same two vectors (and
    re-attaches gradients that were set to ``None``), so an optimizer built on the
    first call keeps updating the network.

    Returns:
        ``(theta, grad)``, two 1-D tensors of length ``sum(p.numel())``.
    """
    if not isinstance(net, nn.Module):
        raise ValueError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    params = list(net.parameters())
    if not params:
        raise ValueError(f"net must have parameters; {type(net).__name__} has none")
    flat = getattr(net, "_flat_parameters", None)
    if flat is not None and _are_views_of(params, flat[0]):
        theta, grad = flat
    else:
        theta = torch.cat([p.reshape(-1) for p in params])
        grad = torch.zeros_like(theta)
        net._flat_parameters = (theta, grad)
    offset = 0
    for p in params:
        n = p.numel()
        p.data = theta[offset : offset + n].view_as(p)
        p.grad = grad[offset : offset + n].view_as(p)
        offset += n
    return theta, grad


def _are_views_of(params: list[torch.Tensor], theta: torch.Tensor) -> bool:
    """Whether ``params`` lie one after the other in ``theta``'s memory, filling it."""
    offset = 0
    for p in params:
        start = theta.data_ptr() + offset * theta.element_size()
        if p.dtype != theta.dtype or not p.is_contiguous() or p.data_ptr() != start:
            return False
        offset += p.numel()
    return offset == theta.numel()


class FlatAdamW:
    """AdamW (Loshchilov & Hutter, 2019), optionally with AMSGrad, on one weight vector.

    The same arithmetic as ``torch.optim.AdamW`` (a unit test checks that they agree);
    working on the single vector from :func:`flatten_parameters` makes a step a few
    tensor operations. With ``g`` the gradient and ``k`` the step number:

    .. math::
        \theta &\\leftarrow \theta (1 - \\mathrm{lr}\\,\\lambda) \\
        m &\\leftarrow \beta_1 m + (1 - \beta_1) g, \\quad
        v \\leftarrow \beta_2 v + (1 - \beta_2) g^2, \\quad
        \\hat v \\leftarrow \\max(\\hat v, v) \text{ (AMSGrad)} \\
        \theta &\\leftarrow \theta - \frac{\\mathrm{lr}}{1 - \beta_1^k}
        \frac{m}{\\sqrt{\\hat v} / \\sqrt{1 - \beta_2^k} + \\epsilon}
    """

    def __init__(
        self,
        theta: torch.Tensor,
        grad: torch.Tensor,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
    ) -> None:
        if not isinstance(theta, torch.Tensor) or theta.ndim != 1:
            raise ValueError("theta must be the 1-D weight vector from flatten_parameters")
        if not isinstance(grad, torch.Tensor) or grad.shape != theta.shape:
            raise ValueError(f"grad must be the gradient vector from flatten_parameters, of "
                             f"theta's shape {tuple(theta.shape)}")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2) in [0, 1), got {betas!r}")
        self.theta, self.grad = theta, grad
        self.lr = as_float(lr, "lr", 0, low_open=True)
        self.beta1 = as_float(betas[0], "betas[0]", 0, 1, high_open=True)
        self.beta2 = as_float(betas[1], "betas[1]", 0, 1, high_open=True)
        # eps > 0 keeps the update finite where a weight's gradient has always been 0
        self.eps = as_float(eps, "eps", 0, low_open=True)
        self.weight_decay = as_float(weight_decay, "weight_decay", 0)
        self.amsgrad = as_bool(amsgrad, "amsgrad")
        self.exp_avg = torch.zeros_like(theta)  # m
        self.exp_avg_sq = torch.zeros_like(theta)  # v
        self.max_exp_avg_sq = torch.zeros_like(theta) if amsgrad else None  # v-hat
        self.steps = 0

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        bias_correction1 = 1 - self.beta1**self.steps
        bias_correction2_sqrt = math.sqrt(1 - self.beta2**self.steps)
        self.theta.mul_(1 - self.lr * self.weight_decay)
        self.exp_avg.lerp_(self.grad, 1 - self.beta1)
        self.exp_avg_sq.mul_(self.beta2).addcmul_(self.grad, self.grad, value=1 - self.beta2)
        second_moment = self.exp_avg_sq
        if self.max_exp_avg_sq is not None:
            torch.maximum(self.max_exp_avg_sq, self.exp_avg_sq, out=self.max_exp_avg_sq)
            second_moment = self.max_exp_avg_sq
        denom = (second_moment.sqrt() / bias_correction2_sqrt).add_(self.eps)
        self.theta.addcdiv_(self.exp_avg, denom, value=-self.lr / bias_correction1)


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class DQNConfig:
    """Every hyperparameter of the trainer. The defaults are exactly the seed guide's.

    Construct with keyword arguments; invalid values (NaN and infinity included)
    raise ``ValueError`` naming the field and its allowed range. NumPy numbers, as
    a sweep over ``np.linspace`` gives them, are stored as plain Python numbers.
    ``DQNConfig.recommended()`` is the series' tuned configuration.
    """

    batch_size: int = 128
    """Transitions per gradient step (seed: BATCH_SIZE). Larger: smoother, slower steps."""
    gamma: float = 0.99
    """Discount factor (seed: GAMMA). CartPole's horizon of ~100 steps needs it close to 1."""
    eps_start: float = 0.9
    """Exploration rate at step 0 (seed: EPS_START)."""
    eps_end: float = 0.05
    """Exploration rate it decays towards (seed: EPS_END)."""
    eps_decay: float = 1000.0
    """Time constant, in env steps, of ``eps = end + (start - end) * exp(-step / eps_decay)``."""
    tau: float = 0.005
    """Soft target update rate (seed: TAU): ``theta_tgt <- tau theta + (1 - tau) theta_tgt``."""
    lr: float = 1e-4
    """AdamW learning rate (seed: LR)."""
    memory_size: int = 10_000
    """Replay memory capacity (seed: ReplayMemory(10000))."""
    hidden: int = 128
    """Width of the two hidden layers (seed: 128)."""
    amsgrad: bool = True
    """AdamW's AMSGrad variant (seed: True)."""
    weight_decay: float = 0.01
    """AdamW's decoupled weight decay; 0.01 is torch's default, which the seed uses."""
    loss: str = "smooth_l1"
    """``"smooth_l1"`` (Huber, seed) or ``"mse"`` (squared TD error)."""
    grad_clip_value: float | None = 100.0
    """Clip every gradient element to ``[-v, v]`` (seed: 100); ``None`` to disable."""
    grad_clip_norm: float | None = None
    """Rescale the whole gradient to at most this L2 norm; ``None`` (seed) to disable."""
    train_every: int = 1
    """Env steps per gradient step (seed: 1, a gradient step after every env step)."""
    learning_starts: int | None = None
    """Env steps stored before the first gradient step, from ``batch_size`` to ``memory_size``;
    ``None`` means ``batch_size`` (seed)."""
    use_replay: bool = True
    """False: learn from each transition once, as it happens (batch of 1): lesson 03's naive DQN."""
    use_target_network: bool = True
    """False: the online network computes its own targets (lessons 03-05's ablations)."""
    target_update: str = "soft"
    """``"soft"``: Polyak update with ``tau`` every step (seed); ``"hard"``: copy every C steps."""
    target_update_every: int = 1000
    """C, the number of env steps between hard target updates."""
    double_dqn: bool = False
    """Double DQN target: the online net chooses a', the target net evaluates it (lesson 07)."""
    dueling: bool = False
    """Dueling architecture V(s) + A(s, a) - mean A (lesson 07)."""

    def __post_init__(self) -> None:
        def check(name: str, as_type: Callable[..., Any], *bounds: Any, **options: Any) -> None:
            # validate one field and store it as a plain Python value (see helpers.validation)
            object.__setattr__(self, name, as_type(getattr(self, name), name, *bounds, **options))

        check("batch_size", as_int, 1)
        check("gamma", as_float, 0, 1, low_open=True)
        check("eps_start", as_float, 0, 1)
        check("eps_end", as_float, 0, self.eps_start, why="at most eps_start")
        check("eps_decay", as_float, 0, low_open=True)
        check("tau", as_float, 0, 1, low_open=True)
        check("lr", as_float, 0, low_open=True)
        check("memory_size", as_int, 1)
        check("hidden", as_int, 1)
        check("amsgrad", as_bool)
        check("weight_decay", as_float, 0)
        check("loss", one_of, LOSSES)
        check("grad_clip_value", as_float, 0, low_open=True, none_ok=True)
        check("grad_clip_norm", as_float, 0, low_open=True, none_ok=True)
        check("train_every", as_int, 1)
        check("use_replay", as_bool)
        check("use_target_network", as_bool)
        check("target_update", one_of, ("soft", "hard"))
        check("target_update_every", as_int, 1)
        check("double_dqn", as_bool)
        check("dueling", as_bool)
        if self.use_replay:
            check("memory_size", as_int, self.batch_size, why="the memory must hold a batch")
            # the first gradient step needs a full batch; later than memory_size would never come
            check("learning_starts", as_int, self.batch_size, self.memory_size, none_ok=True,
                  why="from batch_size to memory_size")
        else:  # the memory holds only the newest transition
            check("learning_starts", as_int, 1, 1, none_ok=True,
                  why="without replay the memory holds one transition")

    def epsilon(self, step: int) -> float:
        """Exploration rate after ``step`` env steps: ``end + (start - end) exp(-step / decay)``."""
        return self.eps_end + (self.eps_start - self.eps_end) * math.exp(-step / self.eps_decay)

    def replace(self, **changes: Any) -> DQNConfig:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @classmethod
    def recommended(cls) -> DQNConfig:
        """The series' recommended configuration for CartPole, chosen by experiment.

        Compared with the seed: a 10x larger learning rate (1e-3), a 4x faster soft
        target update (tau = 0.02) and a slightly shorter horizon (gamma = 0.98),
        so that values propagate through the target network in fewer steps; a
        slower epsilon decay (2,000 steps); gradient-norm clipping at 10 instead of
        clipping each element at 100; and a Double DQN target. Train it with
        ``eval_every=2_000, keep_best=True`` so that a late collapse cannot cost
        the solved network. Evidence: ``benchmarks/RESULTS.md``
        (``python benchmarks/bench_dqn.py solve --config recommended``).
        """
        return cls(lr=1e-3, gamma=0.98, tau=0.02, eps_decay=2000.0, grad_clip_value=None,
                   grad_clip_norm=10.0, double_dqn=True)


def make_q_network(config: DQNConfig, n_observations: int, n_actions: int) -> nn.Module:
    """The Q-network a config asks for: :class:`DQN` or :class:`DuelingDQN`."""
    network = DuelingDQN if config.dueling else DQN
    return network(n_observations, n_actions, config.hidden)


# --------------------------------------------------------------------------- evaluation


def make_env(env_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make(env_id, **kwargs)`` for an environment the DQN code can handle.

    That is: a registered gymnasium id, a discrete action space numbered from 0 (one
    Q-value per action) and vector observations, shape ``(n_observations,)``.

    Raises:
        ValueError: naming what is wrong, instead of gymnasium's traceback.
    """
    if not isinstance(env_id, str):
        raise ValueError(f"env_id must be a registered gymnasium id (a string), got {env_id!r}")
    try:
        env = gym.make(env_id, **kwargs)
    except gym.error.Error as exc:
        raise ValueError(f"env_id must be a registered gymnasium id, got {env_id!r} ({exc})"
                         ) from None
    actions, observations = env.action_space, env.observation_space
    problem = None
    if not isinstance(actions, gym.spaces.Discrete) or actions.start != 0:
        problem = f"a discrete action space numbered from 0; {env_id!r} has {actions}"
    elif observations.shape is None or len(observations.shape) != 1:
        problem = f"vector observations; {env_id!r} has {observations}"
    if problem is not None:
        env.close()
        raise ValueError(f"env_id must name an environment with {problem}")
    return env


def solved_threshold(env_id: str) -> float | None:
    """The environment's ``reward_threshold`` (475 for CartPole-v1), if it has one."""
    if not isinstance(env_id, str):
        raise ValueError(f"env_id must be a registered gymnasium id (a string), got {env_id!r}")
    try:
        return gym.spec(env_id).reward_threshold
    except gym.error.Error as exc:
        raise ValueError(f"env_id must be a registered gymnasium id, got {env_id!r} ({exc})"
                         ) from None


@torch.no_grad()
@restoring_torch_state()  # it sets torch up as train_dqn does; put back on return
def evaluate(
    q_network: nn.Module,
    env_id: str = "CartPole-v1",
    n_episodes: int = 20,
    seed: int = 0,
) -> np.ndarray:
    """Returns of the greedy policy ``argmax_a Q(s, a)`` over ``n_episodes`` episodes.

    Episode ``i`` starts from ``env.reset(seed=seed + i)``, so the same network and
    seed always give the same returns. The episodes run side by side, one batched
    forward pass per step for all still-running episodes. CartPole-v1 counts as
    *solved* when the mean over 20 episodes is at least 475
    (``env.spec.reward_threshold``). The network is put in eval mode for the
    episodes and back in the mode it was in afterwards, even after an error.

    Like :func:`train_dqn`, it runs with one torch thread and denormals flushed
    (:func:`helpers.runtime.set_cpu_threads`) and puts both settings back afterwards:
    torch's default of one thread per core made it up to 80 times slower on a busy
    machine.

    Returns:
        A float array of shape ``(n_episodes,)``.

    Raises:
        ValueError: for a bad argument; a network whose input or output size does not
            fit the environment; or one whose Q-values are NaN or infinite -- its weights
            have diverged, and ``argmax`` would quietly pick action 0 for NaN.
    """
    if not isinstance(q_network, nn.Module):
        raise ValueError(f"q_network must be a torch.nn.Module, got {type(q_network).__name__}")
    n_episodes = as_int(n_episodes, "n_episodes", 1)
    seed = as_int(seed, "seed", 0)
    set_cpu_threads(1)
    envs = [make_env(env_id)]
    envs += [make_env(env_id) for _ in range(n_episodes - 1)]
    n_actions = int(envs[0].action_space.n)
    parameter = next(q_network.parameters(), None)
    device = torch.device("cpu") if parameter is None else parameter.device
    was_training = q_network.training
    q_network.eval()
    try:
        observations = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
        returns = np.zeros(n_episodes)
        running = list(range(n_episodes))
        while running:
            states = torch.as_tensor(np.array([observations[i] for i in running]),
                                     dtype=torch.float32, device=device)
            q_values = _checked_q_values(q_network, states, env_id, n_actions)
            actions = q_values.argmax(dim=1).tolist()  # (n_running,)
            still_running = []
            for i, action in zip(running, actions, strict=True):
                observations[i], reward, terminated, truncated, _ = envs[i].step(action)
                returns[i] += reward
                if not (terminated or truncated):
                    still_running.append(i)
            running = still_running
    finally:
        for env in envs:
            env.close()
        q_network.train(was_training)
    return returns


def _checked_q_values(
    q_network: nn.Module, states: torch.Tensor, env_id: str, n_actions: int
) -> torch.Tensor:
    """``q_network(states)``, shape ``(B, n_actions)``, or a ValueError saying what is wrong."""
    try:
        q_values = q_network(states)
    except RuntimeError as exc:  # e.g. a first layer of another input size
        raise ValueError(f"q_network cannot take {env_id}'s observations (shape "
                         f"{tuple(states.shape[1:])}): {exc}") from None
    if not isinstance(q_values, torch.Tensor) or q_values.shape != (len(states), n_actions):
        shape = tuple(q_values.shape) if isinstance(q_values, torch.Tensor) else q_values
        raise ValueError(f"q_network must output one Q-value per action of {env_id}, shape "
                         f"(batch, {n_actions}), got {shape}")
    if not torch.isfinite(q_values).all():
        raise ValueError("q_network outputs NaN or infinite Q-values: its weights have "
                         "diverged, so its greedy policy is meaningless")
    return q_values


# --------------------------------------------------------------------------- training


class StepInfo(NamedTuple):
    """What ``train_dqn(on_step=...)`` hands its hook after every gradient step.

    The networks and tensors are the live ones: read them (``policy_net(states)``
    under ``torch.no_grad()``, ``.clone()`` what you keep), never change them.
    """

    step: int
    """Env steps taken so far (the transition just stored is number ``step``)."""
    episode: int
    """The episode in progress, counted from 0."""
    policy_net: nn.Module
    """The online network Q(s, a; theta), just updated."""
    target_net: nn.Module
    """The target network Q(s, a; theta^-), just updated (soft or hard)."""
    batch: Batch
    """The minibatch this gradient step learned from."""
    loss: float
    """The minibatch loss before the update."""
    q_sa: torch.Tensor
    """Q(s, a; theta) of the minibatch before the update, shape (B,), detached."""
    epsilon: float
    """The exploration rate of this env step."""


@dataclass
class DQNResult:
    """What :func:`train_dqn` returns: the trained network and the story of its training.

    When training stops early -- interrupted, diverged, or a callback raised -- the
    exception carries the result so far in ``.result``: every list holds what
    happened up to that point (the episode in progress is not in
    ``episode_durations``; ``total_steps`` counts its steps).
    """

    policy_net: nn.Module
    """The trained online network (the best evaluated one if ``keep_best``)."""
    target_net: nn.Module
    config: DQNConfig
    seed: int
    episode_durations: list[int] = field(default_factory=list)
    """Length of each training episode in steps (for CartPole, also its return)."""
    episode_returns: list[float] = field(default_factory=list)
    """Undiscounted return of each training episode: the sum of the rewards the training
    environment gave (for a shaped environment, the shaped rewards)."""
    losses: list[float] = field(default_factory=list)
    """Loss of every gradient step."""
    mean_q: list[float] = field(default_factory=list)
    """Mean predicted Q(s, a) over each gradient step's minibatch."""
    epsilons: list[float] = field(default_factory=list)
    """Exploration rate at every env step."""
    eval_steps: list[int] = field(default_factory=list)
    """Env steps at which the greedy policy was evaluated."""
    eval_returns: list[float] = field(default_factory=list)
    """Mean greedy return at each evaluation."""
    solved_step: int | None = None
    """First evaluation step at which the greedy mean reached the threshold."""
    solved_seconds: float | None = None
    """Training seconds (evaluation time excluded) until ``solved_step``."""
    total_steps: int = 0
    train_seconds: float = 0.0
    """Wall-clock seconds spent training, evaluation time excluded."""
    eval_seconds: float = 0.0
    best_eval_return: float | None = None
    best_eval_step: int | None = None
    memory: ReplayBuffer | None = None
    """The replay buffer at the end of training (for inspection)."""
    final_net: nn.Module | None = None
    """The online network at the last step (a separate copy when ``keep_best`` is used)."""

    @property
    def episode_end_steps(self) -> np.ndarray:
        """The env step at which each training episode ended (the x-axis of training plots)."""
        return np.cumsum(np.asarray(self.episode_durations, dtype=np.int64))

    @property
    def steps_per_second(self) -> float:
        return self.total_steps / self.train_seconds if self.train_seconds > 0 else float("nan")


class TrainingDiverged(FloatingPointError):
    """:func:`train_dqn` stopped because the loss or the weights became NaN or infinite.

    The message says at which step and what to change. :attr:`result` holds the run
    so far: its ``losses`` end with the non-finite one, and with ``keep_best`` its
    ``policy_net`` is the best evaluated network (evaluated, so finite); ``final_net``
    is the diverged one. :attr:`step` is the env step at which it was noticed.
    """

    def __init__(self, message: str, result: DQNResult, step: int) -> None:
        super().__init__(message)
        self.result = result
        self.step = step


class TrainingInterrupted(KeyboardInterrupt):
    """:func:`train_dqn` was interrupted: Ctrl-C, or the stop button in Jupyter.

    It is a ``KeyboardInterrupt``, so "Run All" still stops at that cell. :attr:`result`
    holds the run so far; in Jupyter, take it back in the next cell with
    ``result = sys.last_value.result`` (in a script: ``except TrainingInterrupted as e``).
    """

    def __init__(self, message: str, result: DQNResult) -> None:
        super().__init__(message)
        self.result = result


_SO_FAR = "the run so far is in this exception's .result (in Jupyter: sys.last_value.result)"


def _diverged(result: DQNResult, step: int, what: str) -> TrainingDiverged:
    """The error for a run whose loss or weights stopped being finite numbers."""
    config = result.config
    advice = [f"a smaller lr (this run: {config.lr:g})"]
    if config.grad_clip_value is None and config.grad_clip_norm is None:
        advice.append("gradient clipping (e.g. grad_clip_norm=10)")
    if config.loss == "mse":
        advice.append("the Huber loss (loss='smooth_l1'), whose gradient is bounded")
    return TrainingDiverged(
        f"training diverged at env step {step} (gradient step {len(result.losses)}): {what}. "
        f"Try {' or '.join(advice)}; {_SO_FAR}", result, step)


def _check_same_spaces(env: gym.Env, eval_env_id: str) -> None:
    """A ValueError unless ``eval_env_id`` has ``env``'s observation and action spaces."""
    eval_env = make_env(eval_env_id)
    same = (eval_env.observation_space.shape == env.observation_space.shape
            and eval_env.action_space.n == env.action_space.n)
    eval_env.close()
    if not same:
        env.close()
        raise ValueError(f"eval_env_id must have the training environment's observation and "
                         f"action spaces; {eval_env_id!r} has {eval_env.observation_space} and "
                         f"{eval_env.action_space}")


def _as_device(device: Any) -> torch.device:
    """``torch.device(device)``, refusing names torch does not know and absent GPUs."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'cpu', 'cuda' or a torch.device, got {device!r}"
                         ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device must be 'cpu': this machine has no CUDA GPU")
    return device


@restoring_torch_state()  # torch's RNG, threads and denormal flushing: put back on return
def train_dqn(
    config: DQNConfig | None = None,
    env_id: str = "CartPole-v1",
    num_episodes: int = 600,
    seed: int = 0,
    max_steps: int | None = None,
    eval_every: int | None = None,
    eval_episodes: int = 20,
    stop_when_solved: bool = False,
    keep_best: bool = False,
    callback: Callable[[int, list[int]], None] | None = None,
    on_step: Callable[[StepInfo], None] | None = None,
    progress: bool = False,
    device: torch.device | str | None = None,
    num_threads: int = 1,
    eval_env_id: str | None = None,
) -> DQNResult:
    """Train a Deep Q-Network with epsilon-greedy exploration.

    Per environment step: choose an action epsilon-greedily, store the transition,
    take one gradient step on a minibatch (once ``learning_starts`` transitions are
    stored), and update the target network -- the seed guide's loop.

    Args:
        config: hyperparameters; ``None`` means ``DQNConfig()`` (the seed's).
        env_id: a gymnasium id with a discrete action space and vector observations.
        num_episodes: most episodes to train for.
        seed: fixes network initialisation, exploration, sampling and the environment.
        max_steps: stop after this many env steps (the episode in progress is cut short).
        eval_every: every this many env steps, evaluate the greedy policy on
            ``eval_episodes`` episodes (seeds ``10_000 + k``, unseen in training).
        stop_when_solved: end training at the first evaluation whose mean reaches
            the environment's reward threshold (475 for CartPole-v1).
        keep_best: return the network of the best evaluation instead of the last.
        callback: called as ``callback(episode, episode_durations)`` after every
            episode (e.g. a :class:`helpers.plotting.LivePlot`).
        on_step: called as ``on_step(info)`` after every gradient step (after the
            optimizer step and the target-network update), with a :class:`StepInfo`: the
            networks, the minibatch, the loss. Use it to record what happens inside
            training; a hook that only reads leaves the run bit for bit unchanged.
        progress: show a progress bar counting env steps (its total is ``max_steps``
            when given); it ends at 100 % whenever training ends normally.
        device: ``None`` picks CUDA when present, else the CPU.
        num_threads: torch CPU threads (1 is fastest for networks this small).
        eval_env_id: the environment the greedy evaluations play, and whose reward
            threshold defines *solved*; ``None`` means ``env_id``. Train on a shaped
            version of an environment and judge on the real one (lesson 08).

    Integer arguments accept NumPy integers too (never ``True``/``False``).

    Returns:
        A :class:`DQNResult`.

    Raises:
        ValueError: for a bad argument, before anything runs.
        TrainingDiverged: when the loss or the weights become NaN or infinite (the
            loss is checked at every gradient step, the weights before every
            evaluation and at the end), with the run so far in ``.result``.
        TrainingInterrupted: on Ctrl-C or Jupyter's stop button; a ``KeyboardInterrupt``
            with the run so far in ``.result`` (in Jupyter: ``sys.last_value.result``).
        An exception raised by ``callback`` passes through, with the run so far in
        its ``.result`` too.

    Global state: while it runs, it seeds torch's global random number generator,
    uses ``num_threads`` threads and flushes denormal floats to zero (see
    :func:`helpers.runtime.set_cpu_threads`); when it returns or raises, all three
    are put back as they were (:func:`helpers.runtime.restoring_torch_state`), so
    ``torch.randn(3)`` after it gives what it would have given without it. The
    environment and the progress bar are closed however training ends.
    """
    config = DQNConfig() if config is None else config
    if not isinstance(config, DQNConfig):
        raise ValueError(f"config must be a DQNConfig, got {type(config).__name__}")
    num_episodes = as_int(num_episodes, "num_episodes", 1)
    seed = as_seed(seed)
    max_steps = as_int(max_steps, "max_steps", 1, none_ok=True)
    eval_every = as_int(eval_every, "eval_every", 1, none_ok=True)
    eval_episodes = as_int(eval_episodes, "eval_episodes", 1)
    stop_when_solved = as_bool(stop_when_solved, "stop_when_solved")
    keep_best = as_bool(keep_best, "keep_best")
    progress = as_bool(progress, "progress")
    num_threads = as_int(num_threads, "num_threads", 1)
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be a function callback(episode, durations) or None, "
                         f"got {callback!r}")
    if on_step is not None and not callable(on_step):
        raise ValueError(f"on_step must be a function on_step(info) or None, got {on_step!r}")
    device = pick_device() if device is None else _as_device(device)
    if (stop_when_solved or keep_best) and eval_every is None:
        raise ValueError("eval_every must be set when stop_when_solved or keep_best is used")
    if eval_env_id is not None and not isinstance(eval_env_id, str):
        raise ValueError(f"eval_env_id must be a registered gymnasium id (a string) or None, "
                         f"got {eval_env_id!r}")
    eval_env_id = env_id if eval_env_id is None else eval_env_id
    threshold = solved_threshold(eval_env_id)
    if stop_when_solved and threshold is None:
        raise ValueError(f"env_id {eval_env_id!r} has no reward_threshold, so it cannot be "
                         "'solved'")
    env = make_env(env_id)
    if eval_env_id != env_id:
        _check_same_spaces(env, eval_env_id)
    set_cpu_threads(num_threads)
    # --- reproducibility: one seed for everything random in the run
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)  # epsilon-greedy coin flips
    replay_rng = np.random.default_rng([seed, 1])  # replay sampling, its own stream
    env.action_space.seed(seed)  # random actions
    observation, _ = env.reset(seed=seed)

    n_observations = env.observation_space.shape[0]
    n_actions = int(env.action_space.n)
    policy_net = make_q_network(config, n_observations, n_actions).to(device)
    target_net = make_q_network(config, n_observations, n_actions).to(device)
    target_net.load_state_dict(policy_net.state_dict())
    target_net.requires_grad_(False)
    # theta, theta_target: all weights of each network as one vector (see flatten_parameters)
    theta, grad = flatten_parameters(policy_net)
    theta_target, _ = flatten_parameters(target_net)
    optimizer = FlatAdamW(theta, grad, lr=config.lr, amsgrad=config.amsgrad,
                          weight_decay=config.weight_decay)
    # Naive online learning = a memory that holds only the newest transition.
    capacity = config.memory_size if config.use_replay else 1
    batch_size = config.batch_size if config.use_replay else 1
    learning_starts = config.learning_starts or batch_size
    memory = ReplayBuffer(capacity, (n_observations,), device, replay_rng)
    bootstrap_net = target_net if config.use_target_network else policy_net
    backprop_by_hand = type(policy_net) is DQN  # see dqn_loss_backward

    result = DQNResult(policy_net=policy_net, target_net=target_net, config=config, seed=seed,
                       memory=memory)
    best_state: dict[str, torch.Tensor] | None = None
    bar = None
    if progress:
        from helpers.display import progress_bar

        bar = progress_bar(total=max_steps, desc="env steps", unit="step")

    steps_done = 0
    episode_return = 0.0
    train_start = time.perf_counter()
    eval_time = 0.0
    stop = False
    try:
        for episode in range(num_episodes):
            if episode > 0:
                observation, _ = env.reset()
            for t in range(1, 10**9):
                # --- act: epsilon-greedy on Q(s, .; theta)
                epsilon = config.epsilon(steps_done)
                result.epsilons.append(epsilon)
                steps_done += 1
                if rng.random() > epsilon:
                    with torch.no_grad():
                        # (n_obs,); float32 even where the environment gives float64
                        state = torch.from_numpy(np.asarray(observation, dtype=np.float32))
                        if device.type != "cpu":
                            state = state.to(device)
                        action = int(policy_net(state).argmax())  # Q(s, .): (n_actions,)
                else:
                    action = int(env.action_space.sample())
                next_observation, reward, terminated, truncated, _ = env.step(action)
                episode_return += float(reward)
                memory._write(observation, action, reward, next_observation, terminated)
                observation = next_observation

                # --- learn: one gradient step on a minibatch
                learned = (len(memory) >= learning_starts
                           and steps_done % config.train_every == 0)
                if learned:
                    batch = memory.sample(batch_size)
                    if backprop_by_hand:  # bit for bit the gradients below, faster
                        loss, q_sa = dqn_loss_backward(policy_net, bootstrap_net, batch,
                                                       config.gamma, config.double_dqn,
                                                       config.loss)
                    else:
                        loss, q_sa = dqn_loss(policy_net, bootstrap_net, batch, config.gamma,
                                              config.double_dqn, config.loss)
                        grad.zero_()
                        loss.backward()  # gradients accumulate into `grad`
                    if config.grad_clip_value is not None:  # every element into [-c, c]
                        grad.clamp_(-config.grad_clip_value, config.grad_clip_value)
                    if config.grad_clip_norm is not None:  # the whole vector to norm <= c
                        grad.mul_(torch.clamp(config.grad_clip_norm / (grad.norm() + 1e-6),
                                              max=1.0))
                    optimizer.step()
                    loss_value = loss.item()
                    result.losses.append(loss_value)
                    result.mean_q.append(q_sa.mean().item())
                    if not math.isfinite(loss_value):  # costs nothing: the loss is logged
                        raise _diverged(result, steps_done, f"the loss is {loss_value}")

                # --- update the target network
                if config.use_target_network:
                    if config.target_update == "soft":
                        theta_target.lerp_(theta, config.tau)  # tau theta + (1-tau) theta_tgt
                    elif steps_done % config.target_update_every == 0:
                        theta_target.copy_(theta)
                if on_step is not None and learned:
                    on_step(StepInfo(steps_done, episode, policy_net, target_net, batch,
                                     loss_value, q_sa.detach(), epsilon))

                # --- evaluate the greedy policy now and then
                if eval_every is not None and steps_done % eval_every == 0:
                    if not torch.isfinite(theta).all():  # never evaluate, or keep, NaNs
                        raise _diverged(result, steps_done, "the weights are NaN or infinite")
                    eval_start = time.perf_counter()
                    mean_return = float(evaluate(policy_net, eval_env_id, eval_episodes,
                                                 seed=10_000).mean())
                    eval_time += time.perf_counter() - eval_start
                    result.eval_steps.append(steps_done)
                    result.eval_returns.append(mean_return)
                    best = result.best_eval_return
                    if best is None or mean_return >= best:
                        result.best_eval_return, result.best_eval_step = mean_return, steps_done
                        if keep_best:
                            best_state = {k: v.clone()
                                          for k, v in policy_net.state_dict().items()}
                    solved = threshold is not None and mean_return >= threshold
                    if solved and result.solved_step is None:
                        result.solved_step = steps_done
                        result.solved_seconds = time.perf_counter() - train_start - eval_time
                        stop = stop_when_solved

                done = terminated or truncated or stop
                if max_steps is not None and steps_done >= max_steps:
                    done = stop = True
                if done:
                    result.episode_durations.append(t)
                    result.episode_returns.append(episode_return)
                    episode_return = 0.0
                    break
            if bar is not None:
                recent = result.episode_durations[-20:]
                bar.set_postfix_str(f"episode {episode + 1}, last 20 episodes' mean "
                                    f"{sum(recent) / len(recent):.0f}", refresh=False)
                bar.update(steps_done - bar.n)
            if callback is not None:
                callback(episode, result.episode_durations)
            if stop:
                break
        if not torch.isfinite(theta).all():  # the last gradient step's loss is unchecked
            raise _diverged(result, steps_done, "the weights are NaN or infinite")
        if bar is not None:  # ended normally (budget, solved, or out of episodes)
            finish(bar)
    except KeyboardInterrupt:
        raise TrainingInterrupted(f"training interrupted at env step {steps_done}; "
                                  f"{_SO_FAR}", result) from None
    except Exception as exc:
        if not hasattr(exc, "result"):  # e.g. from the callback; TrainingDiverged has one
            exc.result = result
            exc.add_note(f"train_dqn stopped at env step {steps_done}; {_SO_FAR}")
        raise
    finally:
        if bar is not None:
            bar.close()  # after an error or an interrupt the bar stays red, short of 100 %
        env.close()
        result.total_steps = steps_done
        result.eval_seconds = eval_time
        result.train_seconds = time.perf_counter() - train_start - eval_time
        result.final_net = policy_net
        if keep_best and best_state is not None:
            result.final_net = make_q_network(config, n_observations, n_actions).to(device)
            result.final_net.load_state_dict(policy_net.state_dict())
            policy_net.load_state_dict(best_state)
    return result


# --------------------------------------------------------------------------- checkpoints

_CHECKPOINT_FORMAT = 1


def save_checkpoint(path: str | os.PathLike, net: nn.Module, config: DQNConfig) -> Path:
    """Save a Q-network and its config to ``path``, atomically.

    The file is written to a temporary name in the same folder and then renamed
    over ``path``, so a crash mid-write never leaves a half-written checkpoint.

    Raises:
        ValueError: if ``net`` is not the network ``config`` describes (a
            :class:`DuelingDQN` exactly when ``config.dueling``, ``config.hidden``
            units wide), if its weights are NaN or infinite (a diverged network), or
            if ``path`` is a folder.
    """
    path = Path(path)
    if not isinstance(config, DQNConfig):
        raise ValueError(f"config must be a DQNConfig, got {type(config).__name__}")
    if not isinstance(net, (DQN, DuelingDQN)):
        raise ValueError(f"net must be a DQN or DuelingDQN, got {type(net).__name__}")
    wanted = DuelingDQN if config.dueling else DQN
    if not isinstance(net, wanted) or net.layer1.out_features != config.hidden:
        raise ValueError(
            f"net must be the network config describes, a {wanted.__name__} with hidden="
            f"{config.hidden}; got a {type(net).__name__} with hidden={net.layer1.out_features}"
        )
    if not all(torch.isfinite(p).all() for p in net.parameters()):
        raise ValueError("net has NaN or infinite weights (training diverged); not saved")
    if path.is_dir():
        raise ValueError(f"path must name a file, but {path} is a folder")
    head = net.layer3 if isinstance(net, DQN) else net.advantage_head
    payload = {
        "format": _CHECKPOINT_FORMAT,
        "config": asdict(config),
        "n_observations": net.layer1.in_features,
        "n_actions": head.out_features,
        "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return path


def load_checkpoint(path: str | os.PathLike) -> tuple[nn.Module, DQNConfig]:
    """Load ``(net, config)`` saved by :func:`save_checkpoint`.

    The file is read with ``weights_only=True``: tensors and plain Python values only,
    so a file crafted to run code when unpickled is refused, never executed.

    Raises:
        FileNotFoundError: if there is no file at ``path``.
        ValueError: if the file is not a checkpoint written by :func:`save_checkpoint`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != _CHECKPOINT_FORMAT:
            raise ValueError("not a checkpoint written by helpers.dqn.save_checkpoint")
        known = {f.name for f in fields(DQNConfig)}
        config = DQNConfig(**{k: v for k, v in payload["config"].items() if k in known})
        net = make_q_network(config, payload["n_observations"], payload["n_actions"])
        net.load_state_dict(payload["state_dict"])
    except Exception as exc:
        if isinstance(exc, pickle.UnpicklingError) and "Weights only load failed" in str(exc):
            # torch's message goes on to suggest weights_only=False: exactly what not to do
            reason = ("it holds Python objects other than tensors and plain values, which "
                      "save_checkpoint never writes, and unpickling them could run any code")
        else:
            reason = str(exc)
        raise ValueError(f"checkpoint {path} is corrupt or not a DQN checkpoint: {reason}"
                         ) from None
    return net, config
