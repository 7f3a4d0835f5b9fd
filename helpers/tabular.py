"""Tabular methods: dynamic programming with a known model (lesson 01) and learning
from experience without one (lessons 02 and 07).

Conventions used throughout:

- States and actions are integers ``0 .. n_states-1`` and ``0 .. n_actions-1``.
- ``V`` is an array of shape ``(n_states,)``; ``Q`` and policies have shape
  ``(n_states, n_actions)``; a policy row holds the probabilities pi(a|s).
- A transition that *terminates* the episode does not bootstrap: nothing is
  added after it. A time-limit *truncation* is not part of the MDP; learning
  algorithms keep bootstrapping through it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "tabular_model",
    "bellman_backup",
    "value_iteration",
    "policy_evaluation",
    "greedy_policy",
]


def _check_gamma(gamma: float) -> float:
    if not isinstance(gamma, (int, float, np.floating)) or not 0.0 < float(gamma) <= 1.0:
        raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
    return float(gamma)


def _check_theta(theta: float) -> float:
    if not isinstance(theta, (int, float, np.floating)) or not float(theta) > 0.0:
        raise ValueError(f"theta must be > 0, got {theta!r}")
    return float(theta)


def tabular_model(env: Any) -> tuple[np.ndarray, np.ndarray]:
    """Read a gymnasium toy-text environment's model into two arrays.

    Toy-text environments (FrozenLake, CliffWalking, Taxi, ...) expose their
    dynamics as ``env.unwrapped.P[s][a] = [(prob, next_state, reward, terminated), ...]``.

    Returns:
        ``(T, R)`` where ``T[s, a, s2]`` is the probability of moving to ``s2`` *and
        continuing* (terminating transitions are left out, so they never
        bootstrap), shape ``(n_states, n_actions, n_states)``; and ``R[s, a]`` is the
        expected immediate reward, shape ``(n_states, n_actions)``.

    Raises:
        ValueError: if ``env`` has no tabular model (``P``) or discrete spaces.
    """
    unwrapped = getattr(env, "unwrapped", env)
    model = getattr(unwrapped, "P", None)
    n_states = getattr(getattr(env, "observation_space", None), "n", None)
    n_actions = getattr(getattr(env, "action_space", None), "n", None)
    if not isinstance(model, dict) or n_states is None or n_actions is None:
        raise ValueError(
            "env must be a tabular environment with discrete observation and action "
            "spaces and a model env.unwrapped.P (e.g. FrozenLake-v1, CliffWalking-v1)"
        )
    n_states, n_actions = int(n_states), int(n_actions)
    T = np.zeros((n_states, n_actions, n_states))
    R = np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            for prob, s_next, reward, terminated in model[s][a]:
                R[s, a] += prob * reward
                if not terminated:
                    T[s, a, s_next] += prob
    return T, R


def bellman_backup(T: np.ndarray, R: np.ndarray, V: np.ndarray, gamma: float) -> np.ndarray:
    """One Bellman backup for every state-action pair at once.

    .. math:: Q(s, a) = R(s, a) + \\gamma \\sum_{s'} T(s, a, s') V(s')

    Returns ``Q`` of shape ``(n_states, n_actions)``.
    """
    return R + gamma * T @ V


def value_iteration(
    env: Any,
    gamma: float,
    theta: float = 1e-10,
    max_iterations: int = 100_000,
    return_deltas: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, list[float]]:
    """Compute V* and Q* by repeating the Bellman optimality backup.

    .. math:: V_{k+1}(s) = \\max_a \\Big[ R(s,a) + \\gamma \\sum_{s'} T(s,a,s') V_k(s') \\Big]

    Sweeps until the largest change ``max_s |V_{k+1}(s) - V_k(s)|`` is below ``theta``.

    Args:
        env: a tabular gymnasium environment (see :func:`tabular_model`).
        gamma: discount factor in (0, 1]. With ``gamma = 1`` the iteration
            converges only if every policy eventually terminates; otherwise a
            ``ValueError`` is raised after ``max_iterations`` sweeps.
        theta: stopping tolerance, > 0.
        max_iterations: most sweeps to run.
        return_deltas: also return the list of ``max |Delta V|`` per sweep.

    Returns:
        ``(V, Q)`` with shapes ``(n_states,)`` and ``(n_states, n_actions)``, and the
        list of deltas when ``return_deltas`` is true.
    """
    gamma = _check_gamma(gamma)
    theta = _check_theta(theta)
    T, R = tabular_model(env)
    V = np.zeros(T.shape[0])
    deltas: list[float] = []
    for _ in range(max_iterations):
        Q = bellman_backup(T, R, V, gamma)
        V_new = Q.max(axis=1)
        delta = float(np.max(np.abs(V_new - V)))
        V = V_new
        deltas.append(delta)
        if delta < theta:
            break
    else:
        raise ValueError(
            f"value iteration did not converge in {max_iterations} sweeps with gamma={gamma}; "
            "gamma = 1 converges only when every episode terminates, use gamma < 1"
        )
    Q = bellman_backup(T, R, V, gamma)
    if return_deltas:
        return V, Q, deltas
    return V, Q


def policy_evaluation(
    env: Any,
    policy: np.ndarray,
    gamma: float,
    theta: float = 1e-10,
    max_iterations: int = 100_000,
) -> np.ndarray:
    """Compute V^pi for a (possibly stochastic) policy with the Bellman expectation backup.

    .. math:: V_{k+1}(s) = \\sum_a \\pi(a|s) \\Big[ R(s,a) + \\gamma \\sum_{s'} T(s,a,s') V_k(s') \\Big]

    Args:
        env: a tabular gymnasium environment.
        policy: array ``(n_states, n_actions)`` of probabilities; each row sums to 1.
        gamma: discount factor in (0, 1] (1 only if the policy always terminates).
        theta: stopping tolerance, > 0.

    Returns:
        ``V`` of shape ``(n_states,)``.
    """
    gamma = _check_gamma(gamma)
    theta = _check_theta(theta)
    T, R = tabular_model(env)
    policy = np.asarray(policy, dtype=float)
    if policy.shape != R.shape:
        raise ValueError(f"policy must have shape {R.shape} (n_states, n_actions), got {policy.shape}")
    if np.any(policy < 0) or not np.allclose(policy.sum(axis=1), 1.0, atol=1e-8):
        raise ValueError("policy rows must be probabilities: non-negative and summing to 1")
    V = np.zeros(T.shape[0])
    for _ in range(max_iterations):
        V_new = np.sum(policy * bellman_backup(T, R, V, gamma), axis=1)
        delta = float(np.max(np.abs(V_new - V)))
        V = V_new
        if delta < theta:
            return V
    raise ValueError(
        f"policy evaluation did not converge in {max_iterations} sweeps with gamma={gamma}; "
        "gamma = 1 converges only when the policy always terminates, use gamma < 1"
    )


def greedy_policy(Q: np.ndarray) -> np.ndarray:
    """The deterministic policy that picks ``argmax_a Q[s, a]`` in every state.

    Returned as one-hot rows, shape ``(n_states, n_actions)``, so it can be passed
    straight to :func:`policy_evaluation`. Ties go to the lowest action index.
    """
    Q = np.asarray(Q, dtype=float)
    if Q.ndim != 2:
        raise ValueError(f"Q must have shape (n_states, n_actions), got {Q.shape}")
    policy = np.zeros_like(Q)
    policy[np.arange(Q.shape[0]), Q.argmax(axis=1)] = 1.0
    return policy
