"""Tabular methods: dynamic programming with a known model and a batch episode
simulator (lesson 01), and learning from experience without a model (lessons 02 and 07).

Conventions used throughout:

- States and actions are integers ``0 .. n_states-1`` and ``0 .. n_actions-1``.
- ``V`` is an array of shape ``(n_states,)``; ``Q`` and policies have shape
  ``(n_states, n_actions)``; a policy row holds the probabilities pi(a|s).
- A transition that *terminates* the episode does not bootstrap: nothing is
  added after it. A time-limit *truncation* is not part of the MDP; learning
  algorithms keep bootstrapping through it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np
from gymnasium.spaces import Discrete
from gymnasium.utils import seeding

from helpers.validation import as_float, as_int

__all__ = [
    "tabular_model",
    "bellman_backup",
    "value_iteration",
    "policy_evaluation",
    "greedy_policy",
    "finite_horizon_evaluation",
    "OutcomeTable",
    "outcome_table",
    "step_many",
    "sample_actions",
    "simulate_episodes",
    "epsilon_greedy",
    "agent_rng",
    "linear_decay",
    "TabularResult",
    "q_learning",
    "sarsa",
]


def _check_sweep_args(gamma: Any, theta: Any, max_iterations: Any) -> tuple[float, float, int]:
    """The arguments shared by the iterative solvers, checked (see helpers.validation)."""
    return (as_float(gamma, "gamma", 0, 1, low_open=True),
            as_float(theta, "theta", 0, low_open=True),
            as_int(max_iterations, "max_iterations", 1))


def _not_converged(what: str, max_iterations: int, delta: float, theta: float,
                   gamma: float) -> ValueError:
    advice = ("with gamma = 1 the values converge only if the expected total reward is "
              "finite (for instance when every episode terminates, or a loop that never "
              "ends pays no reward): use gamma < 1, or " if gamma == 1.0 else "")
    return ValueError(
        f"{what} did not converge in max_iterations = {max_iterations} sweeps (the last "
        f"changed V by {delta:.3g}, theta = {theta:g}); {advice}raise max_iterations or theta"
    )


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
        gamma: discount factor in (0, 1]. With ``gamma = 1``, sweep ``k`` holds the
            best expected total reward of the first ``k`` steps, and the iteration
            converges exactly when that has a finite limit as ``k`` grows. It does
            when every policy reaches a terminal state with probability 1, and also
            when rewards are non-negative and no policy can collect more than a
            bounded total: on FrozenLake some policies loop forever, yet ``V*`` is the
            probability of ever reaching the goal (lesson 01). Otherwise (say, a
            loop that keeps paying reward: ``V`` grows without bound) a ``ValueError``
            is raised after ``max_iterations`` sweeps.
        theta: stopping tolerance, > 0.
        max_iterations: most sweeps to run, an integer >= 1.
        return_deltas: also return the list of ``max |Delta V|`` per sweep.

    Returns:
        ``(V, Q)`` with shapes ``(n_states,)`` and ``(n_states, n_actions)``, and the
        list of deltas when ``return_deltas`` is true.
    """
    gamma, theta, max_iterations = _check_sweep_args(gamma, theta, max_iterations)
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
        raise _not_converged("value iteration", max_iterations, delta, theta, gamma)
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

    .. math::
        V_{k+1}(s) = \\sum_a \\pi(a|s) \\Big[ R(s,a) + \\gamma \\sum_{s'} T(s,a,s') V_k(s') \\Big]

    Args:
        env: a tabular gymnasium environment.
        policy: array ``(n_states, n_actions)`` of probabilities; each row sums to 1.
        gamma: discount factor in (0, 1]. With ``gamma = 1``, sweep ``k`` holds the
            policy's expected total reward of the first ``k`` steps, and evaluation
            converges exactly when that has a finite limit as ``k`` grows. It does
            when the policy reaches a terminal state with probability 1 from every
            state (then geometrically fast), and also when the episodes that never
            end stop collecting reward: lesson 01's FrozenLake policy that pushes
            "up" along the top row forever has value 0. Otherwise (say, a loop that
            keeps paying reward: ``V`` grows without bound) a ``ValueError`` is raised
            after ``max_iterations`` sweeps.
        theta: stopping tolerance, > 0.
        max_iterations: most sweeps to run, an integer >= 1.

    Returns:
        ``V`` of shape ``(n_states,)``.
    """
    gamma, theta, max_iterations = _check_sweep_args(gamma, theta, max_iterations)
    T, R = tabular_model(env)
    policy = np.asarray(policy, dtype=float)
    if policy.shape != R.shape:
        raise ValueError(
            f"policy must have shape {R.shape} (n_states, n_actions), got {policy.shape}"
        )
    if np.any(policy < 0) or not np.allclose(policy.sum(axis=1), 1.0, atol=1e-8):
        raise ValueError("policy rows must be probabilities: non-negative and summing to 1")
    V = np.zeros(T.shape[0])
    for _ in range(max_iterations):
        V_new = np.sum(policy * bellman_backup(T, R, V, gamma), axis=1)
        delta = float(np.max(np.abs(V_new - V)))
        V = V_new
        if delta < theta:
            return V
    raise _not_converged("policy evaluation", max_iterations, delta, theta, gamma)


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


def finite_horizon_evaluation(env: Any, policy: np.ndarray, horizon: int) -> np.ndarray:
    """Expected undiscounted return of the first ``horizon`` steps, from every start state.

    .. math::
        V_0(s) = 0, \\qquad
        V_h(s) = \\sum_a \\pi(a|s) \\Big[ R(s,a) + \\sum_{s'} T(s,a,s') V_{h-1}(s') \\Big]

    This is the exact value of an episode that a time limit cuts off after ``horizon``
    steps (gymnasium's ``TimeLimit``), with no sampling error. On FrozenLake, where the
    only reward is 1 for reaching the goal, ``V_H(s)`` is the probability of reaching
    the goal within ``H`` steps: the policy's success rate.

    Args:
        env: a tabular gymnasium environment (see :func:`tabular_model`).
        policy: array ``(n_states, n_actions)`` of probabilities; each row sums to 1.
        horizon: number of steps, an integer >= 1.

    Returns:
        ``V_H`` of shape ``(n_states,)``.
    """
    horizon = as_int(horizon, "horizon", 1)
    T, R = tabular_model(env)
    policy = np.asarray(policy, dtype=float)
    if policy.shape != R.shape:
        raise ValueError(
            f"policy must have shape {R.shape} (n_states, n_actions), got {policy.shape}"
        )
    if np.any(policy < 0) or not np.allclose(policy.sum(axis=1), 1.0, atol=1e-8):
        raise ValueError("policy rows must be probabilities: non-negative and summing to 1")
    V = np.zeros(T.shape[0])
    for _ in range(horizon):
        V = np.sum(policy * bellman_backup(T, R, V, 1.0), axis=1)
    return V


# ---------------------------------------------------------------------------------------
# Many episodes at once from the model (lesson 01): the batch simulator that lesson 01
# teaches and uses for its Monte-Carlo estimates. It draws the same uniform number per
# step as ``env.step`` and picks the outcome the same way, so with the environment's
# generator it reproduces ``env.step`` exactly (lesson 01 shows it step for step).
# ---------------------------------------------------------------------------------------


class OutcomeTable(NamedTuple):
    """``P[s][a]`` as padded arrays, each of shape ``(n_states, n_actions, max_outcomes)``.

    Attributes:
        cum_probs: cumulative probability of the outcomes of ``(s, a)``, in the order of
            ``P[s][a]``; padding entries are ``inf`` (never chosen).
        next_states: the next state of each outcome (integers).
        rewards: the reward of each outcome.
        terminals: whether each outcome terminates the episode (booleans).
    """

    cum_probs: np.ndarray
    next_states: np.ndarray
    rewards: np.ndarray
    terminals: np.ndarray


def outcome_table(P: Any, n_states: int, n_actions: int) -> OutcomeTable:
    """Store a gymnasium toy-text model ``P[s][a] = [(prob, next_state, reward,
    terminated), ...]`` as padded arrays (see :class:`OutcomeTable`) for :func:`step_many`.

    Raises:
        ValueError: if ``n_states`` or ``n_actions`` is not a positive integer, or ``P``
            lacks an ``(s, a)`` pair or has an empty list of outcomes.
    """
    n_states = as_int(n_states, "n_states", 1)
    n_actions = as_int(n_actions, "n_actions", 1)
    try:
        outcome_lists = [[list(P[s][a]) for a in range(n_actions)] for s in range(n_states)]
    except (KeyError, IndexError, TypeError) as error:
        raise ValueError(
            f"P must map every state 0..{n_states - 1} and action 0..{n_actions - 1} to a "
            f"list of (prob, next_state, reward, terminated) tuples ({error!r})"
        ) from None
    if any(not outcomes for row in outcome_lists for outcomes in row):
        raise ValueError("P must list at least one outcome for every (state, action)")
    n_outcomes = max(len(outcomes) for row in outcome_lists for outcomes in row)
    shape = (n_states, n_actions, n_outcomes)
    cum_probs, next_states = np.full(shape, np.inf), np.zeros(shape, dtype=int)
    rewards, terminals = np.zeros(shape), np.zeros(shape, dtype=bool)
    for s, row in enumerate(outcome_lists):
        for a, outcomes in enumerate(row):
            n = len(outcomes)
            # pad with copies of the last outcome (never chosen: its cumulative prob is inf)
            padded = outcomes + [outcomes[-1]] * (n_outcomes - n)
            probs, nexts, rews, dones = zip(*padded, strict=True)
            cum_probs[s, a, :n] = np.cumsum(probs[:n])
            next_states[s, a], rewards[s, a], terminals[s, a] = nexts, rews, dones
    return OutcomeTable(cum_probs, next_states, rewards, terminals)


def _flat_table(table: OutcomeTable) -> tuple[np.ndarray, ...]:
    """The table with (state, action) flattened to one index, for faster gathers."""
    n_states, n_actions, n_outcomes = table.cum_probs.shape
    return (table.cum_probs.reshape(n_states * n_actions, n_outcomes),
            table.next_states.ravel(), table.rewards.ravel(), table.terminals.ravel())


def _step_flat(flat: tuple[np.ndarray, ...], n_actions: int, states: np.ndarray,
               actions: np.ndarray, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cum_probs, next_states, rewards, terminals = flat
    pair = states * n_actions + actions                               # (batch,)
    u = rng.random(states.shape)                                      # (batch,)
    k = np.argmax(cum_probs[pair] > u[:, None], axis=1)               # outcome index
    outcome = pair * cum_probs.shape[1] + k
    return next_states[outcome], rewards[outcome], terminals[outcome]


def _check_table(table: Any) -> OutcomeTable:
    if not isinstance(table, OutcomeTable):
        raise ValueError(
            f"table must be an OutcomeTable from outcome_table(P, n_states, n_actions), "
            f"got {type(table).__name__}"
        )
    return table


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def _check_indices(values: Any, name: str, n: int) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer) or (
            array.size and (array.min() < 0 or array.max() >= n)):
        raise ValueError(f"{name} must be a 1-D array of integers in 0..{n - 1}")
    return array


def step_many(table: OutcomeTable, states: np.ndarray, actions: np.ndarray,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One ``env.step`` for a batch of episodes.

    For each episode one uniform ``u`` is drawn from ``rng`` and the first outcome whose
    cumulative probability exceeds ``u`` is taken, as gymnasium's toy-text
    environments do.

    Args:
        table: from :func:`outcome_table`.
        states, actions: integer arrays of shape ``(batch,)``.
        rng: a ``numpy.random.Generator``; ``batch`` numbers are drawn from it.

    Returns:
        ``(next_states, rewards, terminated)``, each of shape ``(batch,)``.
    """
    table, rng = _check_table(table), _check_rng(rng)
    n_states, n_actions, _ = table.cum_probs.shape
    states = _check_indices(states, "states", n_states)
    actions = _check_indices(actions, "actions", n_actions)
    if states.shape != actions.shape:
        raise ValueError(f"states and actions must have the same shape, got {states.shape} "
                         f"and {actions.shape}")
    return _step_flat(_flat_table(table), n_actions, states, actions, rng)


def _check_policy_table(policy: Any, shape: tuple[int, int]) -> np.ndarray:
    policy = np.asarray(policy, dtype=float)
    if policy.shape != shape:
        raise ValueError(f"policy must have shape {shape} (n_states, n_actions), "
                         f"got {policy.shape}")
    if np.any(policy < 0) or not np.allclose(policy.sum(axis=1), 1.0, atol=1e-8):
        raise ValueError("policy rows must be probabilities: non-negative and summing to 1")
    return policy


def _sample_from_cumulative(cum_policy: np.ndarray, states: np.ndarray,
                            rng: np.random.Generator) -> np.ndarray:
    u = rng.random((states.size, 1))                                  # (batch, 1)
    return np.argmax(cum_policy[states] > u, axis=1)


def sample_actions(policy: np.ndarray, states: np.ndarray, rng: np.random.Generator
                   ) -> np.ndarray:
    """Draw ``a ~ pi(.|s)`` for a batch of states, one uniform number per state.

    Args:
        policy: ``(n_states, n_actions)`` probabilities ``pi(a|s)``, rows summing to 1.
        states: integer array ``(batch,)``.
        rng: a ``numpy.random.Generator``.

    Returns:
        The actions, an integer array ``(batch,)``: the first action whose cumulative
        probability exceeds the uniform draw.
    """
    rng = _check_rng(rng)
    policy = np.asarray(policy, dtype=float)
    if policy.ndim != 2:
        raise ValueError(f"policy must have shape (n_states, n_actions), got {policy.shape}")
    policy = _check_policy_table(policy, policy.shape)
    states = _check_indices(states, "states", policy.shape[0])
    return _sample_from_cumulative(np.cumsum(policy, axis=1), states, rng)


def simulate_episodes(
    table: OutcomeTable,
    policy: np.ndarray,
    start_states: np.ndarray,
    gamma: float,
    max_steps: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Play one episode from each start state, all at once, following ``policy``.

    Each step draws the actions of the episodes still running (:func:`sample_actions`),
    then their outcomes (:func:`step_many`), in the order of ``start_states``; the
    results are exactly those of lesson 01's ``simulate_episodes`` with the same
    ``rng``. Nothing is added after a terminating step.

    Args:
        table: from :func:`outcome_table`.
        policy: ``(n_states, n_actions)`` probabilities, rows summing to 1.
        start_states: integer array ``(batch,)``.
        gamma: discount factor in [0, 1].
        max_steps: episodes still running after this many steps are cut off, >= 1.
        rng: a ``numpy.random.Generator``.

    Returns:
        ``(returns, lengths, cut_off)``, each ``(batch,)``: the discounted return
        ``sum_t gamma^t r_{t+1}``, the number of steps, and ``True`` where the episode
        was still running after ``max_steps`` steps.
    """
    table, rng = _check_table(table), _check_rng(rng)
    n_states, n_actions, _ = table.cum_probs.shape
    cum_policy = np.cumsum(_check_policy_table(policy, (n_states, n_actions)), axis=1)
    states = _check_indices(start_states, "start_states", n_states).copy()
    gamma = as_float(gamma, "gamma", 0, 1)
    max_steps = as_int(max_steps, "max_steps", 1)
    flat = _flat_table(table)
    returns, lengths = np.zeros(states.size), np.zeros(states.size, dtype=int)
    running = np.arange(states.size)            # indices of the episodes still going
    discounts = np.ones(states.size)            # gamma^t of the running episodes
    for _ in range(max_steps):
        if running.size == 0:
            break
        actions = _sample_from_cumulative(cum_policy, states, rng)
        states, rewards, terminated = _step_flat(flat, n_actions, states, actions, rng)
        returns[running] += discounts * rewards
        lengths[running] += 1
        go_on = ~terminated
        running, states, discounts = running[go_on], states[go_on], discounts[go_on] * gamma
    cut_off = np.zeros(returns.size, dtype=bool)
    cut_off[running] = True
    return returns, lengths, cut_off


# ---------------------------------------------------------------------------------------
# Learning from experience (lesson 02): epsilon-greedy, Q-learning, Sarsa.
#
# The learners share one set-up (`_TrainingRun`: checks, random numbers, the table, the
# bookkeeping) and differ only in their episode loop, so a new one (double Q-learning,
# expected Sarsa, ...) is a new loop over the same pieces: build a `_TrainingRun`, loop
# with `run.env.reset/step`, choose actions with `run.act(state, epsilon)` (or
# `_epsilon_greedy_row(row, epsilon, run.draw)` for a row computed on the fly, e.g. the
# sum of two tables), call `run.end_episode(...)` after each episode and return
# `run.result()`. Both report the table `run.Q`; a learner with two tables can point
# `run.Q` at the one it wants measured and returned. Reuse `_LEARNER_ARGS` for the docs.
# ---------------------------------------------------------------------------------------

EpsilonSchedule = float | Callable[[int], float]


def epsilon_greedy(
    q_values: Sequence[float] | np.ndarray, epsilon: float, rng: np.random.Generator
) -> int:
    """Choose an action epsilon-greedily from one row of a Q table.

    With probability ``epsilon`` take a uniformly random action (explore), otherwise a
    greedy one, ``argmax_a Q(s, a)`` (exploit). If ``k`` actions tie for the maximum,
    the greedy choice is uniform among them, so

    .. math::
        \\pi(a|s) = \\begin{cases}
            \\dfrac{1 - \\varepsilon}{k} + \\dfrac{\\varepsilon}{|\\mathcal{A}|}
                & \\text{if } Q(s, a) = \\max_b Q(s, b) \\\\[4pt]
            \\dfrac{\\varepsilon}{|\\mathcal{A}|} & \\text{otherwise.}
        \\end{cases}

    Why random tie-breaking: a fresh table is all zeros, so every action ties.
    ``np.argmax`` would then always return action 0 -- on FrozenLake "left", into the
    wall -- and a greedy agent would repeat it until a rare exploratory step gets it
    anywhere. Breaking ties at random makes the untrained agent a random walker.

    Exactly two uniform numbers are drawn per call (one to decide explore-or-exploit,
    one to pick the action), so a run is reproducible from ``rng``'s seed.

    Args:
        q_values: the action values ``Q(s, .)`` of one state, shape ``(n_actions,)``.
        epsilon: exploration probability in [0, 1].
        rng: a ``numpy.random.Generator``.

    Returns:
        The chosen action, an ``int`` in ``0 .. n_actions-1``.
    """
    epsilon = as_float(epsilon, "epsilon", 0, 1)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    q_values = np.asarray(q_values, dtype=float)
    if q_values.ndim != 1 or q_values.size == 0 or np.isnan(q_values).any():
        raise ValueError(
            f"q_values must be a non-empty 1-D array of numbers (one per action), got {q_values!r}"
        )
    explore_draw, pick_draw = rng.random(2)
    if explore_draw < epsilon:
        return int(pick_draw * q_values.size)  # explore: any action, uniformly
    best_actions = np.flatnonzero(q_values == q_values.max())
    return int(best_actions[int(pick_draw * best_actions.size)])  # exploit, ties at random


def linear_decay(start: float, end: float, n_episodes: int) -> Callable[[int], float]:
    """A schedule ``episode -> value`` that goes linearly from ``start`` to ``end``.

    .. math:: \\varepsilon(k) = \\text{start} + (\\text{end} - \\text{start}) \\min(1, k / n)

    It reaches ``end`` at episode ``n_episodes`` and stays there. Pass it as the
    ``epsilon`` of :func:`q_learning` or :func:`sarsa` for a decaying exploration rate.
    """
    start, end = as_float(start, "start"), as_float(end, "end")
    n = as_int(n_episodes, "n_episodes", 1)

    def schedule(episode: int) -> float:
        return start + (end - start) * min(1.0, episode / n)

    return schedule


@dataclass
class TabularResult:
    """What :func:`q_learning` and :func:`sarsa` return.

    Attributes:
        Q: the learned table, shape ``(n_states, n_actions)``.
        returns: sum of rewards of each training episode, shape ``(n_episodes,)``.
        lengths: number of steps of each training episode, shape ``(n_episodes,)``.
        epsilons: the exploration rate used in each episode, shape ``(n_episodes,)``.
        q_errors: ``max |Q - Q*|`` after each episode, over the states where the agent
            acts (terminal and unreachable states left out), shape ``(n_episodes,)``;
            ``None`` unless ``q_star`` was given.
    """

    Q: np.ndarray
    returns: np.ndarray
    lengths: np.ndarray
    epsilons: np.ndarray
    q_errors: np.ndarray | None = None


def agent_rng(seed: int) -> np.random.Generator:
    """The generator :func:`q_learning` and :func:`sarsa` draw the agent's choices from.

    It is seeded from ``seed`` but independent of the environment's generator, which
    ``env.reset(seed=seed)`` seeds with the same number: a loop that calls
    ``epsilon_greedy(Q[s], epsilon, agent_rng(seed))`` with ``env.reset(seed=seed)`` and
    ``env.step`` makes exactly the choices the learners make.
    """
    seed = as_int(seed, "seed", 0)
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])


def _uniform_draws(rng: np.random.Generator, block_size: int = 4096) -> Callable[[], float]:
    """A function returning the next uniform number in [0, 1) from ``rng``.

    It returns exactly the numbers that successive ``rng.random()`` calls would (a
    Generator fills a block in the same order), fetched in blocks: several times
    faster in a Python loop.
    """
    blocks = iter(lambda: rng.random(block_size).tolist(), None)   # an endless stream of blocks
    return itertools.chain.from_iterable(blocks).__next__


def _epsilon_greedy_row(q_row: list[float], epsilon: float, draw: Callable[[], float]) -> int:
    """:func:`epsilon_greedy` for a row kept as a Python list: same draws, same action."""
    explore_draw = draw()
    pick_draw = draw()
    if explore_draw < epsilon:
        return int(pick_draw * len(q_row))
    best_value = max(q_row)
    n_best = q_row.count(best_value)
    if n_best == 1:
        return q_row.index(best_value)
    best_actions = [a for a, q in enumerate(q_row) if q == best_value]
    return best_actions[int(pick_draw * n_best)]


class _ModelSimulator:
    """The environment stepped from its own model ``env.unwrapped.P``, in plain Python.

    Gymnasium's toy-text environments pick the outcome of a step (and the start state
    of an episode) as the first one whose cumulative probability exceeds one uniform
    draw from their generator. This class builds the same cumulative probabilities and
    draws from a generator seeded exactly as ``env.reset(seed=seed)`` seeds theirs, so
    it produces the same transitions as ``env.step`` -- without the wrapper stack,
    several times faster. The time limit is applied as gymnasium's ``TimeLimit``
    does: ``truncated`` once ``max_episode_steps`` steps have been taken.
    """

    def __init__(self, env: Any, seed: int, max_episode_steps: int | None) -> None:
        unwrapped = env.unwrapped
        initial = getattr(unwrapped, "initial_state_distrib", None)
        if not isinstance(getattr(unwrapped, "P", None), dict) or initial is None:
            raise ValueError(
                "backend='model' needs env.unwrapped.P and env.unwrapped.initial_state_distrib "
                "(gymnasium's toy-text environments have both); use backend='env' otherwise"
            )
        # outcomes[s][a] = (cumulative probabilities, next states, rewards, terminated flags)
        self.outcomes = [
            [
                (
                    np.cumsum([p for p, _, _, _ in unwrapped.P[s][a]]).tolist(),
                    [int(s2) for _, s2, _, _ in unwrapped.P[s][a]],
                    [float(r) for _, _, r, _ in unwrapped.P[s][a]],
                    [bool(done) for _, _, _, done in unwrapped.P[s][a]],
                )
                for a in range(env.action_space.n)
            ]
            for s in range(env.observation_space.n)
        ]
        self.initial_cumulative = np.cumsum(initial).tolist()
        self.draw = _uniform_draws(seeding.np_random(seed)[0])
        self.max_episode_steps = max_episode_steps
        self.state = 0
        self.t = 0

    @staticmethod
    def _sample(cumulative: list[float], u: float) -> int:
        """``np.argmax(cumulative > u)``: the first index above ``u``, or 0 if none is."""
        for i, c in enumerate(cumulative):
            if c > u:
                return i
        return 0

    def reset(self) -> int:
        self.state = self._sample(self.initial_cumulative, self.draw())
        self.t = 0
        return self.state

    def step(self, action: int) -> tuple[int, float, bool, bool]:
        cumulative, next_states, rewards, terminals = self.outcomes[self.state][action]
        u = self.draw()                   # drawn even for a sure outcome, as env.step does
        i = 0
        for c in cumulative:              # _sample, inlined: this runs once per step
            if c > u:
                break
            i += 1
        else:
            i = 0
        self.state = next_states[i]
        self.t += 1
        truncated = self.max_episode_steps is not None and self.t >= self.max_episode_steps
        return self.state, rewards[i], terminals[i], truncated


class _EnvStepper:
    """The gymnasium environment itself, with the same interface as ``_ModelSimulator``."""

    def __init__(self, env: Any, seed: int, max_episode_steps: int | None) -> None:
        self.env = env
        self.seed: int | None = seed  # only the first reset takes the seed
        self.max_episode_steps = max_episode_steps
        self.t = 0

    def reset(self) -> int:
        state, _ = self.env.reset(seed=self.seed)
        self.seed = None
        self.t = 0
        return int(state)

    def step(self, action: int) -> tuple[int, float, bool, bool]:
        state, reward, terminated, truncated, _ = self.env.step(action)
        self.t += 1
        if self.max_episode_steps is not None and self.t >= self.max_episode_steps:
            truncated = True
        return int(state), float(reward), bool(terminated), bool(truncated)


def _acting_states(env: Any, n_states: int) -> np.ndarray:
    """Mask of the states where the agent has to act: reachable from a start state
    without terminating. Terminal states (FrozenLake's holes and goal) and states no
    transition enters (CliffWalking's cliff cells) are left out. All states when the
    environment has no model."""
    unwrapped = getattr(env, "unwrapped", env)
    P = getattr(unwrapped, "P", None)
    initial = getattr(unwrapped, "initial_state_distrib", None)
    if not isinstance(P, dict) or initial is None:
        return np.ones(n_states, dtype=bool)
    mask = np.zeros(n_states, dtype=bool)
    frontier = [int(s) for s in np.flatnonzero(np.asarray(initial) > 0)]
    mask[frontier] = True
    while frontier:
        s = frontier.pop()
        for outcomes in P[s].values():
            for prob, s_next, _, terminated in outcomes:
                if prob > 0 and not terminated and not mask[s_next]:
                    mask[s_next] = True
                    frontier.append(int(s_next))
    return mask


class _TrainingRun:
    """What every tabular learner shares: checked arguments, the environment (model
    or real), the agent's random numbers, the table and the per-episode records."""

    def __init__(
        self,
        env: Any,
        n_episodes: int,
        alpha: float,
        gamma: float,
        epsilon: EpsilonSchedule,
        seed: int,
        initial_value: float,
        q_star: np.ndarray | None,
        max_episode_steps: int | None,
        backend: str,
    ) -> None:
        observation_space = getattr(env, "observation_space", None)
        action_space = getattr(env, "action_space", None)
        if not (isinstance(observation_space, Discrete) and isinstance(action_space, Discrete)):
            raise ValueError(
                "env must have discrete observation and action spaces (a tabular environment "
                "such as FrozenLake-v1 or CliffWalking-v1), "
                f"got {observation_space} and {action_space}"
            )
        n_episodes = as_int(n_episodes, "n_episodes", 1)
        alpha = as_float(alpha, "alpha", 0, 1, low_open=True)
        self.gamma = as_float(gamma, "gamma", 0, 1, low_open=True)
        if not callable(epsilon):
            epsilon = as_float(epsilon, "epsilon", 0, 1)
        seed = as_int(seed, "seed", 0)
        initial_value = as_float(initial_value, "initial_value")
        if max_episode_steps is None:
            max_episode_steps = getattr(getattr(env, "spec", None), "max_episode_steps", None)
        else:
            max_episode_steps = as_int(max_episode_steps, "max_episode_steps", 1)
        n_states, n_actions = int(observation_space.n), int(action_space.n)
        if q_star is not None:
            q_star = np.asarray(q_star, dtype=float)
            if q_star.shape != (n_states, n_actions):
                raise ValueError(
                    f"q_star must have shape {(n_states, n_actions)} (n_states, n_actions), "
                    f"got {q_star.shape}"
                )
        self.env: _ModelSimulator | _EnvStepper
        if backend == "model":
            self.env = _ModelSimulator(env, int(seed), max_episode_steps)
        elif backend == "env":
            self.env = _EnvStepper(env, int(seed), max_episode_steps)
        else:
            raise ValueError(f"backend must be 'model' or 'env', got {backend!r}")

        self.n_episodes = int(n_episodes)
        self.alpha = float(alpha)
        self._epsilon = epsilon
        self.draw = _uniform_draws(agent_rng(int(seed)))
        # Q[s][a] as rows of Python floats: in a per-step Python loop, scalar NumPy
        # indexing would cost several times more than the arithmetic of the update.
        self.Q = [[float(initial_value)] * n_actions for _ in range(n_states)]
        self.q_star = q_star
        acting = _acting_states(env, n_states)
        # flat indices of the entries Q[s, a] of acting states, to measure max |Q - Q*| fast
        self._acting_entries = np.flatnonzero(np.repeat(acting, n_actions))
        self._q_star_acting = None if q_star is None else q_star.ravel()[self._acting_entries]
        self._n_entries = n_states * n_actions
        self.returns = np.zeros(self.n_episodes)
        self.lengths = np.zeros(self.n_episodes, dtype=int)
        self.epsilons = np.zeros(self.n_episodes)
        self.q_errors = None if q_star is None else np.zeros(self.n_episodes)

    def epsilon_for(self, episode: int) -> float:
        """The exploration rate of ``episode`` (a constant, or the schedule's value)."""
        if not callable(self._epsilon):
            epsilon = self._epsilon
        else:
            epsilon = as_float(self._epsilon(episode), f"epsilon (the schedule's value for "
                               f"episode {episode})", 0, 1)
        self.epsilons[episode] = epsilon
        return epsilon

    def act(self, state: int, epsilon: float) -> int:
        """An epsilon-greedy action in the current table (see :func:`epsilon_greedy`)."""
        return _epsilon_greedy_row(self.Q[state], epsilon, self.draw)

    def end_episode(self, episode: int, episode_return: float, length: int) -> None:
        self.returns[episode] = episode_return
        self.lengths[episode] = length
        if self.q_errors is not None:
            flat_q = np.fromiter(itertools.chain.from_iterable(self.Q), float, self._n_entries)
            error = np.abs(flat_q[self._acting_entries] - self._q_star_acting)
            self.q_errors[episode] = error.max()

    def result(self) -> TabularResult:
        return TabularResult(
            Q=np.array(self.Q),
            returns=self.returns,
            lengths=self.lengths,
            epsilons=self.epsilons,
            q_errors=self.q_errors,
        )


_LEARNER_ARGS = """
    Args:
        env: a gymnasium environment with discrete observation and action spaces.
        n_episodes: number of training episodes, an integer >= 1.
        alpha: learning rate (step size) in (0, 1]: how far each update moves
            ``Q(s, a)`` towards its TD target.
        gamma: discount factor in (0, 1].
        epsilon: exploration rate in [0, 1], or a schedule ``episode -> epsilon``
            (e.g. :func:`linear_decay`) for a rate that changes between episodes.
        seed: non-negative integer; it fixes the environment's random numbers (as
            ``env.reset(seed=seed)`` does) and, independently, the agent's. Same seed,
            same table.
        initial_value: the value every ``Q(s, a)`` starts at; a high value
            ("optimistic initial values") makes untried actions look attractive.
        q_star: optional ``(n_states, n_actions)`` array, e.g. from
            :func:`value_iteration`; ``max |Q - Q*|`` is then recorded after each episode.
        max_episode_steps: time limit of an episode; ``None`` takes the environment's
            own (``env.spec.max_episode_steps``, e.g. 100 on FrozenLake-v1, none on
            CliffWalking-v1). A step that hits it is *truncated*: the update still
            bootstraps from the next state, because the MDP itself goes on.
        backend: ``"model"`` (default) steps the environment's own model
            ``env.unwrapped.P`` in plain Python -- the same transitions and random
            numbers as ``env.step``, several times faster; ``"env"`` calls
            ``env.reset``/``env.step`` (for environments without a model).

    Returns:
        A :class:`TabularResult`: the table, and per episode the return, the length,
        the epsilon used and (with ``q_star``) the error to ``Q*``.

    Raises:
        ValueError: for an argument outside the range given above, or a
            non-discrete environment.
"""


def q_learning(
    env: Any,
    n_episodes: int,
    alpha: float,
    gamma: float,
    epsilon: EpsilonSchedule,
    seed: int,
    *,
    initial_value: float = 0.0,
    q_star: np.ndarray | None = None,
    max_episode_steps: int | None = None,
    backend: Literal["model", "env"] = "model",
) -> TabularResult:
    """Tabular Q-learning (Watkins, 1989): off-policy TD control.

    After each step ``(s, a, r, s')`` of an epsilon-greedy behaviour policy:

    .. math::
        \\underbrace{r + \\gamma \\max_{a'} Q(s', a')}_{\\text{TD target}}
        - Q(s, a) = \\delta \\quad\\text{(TD error)}, \\qquad
        Q(s, a) \\leftarrow Q(s, a) + \\alpha\\, \\delta

    If ``s'`` is terminal the target is just ``r`` (nothing follows a terminal
    state). The target uses the *greedy* action in ``s'`` whatever the agent does
    next, so Q-learning learns ``Q*`` while it explores.
    """
    run = _TrainingRun(
        env, n_episodes, alpha, gamma, epsilon, seed,
        initial_value, q_star, max_episode_steps, backend,
    )
    Q, alpha, gamma = run.Q, run.alpha, run.gamma
    for episode in range(run.n_episodes):
        epsilon_now = run.epsilon_for(episode)
        s = run.env.reset()
        episode_return, t, done = 0.0, 0, False
        while not done:
            a = run.act(s, epsilon_now)
            s_next, r, terminated, truncated = run.env.step(a)
            # TD target: reward plus the discounted value of the best next action
            # (no bootstrap from a terminal state; a truncated step does bootstrap).
            td_target = r if terminated else r + gamma * max(Q[s_next])
            td_error = td_target - Q[s][a]
            Q[s][a] += alpha * td_error
            episode_return += r
            t += 1
            s = s_next
            done = terminated or truncated
        run.end_episode(episode, episode_return, t)
    return run.result()


def sarsa(
    env: Any,
    n_episodes: int,
    alpha: float,
    gamma: float,
    epsilon: EpsilonSchedule,
    seed: int,
    *,
    initial_value: float = 0.0,
    q_star: np.ndarray | None = None,
    max_episode_steps: int | None = None,
    backend: Literal["model", "env"] = "model",
) -> TabularResult:
    """Sarsa (Rummery & Niranjan, 1994): on-policy TD control.

    The same update as :func:`q_learning` with a different TD target: the value of the
    action ``a'`` the epsilon-greedy policy *actually takes next* in ``s'``
    (the quintuple S, A, R, S', A' gives the name):

    .. math::
        \\delta = r + \\gamma\\, Q(s', a') - Q(s, a), \\qquad
        Q(s, a) \\leftarrow Q(s, a) + \\alpha\\, \\delta

    Sarsa therefore learns the value of the exploring policy it follows, exploration
    mistakes included; Q-learning learns the value of the greedy policy.
    """
    run = _TrainingRun(
        env, n_episodes, alpha, gamma, epsilon, seed,
        initial_value, q_star, max_episode_steps, backend,
    )
    Q, alpha, gamma = run.Q, run.alpha, run.gamma
    for episode in range(run.n_episodes):
        epsilon_now = run.epsilon_for(episode)
        s = run.env.reset()
        a = run.act(s, epsilon_now)
        episode_return, t, done = 0.0, 0, False
        while not done:
            s_next, r, terminated, truncated = run.env.step(a)
            if terminated:
                td_target = r
            else:
                a_next = run.act(s_next, epsilon_now)  # the action Sarsa will really take
                td_target = r + gamma * Q[s_next][a_next]
            td_error = td_target - Q[s][a]
            Q[s][a] += alpha * td_error
            episode_return += r
            t += 1
            done = terminated or truncated
            if not done:
                s, a = s_next, a_next
        run.end_episode(episode, episode_return, t)
    return run.result()


# Both learners take the same arguments; document them once.
q_learning.__doc__ = (q_learning.__doc__ or "") + _LEARNER_ARGS
sarsa.__doc__ = (sarsa.__doc__ or "") + _LEARNER_ARGS


# ---------------------------------------------------------------------------------------
# Double Q-learning (lesson 07): the same set-up, two tables.
# ---------------------------------------------------------------------------------------

__all__ += ["double_q_learning"]


def double_q_learning(
    env: Any,
    n_episodes: int,
    alpha: float,
    gamma: float,
    epsilon: EpsilonSchedule,
    seed: int,
    *,
    initial_value: float = 0.0,
    q_star: np.ndarray | None = None,
    max_episode_steps: int | None = None,
    backend: Literal["model", "env"] = "model",
) -> TabularResult:
    """Double Q-learning (van Hasselt, 2010; Sutton & Barto, section 6.7).

    Q-learning's target ``max_a' Q(s', a')`` uses the same noisy estimates to *choose*
    the best next action and to *evaluate* it, so it is biased upwards (maximization
    bias). Double Q-learning keeps two tables and uses one to choose, the other to
    evaluate. The agent acts epsilon-greedily on ``Q1 + Q2``; after each step
    ``(s, a, r, s')``, with probability 1/2 it updates ``Q1``:

    .. math::
        a^* = \\arg\\max_{a'} Q_1(s', a'), \\qquad
        \\delta = r + \\gamma\\, Q_2(s', a^*) - Q_1(s, a), \\qquad
        Q_1(s, a) \\leftarrow Q_1(s, a) + \\alpha\\, \\delta

    and otherwise the same with ``Q1`` and ``Q2`` swapped. As in :func:`q_learning`,
    the target after a terminal step is just ``r`` and a truncated step bootstraps.
    Ties in ``argmax`` go to the lowest action index.

    Random numbers: per step, the two draws of the epsilon-greedy choice (as in
    :func:`q_learning`), then, after the environment step, one draw ``u`` from the
    agent's generator: ``u < 0.5`` updates ``Q1``, otherwise ``Q2``.

    The returned ``Q`` (and ``q_errors``) is the average ``(Q1 + Q2) / 2``: both tables
    estimate ``Q*``, and the agent's greedy policy, ``argmax (Q1 + Q2)``, is greedy
    with respect to their average.
    """
    run = _TrainingRun(
        env, n_episodes, alpha, gamma, epsilon, seed,
        initial_value, q_star, max_episode_steps, backend,
    )
    Q1 = run.Q
    Q2 = [list(row) for row in Q1]
    alpha, gamma, draw = run.alpha, run.gamma, run.draw

    def average() -> list[list[float]]:
        return [[(q1 + q2) / 2 for q1, q2 in zip(row1, row2, strict=True)]
                for row1, row2 in zip(Q1, Q2, strict=True)]

    for episode in range(run.n_episodes):
        epsilon_now = run.epsilon_for(episode)
        s = run.env.reset()
        episode_return, t, done = 0.0, 0, False
        while not done:
            q_sum = [q1 + q2 for q1, q2 in zip(Q1[s], Q2[s], strict=True)]
            a = _epsilon_greedy_row(q_sum, epsilon_now, draw)
            s_next, r, terminated, truncated = run.env.step(a)
            # One table chooses the next action, the other evaluates it; a fair coin
            # decides which table is updated (and so which one chooses).
            chooser, evaluator = (Q1, Q2) if draw() < 0.5 else (Q2, Q1)
            if terminated:
                td_target = r
            else:
                next_row = chooser[s_next]
                best_next = next_row.index(max(next_row))  # argmax, lowest index on ties
                td_target = r + gamma * evaluator[s_next][best_next]
            td_error = td_target - chooser[s][a]
            chooser[s][a] += alpha * td_error
            episode_return += r
            t += 1
            s = s_next
            done = terminated or truncated
        if run.q_errors is not None:
            run.Q = average()  # the errors are measured on the average of the two tables
        run.end_episode(episode, episode_return, t)
    run.Q = average()
    return run.result()


double_q_learning.__doc__ = (double_q_learning.__doc__ or "") + _LEARNER_ARGS
