"""How often does ``check_q_learning_run`` fail a *correct* agent? A measurement.

Lesson 02's learner trains Q-learning on the slippery 4x4 FrozenLake (alpha 0.1, gamma
0.99, 3,000 episodes, epsilon from 1 to 0.05 over the first 1,500, the 100-step limit)
with their own functions, and the check judges the exact 100-step success rate of the
learned greedy policy. A correct agent's result depends only on its random numbers, and
correct implementations consume them in different orders, so the question is: over the
random numbers, how likely is a correct agent to fail the rule (median of 5 seeds at
least ``optimal - RUN_MARGIN``)?

Three sources of correct runs, pooled:

- ``--vectorised N``: N runs of a NumPy simulation that steps many agents at once through
  the environment's model ``env.unwrapped.P`` (the same dynamics as ``env.step``, its own
  order of random numbers); fast, for the tail;
- ``--helpers N``: ``helpers.tabular.q_learning`` on seeds 0..N-1;
- ``--real N``: the notebook's loop itself (gymnasium's ``env.step``) with three correct
  epsilon-greedy functions that draw their random numbers in different orders, N seeds each.

Runs with different seeds are independent, so the rule fails with probability
``P(Binomial(5, p) >= 3)``, where ``p`` is the chance that one run ends below the margin;
the script prints ``p`` per source, pooled, with a 95 % upper bound, and that probability.

    .venv/bin/python tools/run_check_false_failures.py --vectorised 8192 --helpers 1000 --real 100

takes about 20 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
from math import comb

import gymnasium as gym
import numpy as np

from helpers.checks import RUN_MARGIN, RUN_SEEDS
from helpers.tabular import (
    finite_horizon_evaluation,
    greedy_policy,
    linear_decay,
    q_learning,
    tabular_model,
    value_iteration,
)

N_EPISODES, DECAY, ALPHA, GAMMA, EPS_END, LIMIT = 3_000, 1_500, 0.1, 0.99, 0.05, 100


def lake() -> gym.Env:
    return gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True)


def successes(tables: np.ndarray) -> np.ndarray:
    """Exact 100-step success of the greedy policy of each table, shape (n, 16, 4) -> (n,)."""
    T, R = tabular_model(lake())
    n_states = T.shape[0]
    actions = tables.argmax(axis=2)  # first index on ties, as greedy_policy
    T_pi = T[np.arange(n_states)[None, :], actions]  # (n, S, S)
    R_pi = R[np.arange(n_states)[None, :], actions]  # (n, S)
    V = np.zeros(R_pi.shape)
    for _ in range(LIMIT):
        V = R_pi + np.einsum("nij,nj->ni", T_pi, V)
    return V[:, 0]


def vectorised(n_runs: int, seed: int) -> np.ndarray:
    """n_runs independent Q-learning runs stepped together through the model."""
    P = lake().unwrapped.P
    n_states, n_actions = len(P), len(P[0])
    next_state = np.zeros((n_states, n_actions, 3), dtype=np.int64)
    reward = np.zeros((n_states, n_actions, 3))
    terminal = np.zeros((n_states, n_actions, 3), dtype=bool)
    for s in range(n_states):
        for a in range(n_actions):
            outcomes = P[s][a] * (3 // len(P[s][a]))  # three equally likely outcomes
            for k, (_, s2, r, d) in enumerate(outcomes):
                next_state[s, a, k], reward[s, a, k], terminal[s, a, k] = s2, r, d
    rng = np.random.default_rng(seed)
    Q = np.zeros((n_runs, n_states, n_actions))
    state = np.zeros(n_runs, dtype=np.int64)
    t = np.zeros(n_runs, dtype=np.int64)
    episode = np.zeros(n_runs, dtype=np.int64)
    active = np.ones(n_runs, dtype=bool)
    while active.any():
        ids = np.flatnonzero(active)
        s = state[ids]
        epsilon = 1.0 + (EPS_END - 1.0) * np.minimum(1.0, episode[ids] / DECAY)
        q = Q[ids, s]
        ties = q == q.max(axis=1, keepdims=True)
        greedy = (rng.random(q.shape) * ties).argmax(axis=1)  # uniform among exact ties
        explore = rng.random(ids.size) < epsilon
        a = np.where(explore, rng.integers(n_actions, size=ids.size), greedy)
        k = rng.integers(3, size=ids.size)
        s2, r, d = next_state[s, a, k], reward[s, a, k], terminal[s, a, k]
        target = r + GAMMA * np.where(d, 0.0, Q[ids, s2].max(axis=1))
        Q[ids, s, a] += ALPHA * (target - Q[ids, s, a])
        t[ids] += 1
        done = d | (t[ids] >= LIMIT)
        state[ids] = np.where(done, 0, s2)
        t[ids] = np.where(done, 0, t[ids])
        episode[ids] += done
        active[ids] = episode[ids] < N_EPISODES
    return successes(Q)


def update(Q, state, action, reward, next_state, terminated, alpha, gamma):
    td_target = reward if terminated else reward + gamma * Q[next_state].max()
    td_error = td_target - Q[state, action]
    Q[state, action] += alpha * td_error
    return td_error


def coin_first(q, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(q.size))
    return int(rng.choice(np.flatnonzero(q == q.max())))


def action_first(q, epsilon, rng):
    random_action = int(rng.choice(q.size))
    if rng.uniform() < epsilon:
        return random_action
    return int(rng.choice(np.flatnonzero(q == q.max())))


def permutation(q, epsilon, rng):
    order = rng.permutation(q.size)
    best = int(order[np.argmax(q[order])])
    return int(rng.integers(q.size)) if rng.random() < epsilon else best


def notebook_loop(seed: int, choose) -> np.ndarray:
    """The lesson's my_q_learning, with `choose` as the learner's epsilon-greedy."""
    env, rng = lake(), np.random.default_rng(seed)
    Q = np.zeros((16, 4))
    schedule = linear_decay(1.0, EPS_END, DECAY)
    for episode in range(N_EPISODES):
        state, _ = env.reset(seed=seed if episode == 0 else None)
        done = False
        while not done:
            action = choose(Q[state], schedule(episode), rng)
            next_state, reward, terminated, truncated, _ = env.step(action)
            update(Q, state, action, reward, next_state, terminated, ALPHA, GAMMA)
            state, done = next_state, terminated or truncated
    return Q


def rule_fails(p: float) -> float:
    need = RUN_SEEDS // 2 + 1
    return sum(comb(RUN_SEEDS, j) * p**j * (1 - p) ** (RUN_SEEDS - j)
               for j in range(need, RUN_SEEDS + 1))


def wilson_upper(failures: int, n: int, z: float = 1.96) -> float:
    p = failures / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre + spread) / (1 + z * z / n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vectorised", type=int, default=8192)
    parser.add_argument("--helpers", type=int, default=1000)
    parser.add_argument("--real", type=int, default=100)
    args = parser.parse_args()
    _, q_star = value_iteration(lake(), GAMMA)
    optimal = finite_horizon_evaluation(lake(), greedy_policy(q_star), LIMIT)[0]
    floor = optimal - RUN_MARGIN
    sources = {}
    if args.vectorised:
        sources["vectorised simulation"] = np.concatenate(
            [vectorised(min(4096, args.vectorised - i), seed=1000 + i // 4096)
             for i in range(0, args.vectorised, 4096)])
    if args.helpers:
        sources["helpers.tabular.q_learning"] = successes(np.array([
            q_learning(lake(), N_EPISODES, ALPHA, GAMMA, linear_decay(1.0, EPS_END, DECAY),
                       seed).Q for seed in range(args.helpers)]))
    for choose in (coin_first, action_first, permutation) if args.real else ():
        sources[f"notebook loop, {choose.__name__}"] = successes(np.array(
            [notebook_loop(seed, choose) for seed in range(args.real)]))
    sources["pooled"] = np.concatenate(list(sources.values()))
    print(f"optimal success {optimal:.4f}; rule: median of {RUN_SEEDS} seeds >= {floor:.4f}")
    for name, x in sources.items():
        below = int((x < floor).sum())
        p, p_up = below / len(x), wilson_upper(below, len(x))
        print(f"{name:38s} {len(x):6d} runs: below optimal - 0.1 {np.mean(x < optimal - 0.1):.3f}, "
              f"below the floor {p:.4f} (95 % up to {p_up:.4f}), success < 0.05 "
              f"{np.mean(x < 0.05):.4f}; the rule fails a correct agent with probability "
              f"{rule_fails(p):.1e} (95 % up to {rule_fails(p_up):.1e})")


if __name__ == "__main__":
    main()
